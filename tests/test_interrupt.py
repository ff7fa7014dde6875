"""Interrupted builds and damaged state: the last good site and state stay, the next run works.

Builds run as real ``sitegen build`` processes, signalled while they fetch (from a loopback
stack that answers slowly) or while they render (once pages appear in the staging folder).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.stack.app import create_app
from tests.sites import API_KEY, TOKEN, make_site, serve_app, write_json
from tests.test_build import tree

SITEGEN = [str(Path(sys.executable).with_name("sitegen"))]


class SlowStack:
    """The local stack over ASGI, holding entry requests while ``slow`` is set."""

    def __init__(self, stack: Path):
        self.app = create_app(stack)
        self.slow = threading.Event()
        self.waiting = threading.Event()  # an entry request is being held

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "/entries" in scope["path"] and self.slow.is_set():
            self.waiting.set()
            while self.slow.is_set():
                await asyncio.sleep(0.05)
        await self.app(scope, receive, send)


def _site(root: Path, url: str, posts: int = 3) -> Path:
    return make_site(
        root,
        posts=posts,
        stack_toml=f'host = "{url}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
        'environment = "production"\n',
    )


def _state(site: Path) -> tuple[str | None, list[tuple]]:
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    try:
        token = db.execute("SELECT value FROM meta WHERE key = 'sync_token'").fetchone()
        rows = db.execute("SELECT content_type, uid, locale, hash FROM entries ORDER BY 1, 2, 3")
        return (token[0] if token else None), rows.fetchall()
    finally:
        db.close()


def _leftovers(site: Path) -> list[str]:
    found = [p.name for p in site.glob(".public.*")]
    found += [p.name for p in (site / ".sitegen").glob("store.sqlite.tmp-*")]
    return found


def _start(site: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*SITEGEN, "build", str(site), "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("sig", "code", "words", "full"),
    [
        (signal.SIGTERM, 143, "SIGTERM: the build stopped", False),
        (signal.SIGINT, 130, "interrupted (Ctrl-C): the build stopped", True),
    ],
)
def test_a_signal_while_fetching_leaves_site_and_state(tmp_path: Path, sig, code, words, full):
    app_holder: dict[str, SlowStack] = {}

    async def app(scope, receive, send):
        await app_holder["app"](scope, receive, send)

    with serve_app(app) as url:
        site = _site(tmp_path / "site", url)
        app_holder["app"] = stack = SlowStack(site / "stack")
        build_site(load_config(site, env={}))
        post = site / "stack/entries/post/post1.en-us.json"
        write_json(post, {**json.loads(post.read_text()), "title": "Changed"})
        before_site, before_state = tree(site / "public"), _state(site)

        stack.slow.set()
        process = _start(site, *(["--full"] if full else []))
        try:
            assert stack.waiting.wait(30), "the build never asked for entries"
            process.send_signal(sig)
            started = time.monotonic()
            _, err = process.communicate(timeout=20)
            assert time.monotonic() - started < 10  # stops within seconds
        finally:
            stack.slow.clear()
            if process.poll() is None:
                process.kill()
        assert process.returncode == code, err
        assert words in err and "Traceback" not in err
        assert tree(site / "public") == before_site
        assert _state(site) == before_state
        assert _leftovers(site) == []
        # the next run completes from the state that was kept, and has the change
        result = build_site(load_config(site, env={}))
        assert "Changed" in (site / "public/posts/post-1/index.html").read_text()
        assert result.kind == "incremental"


def test_a_signal_while_rendering_in_workers_leaves_site_and_state(tmp_path: Path):
    site = make_site(tmp_path / "site", posts=400)  # over the in-process limit: workers render
    build_site(load_config(site, env={}), jobs=1)
    before_site, before_state = tree(site / "public"), _state(site)
    process = _start(site, "--full", "--jobs", "2")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # signal once pages are being written
            staging = list(site.glob(".public.staging-*"))
            if staging and sum(1 for _ in staging[0].rglob("*.html")) >= 20:
                break
            time.sleep(0.02)
        else:
            pytest.fail("no pages were staged")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert "SIGTERM: the build stopped" in err and "Traceback" not in err
    assert tree(site / "public") == before_site
    assert _state(site) == before_state
    assert _leftovers(site) == []
    assert build_site(load_config(site, env={})).kind == "incremental"


@pytest.mark.parametrize("damage", ["garbage", "foreign"])
def test_a_damaged_or_foreign_state_says_run_full_and_full_recovers(tmp_path: Path, damage):
    site = make_site(tmp_path / "site")
    build_site(load_config(site, env={}))
    before = tree(site / "public")
    state = site / ".sitegen/store.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        state.write_bytes(b"this is not a database" * 100)
    else:
        state.unlink()
        other = sqlite3.connect(state)
        other.execute("CREATE TABLE notes (body TEXT)")
        other.commit()
        other.close()
    done = subprocess.run(
        [*SITEGEN, "build", str(site), "-q"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "store.sqlite" in done.stderr and "sitegen build --full" in done.stderr
    assert "Traceback" not in done.stderr
    assert tree(site / "public") == before  # nothing was touched
    assert build_site(load_config(site, env={}), full=True).kind == "full"
    assert tree(site / "public") == before
    assert build_site(load_config(site, env={})).kind == "incremental"


def test_state_from_another_schema_version_is_rebuilt_with_a_warning(tmp_path: Path):
    site = make_site(tmp_path / "site")
    build_site(load_config(site, env={}))
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    result = build_site(load_config(site, env={}))
    assert result.kind == "full"
    assert any("state schema '1'" in w for w in result.warnings)
