"""Headless Chromium (Debian's ``chromium``) driven by Playwright, for what a person sees.

Test tools cannot download browsers here, so Playwright launches the system binary. Where it is
missing the browser tests are skipped with the reason printed, except when
SITEGEN_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system Chromium, or skip (fail in CI) with the reason."""
    path = (
        os.environ.get("SITEGEN_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    reason = None
    if not path:
        reason = "no chromium on PATH (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason:
        if os.environ.get("SITEGEN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    return path  # type: ignore[return-value]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a built site over HTTP on a loopback port (like any static host would)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser_page() -> Iterator[object]:
    """A fresh page in headless Chromium that records console errors and failed requests."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.problems = []  # type: ignore[attr-defined]
            page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))  # type: ignore[attr-defined]
            page.on("pageerror", lambda e: page.problems.append(str(e)))  # type: ignore[attr-defined]
            page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))  # type: ignore[attr-defined]
            page.on(
                "response",
                lambda r: r.status >= 400 and page.problems.append(f"{r.status}: {r.url}"),  # type: ignore[attr-defined]
            )
            yield page
        finally:
            browser.close()
