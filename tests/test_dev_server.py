"""``sitegen dev``: serving, rebuilding on change, live reload and the error overlay.

The browser test drives headless Chromium (tests/browser.py) against a DevServer on port 0;
the others use plain HTTP. Every wait is a poll with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sitegen.server.dev import EVENTS_PATH, SCRIPT_PATH, DevServer
from sitegen.stack.app import create_app
from tests.browser import browser_page
from tests.sites import API_KEY, TOKEN, make_site, serve_app

WAIT = 10.0  # seconds: the bound on any one wait (a rebuild takes well under one)
NOT_FOUND_PAGE = "<!doctype html><html><title>Lost</title><body><h1>Nothing here</h1></body></html>"


def _site(tmp_path: Path) -> Path:
    site = make_site(tmp_path / "site")
    (site / "static" / "css").mkdir(parents=True)
    (site / "static" / "css" / "site.css").write_text("h1 { color: teal }\n", encoding="utf-8")
    (site / "static" / "404.html").write_text(NOT_FOUND_PAGE, encoding="utf-8")
    return site


@contextmanager
def dev_server(site: Path) -> Iterator[DevServer]:
    printed: list[tuple[str, bool]] = []
    server = DevServer(
        site, port=0, env={}, echo=lambda message="", err=False: printed.append((message, err))
    )
    server.printed = printed  # type: ignore[attr-defined]
    server.start()
    try:
        assert server.wait_for_builds(1, WAIT), "the first build did not finish"
        assert server.last_error is None, server.last_error
        yield server
    finally:
        server.stop()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


class HeldStack:
    """The local stack on a loopback port behind a network that holds every request until
    ``release()``: a stack as slow as a test needs, the dev server's first build waiting on it."""

    def __init__(self, stack_dir: Path):
        self.app = create_app(stack_dir)
        self.released = threading.Event()
        self.held = 0  # requests that waited

    def release(self) -> None:
        self.released.set()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and not self.released.is_set():
            self.held += 1
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        await self.app(scope, receive, send)


def _unexpected(problems: list[str]) -> list[str]:
    """A page's problems but the favicon, event streams cut by a reload, and the building
    page's 503 (the console line for a 4xx/5xx names no URL: its response does)."""
    return [
        p
        for p in problems
        if "favicon.ico" not in p
        and EVENTS_PATH not in p
        and not p.startswith("Failed to load resource: the server responded with a status")
        and not p.startswith("503: ")
    ]


