"""Live Preview: the local stack's editing sessions by hash, ``sitegen preview serve`` rendering
the page an editor is changing on each request, and an editor's iframe in Chromium."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from sitegen.config import load_config
from sitegen.errors import SitegenError
from sitegen.server.preview import PreviewSite, create_app, serve
from sitegen.stack import create_app as stack_app
from tests.browser import browser_page, serve_folder
from tests.stack_fixtures import read_json, write_json
from tests.test_stack_pull import copy_example_site

POST = "typography-for-forms"
POST_URL = f"/blog/{POST}/"
HASH = "a1b2c3-session"


def session_edit(site: Path, hash_: str, content_type: str, uid: str, **fields: object) -> None:
    """What the entry editor holds for an entry under a session hash (the local stack's form)."""
    base = read_json(site / f"stack/entries/{content_type}/{uid}.en-us.json")
    write_json(
        site / f"stack/live_preview/{hash_}/{content_type}/{uid}.en-us.json", {**base, **fields}
    )


@contextmanager
def running(app: object) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[tuple[Path, PreviewSite]]:
    site = copy_example_site(tmp_path / "site")
    # a stand-in for live-preview-utils (tests cannot reach esm.sh): it records its settings
    (site / "static/lp-stub.js").write_text(
        "export default { init(settings) { window.livePreview = settings; } };\n"
    )
    config = site / "sitegen.toml"
    config.write_text(config.read_text() + '\n[preview]\nlive_script = "/lp-stub.js"\n')
    started = PreviewSite(load_config(site, env={}))
    started.start()
    try:
        yield site, started
    finally:
        started.close()


def test_an_editing_session_is_rendered_on_request_with_edit_tags(preview):
    site, started = preview
    session_edit(site, HASH, "blog_post", POST, title="Typography, rethought")
    with running(create_app(started)) as url:
        live = httpx.get(
            f"{url}{POST_URL}",
            params={
                "live_preview": HASH,
                "content_type_uid": "blog_post",
                "entry_uid": POST,
                "locale": "en-us",
            },
        )
        saved = httpx.get(f"{url}{POST_URL}")
        other = httpx.get(f"{url}{POST_URL}", params={"live_preview": "another-session"})
        css = httpx.get(f"{url}/css/site.css")
    assert live.status_code == 200 and live.headers["cache-control"] == "no-store"
    assert f'data-cslp="blog_post.{POST}.en-us.title">Typography, rethought</h1>' in live.text
    assert "Typography for forms</h1>" in saved.text  # no hash: the preview build's page
    assert "Typography for forms</h1>" in other.text  # a session with no edits: the saved draft
    for response in (live, saved):
        assert '<script type="module" data-sitegen-live-preview>' in response.text
        assert '"stackDetails": {"apiKey": "local_example_key", "environment": "production"}' in (
            response.text
        )
        assert '"ssr": true' in response.text and "local-preview" not in response.text
    assert css.status_code == 200 and "data-sitegen-live-preview" not in css.text
    # production output never has any of it
    public = (site / "public").exists() and (site / "public" / POST_URL.strip("/") / "index.html")
    assert not public or "data-cslp" not in public.read_text()


def test_bad_requests_get_a_clear_page_never_a_traceback_or_a_secret(preview):
    site, started = preview
    template = site / "templates/blog_post.html"
    with running(create_app(started)) as url:
        missing = httpx.get(f"{url}/no/such/page/")
        (site / f"stack/entries/blog_post/{POST}.en-us.json").unlink()
        gone = httpx.get(f"{url}{POST_URL}", params={"live_preview": HASH})
        template.write_text("{{ entry.title.nope() }}")
        author = "/authors/aiko-tanaka/"
        author_template = site / "templates/author.html"
        author_template.write_text("{{ entry.title.nope() }}")
        failed = httpx.get(f"{url}{author}", params={"live_preview": HASH})
    assert missing.status_code == 404 and "There is no such page" in missing.text
    assert gone.status_code == 404 and "This entry is not in the preview" in gone.text
    assert failed.status_code == 500 and "This page&#x27;s template failed" in failed.text
    assert "templates/author.html:1" in failed.text and "Traceback" not in failed.text
    for response in (missing, gone, failed):
        assert HASH not in response.text and "local-preview" not in response.text


def test_a_password_guards_a_preview_server_off_loopback(preview):
    _, started = preview
    with running(create_app(started, password="s3cret")) as url:
        refused = httpx.get(url + "/")
        allowed = httpx.get(url + "/", auth=("editor", "s3cret"))
        wrong = httpx.get(url + "/", auth=("editor", "nope"))
    assert refused.status_code == 401 and "basic" in refused.headers["www-authenticate"].lower()
    assert allowed.status_code == 200 and wrong.status_code == 401
    with pytest.raises(SitegenError, match="is not loopback"):
        serve(started.config, "0.0.0.0", 0, None)


def test_in_a_browser_the_editors_iframe_follows_the_session(preview, tmp_path):
    site, started = preview
    session_edit(site, HASH, "blog_post", POST, title="First draft title")
    with running(create_app(started)) as url:
        editor = tmp_path / "editor"
        editor.mkdir()
        query = f"live_preview={HASH}&content_type_uid=blog_post&entry_uid={POST}&locale=en-us"
        (editor / "index.html").write_text(
            '<!doctype html><title>Entry editor</title><link rel="icon" href="data:,">'
            f'<iframe id="site" src="{url}{POST_URL}?{query}" width="1000" height="800"></iframe>'
        )
        with serve_folder(editor) as editor_url, browser_page() as page:
            page.goto(editor_url + "/", wait_until="networkidle")
            frame = page.frame_locator("#site")
            assert frame.locator("h1").first.text_content() == "First draft title"
            # the editor types: a new hash holds the change, and the iframe is reloaded with it
            session_edit(site, "second-hash", "blog_post", POST, title="Second draft title")
            page.evaluate(
                "src => { document.getElementById('site').src = src; }",
                f"{url}{POST_URL}?{query.replace(HASH, 'second-hash')}",
            )
            heading = frame.locator("h1").first
            heading.wait_for()
            deadline = time.monotonic() + 10
            while heading.text_content() != "Second draft title":
                assert time.monotonic() < deadline, heading.text_content()
                time.sleep(0.1)
            tags = frame.locator("[data-cslp]").evaluate_all(
                "els => els.map(e => [e.tagName, e.getAttribute('data-cslp')])"
            )
            author = read_json(site / f"stack/entries/blog_post/{POST}.en-us.json")["author"][0]
            assert ["H1", f"blog_post.{POST}.en-us.title"] in tags
            assert ["DIV", f"blog_post.{POST}.en-us.body"] in tags  # the RTE field
            assert ["A", f"author.{author['uid']}.en-us.title"] in tags  # a referenced entry's
            settings = frame.locator("body").evaluate("() => window.livePreview")
            assert (
                settings["ssr"] is True
                and settings["stackDetails"]["apiKey"] == "local_example_key"
            )
            # a nested group field, on the home page
            page.evaluate("src => { document.getElementById('site').src = src; }", f"{url}/")
            frame.locator(".hero .eyebrow").first.wait_for()
            hero = frame.locator("[data-cslp='home.home.en-us.hero.heading']")
            assert hero.count() == 1
            assert page.problems == []


def test_the_stack_serves_a_session_only_to_preview_requests_carrying_its_hash(tmp_path):
    site = copy_example_site(tmp_path / "site")
    session_edit(site, HASH, "blog_post", POST, title="Unsaved")

    async def titles() -> list[str]:
        app = stack_app(site / "stack", history_path=tmp_path / "h.sqlite")
        transport = httpx.ASGITransport(app=app)
        found = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://stack") as client:
                for headers in (
                    {"preview_token": "t", "live_preview": HASH},  # the session
                    {"preview_token": "t", "live_preview": "unknown"},  # the saved draft
                    {"preview_token": "t"},
                    {"access_token": "local_example_token", "live_preview": HASH},  # delivery
                ):
                    response = await client.get(
                        f"/v3/content_types/blog_post/entries/{POST}",
                        params={"environment": "production"},
                        headers={"api_key": "local_example_key", **headers},
                    )
                    found.append(response.json()["entry"]["title"])
        finally:
            app.state.service.close()
        return found

    assert asyncio.run(titles()) == [
        "Unsaved",
        "Typography for forms",
        "Typography for forms",
        "Typography for forms",
    ]


def test_a_malformed_session_file_is_named(tmp_path):
    site = copy_example_site(tmp_path / "site")
    bad = site / "stack/live_preview/h/blog_post/typography-for-forms.xx-yy.json"
    write_json(bad, {"title": "x"})

    async def ask() -> dict:
        app = stack_app(site / "stack", history_path=tmp_path / "h.sqlite")
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://stack"
            ) as client:
                response = await client.get(
                    f"/v3/content_types/blog_post/entries/{POST}",
                    params={"environment": "production"},
                    headers={
                        "api_key": "local_example_key",
                        "preview_token": "t",
                        "live_preview": "h",
                    },
                )
                return response.json()
        finally:
            app.state.service.close()

    body = asyncio.run(ask())
    assert (
        str(bad) in body["error_message"] and "<entry_uid>.<locale>.json" in body["error_message"]
    )


def test_timeline_and_session_go_to_the_preview_api_as_headers(tmp_path):
    """A Timeline preview's preview_timestamp and release_id travel as headers, as the
    delivery SDK sends them; the token goes only to the stack."""
    site = copy_example_site(tmp_path / "site")
    seen: list[dict[str, str]] = []
    stack = stack_app(site / "stack", history_path=tmp_path / "h.sqlite")

    async def recording(scope, receive, send):  # the local stack, with its requests noted
        if scope["type"] == "http":
            seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await stack(scope, receive, send)

    started = PreviewSite(load_config(site, env={}), transport=httpx.ASGITransport(app=recording))
    started.start()
    try:
        with running(create_app(started)) as url:
            seen.clear()
            answer = httpx.get(
                f"{url}{POST_URL}",
                params={
                    "live_preview": HASH,
                    "preview_timestamp": "2026-12-24T00:00:00.000Z",
                    "release_id": "blt_release",
                },
            )
    finally:
        started.close()
        stack.state.service.close()
    assert answer.status_code == 200
    (request,) = seen
    assert request["live_preview"] == HASH and request["preview_token"]
    assert request["preview_timestamp"] == "2026-12-24T00:00:00.000Z"
    assert request["release_id"] == "blt_release"
