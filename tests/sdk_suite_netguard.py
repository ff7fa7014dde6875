"""A pytest plugin for the run of the Python SDK's own test suite (``-p sdk_suite_netguard``).

It refuses to resolve any name but loopback ones, so no SDK test can reach Contentstack's
hosts (or any other) from CI, and records each refusal with the test that asked. At the end of
the session it writes, to the JSON file named by ``SDK_SUITE_NETGUARD_REPORT``, those refusals
and the file the ``contentstack`` package was imported from (it must be the unpacked sdist's,
not the one installed in the virtual environment).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1", "ip6-localhost"}
_getaddrinfo = socket.getaddrinfo
_refused: list[dict[str, str]] = []
_current = ["(collection)"]


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name not in LOOPBACK:
        _refused.append({"host": name, "test": _current[0]})
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: non-loopback hosts are refused")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo


def pytest_runtest_setup(item: Any) -> None:
    _current[0] = item.nodeid


def pytest_sessionfinish(session: Any) -> None:
    report = os.environ.get("SDK_SUITE_NETGUARD_REPORT")
    if not report:
        return
    module = sys.modules.get("contentstack")
    with open(report, "w", encoding="utf-8") as out:
        json.dump(
            {"refused": _refused, "contentstack": getattr(module, "__file__", None)},
            out,
            indent=1,
        )
