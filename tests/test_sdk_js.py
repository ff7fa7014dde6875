"""Contentstack's JavaScript SDKs and @contentstack/utils against the local stack.

``tests/js/sdk_checks.mjs`` drives @contentstack/delivery-sdk 5.2.0 and @contentstack/utils
1.9.1, and ``tests/js/legacy_checks.mjs`` the legacy ``contentstack`` 3.27.1 package (all pinned
in ``tests/js/package.json``; ``.ci/run`` installs Node and runs ``npm ci``) over https on a
loopback port, as a Next.js or Node app would. Without Node or the packages the
test is skipped with the reason printed, except under SITEGEN_REQUIRE_NODE=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.stack_fixtures import copy_example_stack
from tests.tls_stack import make_certificates, serve_tls

HERE = Path(__file__).parent / "js"
DELIVERY_SDK_CHECKS = [
    "content types",
    "query with count, limit and skip",
    "where with operators",
    "includeReference sends include[][] and gets the entries",
    "single entry, locale fallback",
    "embedded items render with @contentstack/utils",
    "assets with dimensions",
    "global fields",
    "taxonomies: entries by hierarchy",
    "entry variants by Personalize alias",
    "branches and aliases",
    "sync",
]
LEGACY_SDK_CHECKS = [
    "content types",
    "entries with count, limit and skip (trailing slash)",
    "where, lessThan, containedIn, regex",
    "includeReference",
    "single entry, locale fallback",
    "tags and search",
    "assets with dimensions and metadata",
    "taxonomies: entries by hierarchy",
    "entry variants",
    "last activities",
    "branches and aliases",
    "sync",
]


def node() -> str:
    path = shutil.which("node")
    reason = None
    if path is None:
        reason = "node is not installed (apt-get install nodejs npm)"
    elif not all(
        (HERE / "node_modules" / package).is_dir()
        for package in ("@contentstack/delivery-sdk", "contentstack")
    ):
        reason = f"the SDK is not installed: run `npm ci --prefix {HERE}`"
    if reason:
        if os.environ.get("SITEGEN_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    assert path is not None
    return path


@pytest.mark.parametrize(
    "script, expected",
    [("sdk_checks.mjs", DELIVERY_SDK_CHECKS), ("legacy_checks.mjs", LEGACY_SDK_CHECKS)],
    ids=["delivery-sdk", "legacy-sdk"],
)
def test_the_sdk_sees_a_cda(tmp_path, script, expected, record_property):
    executable = node()
    copy_example_stack(tmp_path / "stack")
    certificates = make_certificates(tmp_path / "tls")
    with serve_tls(tmp_path / "stack", certificates) as served:
        env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(certificates.ca)}
        done = subprocess.run(
            [executable, script, str(served.port)],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    lines = done.stdout.splitlines()
    passed = sum(line.startswith("ok ") for line in lines)
    record_property("summary", f"{script}: {passed} of {len(expected)} checks passed")
    failures = [line for line in lines if line.startswith("FAIL ")]
    assert not failures, "\n".join(failures) + "\n" + done.stderr[-2000:]
    assert [line.removeprefix("ok ") for line in lines if line.startswith("ok ")] == expected
    assert done.returncode == 0, done.stderr[-2000:]