def _poll(check: Callable[[], object], what: str, timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _first_event(url: str) -> dict:
    """The state the event stream sends first to a page that connects."""
    with httpx.stream("GET", url + EVENTS_PATH.lstrip("/"), timeout=WAIT) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                return json.loads(line[len("data: ") :])
    raise AssertionError("the event stream ended without data")


def _raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET with the request target sent as is (no client-side normalization of ``..``)."""
    host, port = httpx.URL(url).host, httpx.URL(url).port
    conn = http.client.HTTPConnection(host, port, timeout=WAIT)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- in a browser ---------------------------------------------------------------------------------


def test_pages_reload_on_change_and_show_build_errors(tmp_path: Path):
    site = _site(tmp_path)
    template = site / "templates" / "post.html"
    config = site / "sitegen.toml"
    good_config = config.read_text(encoding="utf-8")
    with browser_page() as page, dev_server(site) as server:  # skips first
        from playwright.sync_api import expect

        ms = WAIT * 1000
        page.goto(server.url + "posts/post-0/")
        heading = page.locator("main > h1")
        overlay = page.locator("sitegen-error-overlay")
        expect(heading).to_have_text("Post 0")

        # a template change shows up without anyone reloading the page
        _edit(template, "<h1>", "<h1>Fresh: ")
        expect(heading).to_have_text("Fresh: Post 0", timeout=ms)

        # a syntax error: the overlay names the template; the last good page stays underneath
        _edit(template, "{% block main %}", "{% block main %}{% if <b>oops</b> %}")
        expect(overlay).to_be_visible(timeout=ms)
        expect(overlay.locator("pre")).to_contain_text("templates/post.html:1", timeout=ms)
        expect(overlay.locator("pre")).to_contain_text("unexpected '<'")
        expect(heading).to_have_text("Fresh: Post 0")

        # the fix removes the overlay and brings the new text
        _edit(template, "{% if <b>oops</b> %}", "")
        _edit(template, "<h1>Fresh: ", "<h1>Fixed: ")
        expect(heading).to_have_text("Fixed: Post 0", timeout=ms)
        expect(overlay).to_have_count(0)

        # an invalid sitegen.toml is reported the same way, its message shown as text
        config.write_text(good_config + '\n[site."<b>bold</b>"]\n', encoding="utf-8")
        expect(overlay.locator("pre")).to_contain_text("<b>bold</b>", timeout=ms)
        expect(overlay.locator("pre")).to_contain_text("sitegen.toml")
        expect(overlay.locator("b")).to_have_count(0)
        expect(heading).to_have_text("Fixed: Post 0")

        # restoring it changes no page: the overlay goes without a reload
        page.evaluate("window.sitegenMarker = 42")
        config.write_text(good_config, encoding="utf-8")
        expect(overlay).to_have_count(0, timeout=ms)
        assert page.evaluate("window.sitegenMarker") == 42

        # no script errors; no failed request but the favicon (the site has none) and event
        # streams cut by a reload (the console line for a 4xx names no URL: its response does)
        problems = [
            p
            for p in page.problems  # type: ignore[attr-defined]
            if "favicon.ico" not in p
            and EVENTS_PATH not in p
            and not p.startswith("Failed to load resource: the server responded with a status")
        ]
        assert problems == []
    errors = [m for m, err in server.printed if err and "error: " in m]  # type: ignore[attr-defined]
    assert len(errors) == 2 and all("\n" not in m for m in errors), errors
    assert "templates/post.html:1: template syntax error: unexpected '<'" in errors[0]
    assert "sitegen.toml" in errors[1] and "is not a known setting" in errors[1]


def test_the_first_build_shows_a_building_page_that_turns_into_the_site(tmp_path: Path):
    stack_site = make_site(tmp_path / "stack-site")
    stack = HeldStack(stack_site / "stack")
    with serve_app(stack) as stack_url, browser_page() as page:  # skips first
        from playwright.sync_api import expect

        site = make_site(
            tmp_path / "site",
            stack_toml=f'host = "{stack_url}"\napi_key = "{API_KEY}"\n'
            f'delivery_token = "{TOKEN}"\nenvironment = "production"\n',
        )
        (site / "static/css").mkdir(parents=True)
        (site / "static/css/site.css").write_text("h1 { color: teal }\n", encoding="utf-8")
        server = DevServer(site, port=0, env={}, echo=lambda message="", err=False: None)
        server.start()
        try:
            ms = WAIT * 1000
            _poll(lambda: stack.held, "the first build to ask the stack")
            response = page.goto(server.url)
            assert response is not None and response.status == 503
            assert response.headers["retry-after"] == "1"
            expect(page.locator("h1")).to_have_text("Building Fixture…")
            expect(page.locator("body")).to_contain_text(str(site.resolve()))
            expect(page.locator("#sitegen-phase")).to_contain_text("Pulling content")
            expect(page.locator("#sitegen-failed")).to_be_hidden()

            # what is not a page gets a short 503 too, never the site's 404
            css = httpx.get(server.url + "css/site.css", headers={"Accept": "text/css"})
            assert css.status_code == 503 and css.headers["retry-after"] == "1"
            assert css.text.startswith("sitegen is building the site (Pulling content")

            # the stack answers, the build ends: the home page replaces the building page
            stack.release()
            expect(page.locator("main > h1")).to_have_text("Home", timeout=ms)
            assert page.url == server.url
            assert server.last_error is None and server.builds == 1
            assert httpx.get(server.url + "css/site.css").status_code == 200
            assert httpx.get(server.url + "nope").status_code == 404
            assert _unexpected(page.problems) == []  # type: ignore[attr-defined]
        finally:
            stack.release()
            server.stop()


def test_a_failed_first_build_shows_its_error_until_a_fix_builds(tmp_path: Path):
    site = _site(tmp_path)
    template = site / "templates" / "post.html"
    _edit(template, "{% block main %}", "{% block main %}{% if <b>oops</b> %}")
    printed: list[str] = []
    server = DevServer(
        site, port=0, env={}, echo=lambda message="", err=False: printed.append(message)
    )
    with browser_page() as page:  # skips first
        from playwright.sync_api import expect

        server.start()
        try:
            ms = WAIT * 1000
            response = page.goto(server.url + "posts/post-1/")
            assert response is not None and response.status == 503
            failed = page.locator("#sitegen-failed")
            expect(failed).to_be_visible(timeout=ms)
            expect(failed.locator("pre")).to_contain_text("templates/post.html:1")
            expect(failed.locator("pre")).to_contain_text("unexpected '<'")
            expect(failed.locator("b")).to_have_count(0)  # the message is text, not markup
            expect(page.locator("#sitegen-phase")).to_have_text(
                "Waiting for a change to build again"
            )
            assert "Traceback" not in page.content()
            # a new load shows the same, from the server
            response = page.reload()
            assert response is not None and response.status == 503
            expect(failed.locator("pre")).to_contain_text("unexpected '<'")

            _edit(template, "{% if <b>oops</b> %}", "")
            expect(page.locator("main > h1")).to_have_text("Post 1", timeout=ms)
            assert page.url == server.url + "posts/post-1/"
            assert _unexpected(page.problems) == []  # type: ignore[attr-defined]
        finally:
            server.stop()
    assert not [m for m in printed if "Traceback" in m]


# -- over plain HTTP ------------------------------------------------------------------------------


def test_pretty_urls_404_page_and_script_only_when_served(tmp_path: Path):
    site = _site(tmp_path)
    with dev_server(site) as server, httpx.Client(base_url=server.url, timeout=WAIT) as client:
        home = client.get("/")
        assert home.status_code == 200 and "<h1>Home</h1>" in home.text
        assert home.headers["content-type"] == "text/html; charset=utf-8"
        assert f'<script src="{SCRIPT_PATH}" data-generation="' in home.text
        assert home.text.rstrip().endswith("</script></html>")

        pages = [
            client.get(p) for p in ("/posts/post-1", "/posts/post-1/", "/posts/post-1/index.html")
        ]
        assert all(r.status_code == 200 for r in pages)
        assert all("<h1>Post 1</h1>" in r.text for r in pages)
        assert "<h1>Accueil</h1>" in client.get("/fr").text

        css = client.get("/css/site.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.text == "h1 { color: teal }\n"

        for missing in ("/nope", "/posts/post-9/", "/css/", "/posts/post-1/index.html/x"):
            response = client.get(missing)
            assert response.status_code == 404, missing
            assert "<h1>Nothing here</h1>" in response.text and SCRIPT_PATH in response.text

        script = client.get(SCRIPT_PATH)
        assert script.status_code == 200 and "EventSource" in script.text
        assert client.head("/posts/post-1").status_code == 200

        # the files written are exactly what `sitegen build` writes
        files = [p for p in (site / "public").rglob("*") if p.is_file()]
        assert len(files) > 8
        assert not [p for p in files if b"__sitegen" in p.read_bytes()]

        # without the site's own 404.html, the build writes the package's default one
        (site / "static" / "404.html").unlink()
        generated = site / "public" / "404.html"
        _poll(lambda: "Page not found" in generated.read_text(), "the default 404.html")
        response = client.get("/nope")
        assert response.status_code == 404 and "<h1>Page not found</h1>" in response.text

        # without a 404.html in the output at all: the server's built-in page, still 404
        generated.unlink()
        response = client.get("/nope")
        assert response.status_code == 404 and "404: not found" in response.text


def test_nothing_outside_the_output_folder_is_served(tmp_path: Path):
    site = _site(tmp_path)
    (tmp_path / "secret.txt").write_text("TOPSECRET", encoding="utf-8")
    with dev_server(site) as server:
        output = site / "public"
        (output / "leak.txt").symlink_to(tmp_path / "secret.txt")
        (output / "leakdir").symlink_to(tmp_path, target_is_directory=True)
        (output / "alias.html").symlink_to(output / "index.html")  # inside: fine
        for target in (
            "/../secret.txt",
            "/../../secret.txt",
            "/posts/../../../secret.txt",
            "/../sitegen.toml",
            "/%2e%2e/%2e%2e/secret.txt",
            "/..%2f..%2fsecret.txt",
            "/..%5c..%5csecret.txt",
            "/posts%2f..%2f..%2f..%2fsecret.txt",
            "/leak.txt",
            "/leakdir/secret.txt",
            "/%00",
        ):
            status, body = _raw_get(server.url, target)
            assert status == 404, target
            assert b"TOPSECRET" not in body and b"[stack]" not in body, target
        status, body = _raw_get(server.url, "/alias.html")
        assert status == 200 and b"<h1>Home</h1>" in body


def test_stack_edits_rebuild_and_bursts_coalesce(tmp_path: Path):
    site = _site(tmp_path)
    entry = site / "stack" / "entries" / "post" / "post1.en-us.json"
    with dev_server(site) as server, httpx.Client(base_url=server.url, timeout=WAIT) as client:
        data = json.loads(entry.read_text(encoding="utf-8"))
        data["title"] = "Post 1, edited in the stack folder"
        entry.write_text(json.dumps(data), encoding="utf-8")
        _poll(
            lambda: (
                "<h1>Post 1, edited in the stack folder</h1>" in client.get("/posts/post-1/").text
            ),
            "the edited entry to be served",
        )
        assert "Post 1, edited in the stack folder</a>" in client.get("/").text  # the list too
        _poll(
            lambda: any(
                " Incremental build: 1 entry changed → " in m and "\n" not in m
                for m, err in server.printed  # type: ignore[attr-defined]
            ),
            "a one-line summary of the rebuild",
        )

        # ten saves in a row: a build or two, not ten
        before = server.builds
        template = site / "templates" / "page.html"
        for i in range(10):
            _edit(template, "<h1>" if i == 0 else f"<h1>v{i - 1} ", f"<h1>v{i} ")
        _poll(lambda: "<h1>v9 Home</h1>" in client.get("/").text, "the last save to be served")
        assert server.wait_for_builds(before + 1, WAIT)
        assert server.builds - before <= 3


def test_a_broken_config_keeps_the_last_good_site(tmp_path: Path):
    site = _site(tmp_path)
    config = site / "sitegen.toml"
    good = config.read_text(encoding="utf-8")
    with dev_server(site) as server, httpx.Client(base_url=server.url, timeout=WAIT) as client:
        before = server.builds
        config.write_text(good + "\n[site\n", encoding="utf-8")
        assert server.wait_for_builds(before + 1, WAIT)
        state = _first_event(server.url)
        assert "sitegen.toml: not valid TOML" in state["error"]
        assert "<h1>Home</h1>" in client.get("/").text

        config.write_text(good, encoding="utf-8")
        _poll(lambda: _first_event(server.url)["error"] is None, "the error to clear")
        assert "<h1>Home</h1>" in client.get("/").text


def test_stop_ends_streams_threads_and_the_port(tmp_path: Path):
    site = _site(tmp_path)
    ended = threading.Event()

    def listen(url: str) -> None:
        with httpx.stream("GET", url + EVENTS_PATH.lstrip("/"), timeout=WAIT) as response:
            for _ in response.iter_lines():
                pass
        ended.set()

    with dev_server(site) as server:
        url = server.url
        listener = threading.Thread(target=listen, args=(url,), daemon=True)
        listener.start()
        _poll(lambda: server.hub.listeners, "the event stream to connect")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5
    assert ended.wait(WAIT), "the event stream was not closed"
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sitegen-dev")]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_cli_prints_the_url_and_stops_on_ctrl_c(tmp_path: Path):
    site = _site(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "dev", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Serving ") and "(Ctrl-C to stop)" in first, first
        url = first.split(" at ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        assert "Full build: 8 pages rendered" in process.stdout.readline()
        assert httpx.get(url, timeout=WAIT).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
