"""Interrupted builds and damaged state: the last good site and state stay, the next run works.

Builds run as real ``sitegen build`` processes, signalled while they fetch (from a loopback
stack that answers slowly) or while they render (once pages appear in the staging folder).
"""

from __future__ import annotations

import asyncio
import json
import shutil
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


def _titles(site: Path) -> list[tuple]:
    """The stored entries by what a page shows (their hashes also cover stack timestamps)."""
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    try:
        query = "SELECT content_type, uid, locale, json_extract(data, '$.title') FROM entries"
        return sorted(db.execute(query).fetchall())
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


# Runs ``sitegen build`` with os.replace wrapped: once the first file of the new site has been
# moved in place (an incremental build's overlay, or a full build's staging folder), the process
# signals itself, so the signal lands between the site's moves and the state's commit.
SIGNAL_MID_COMMIT = """
import os, signal, sys
marker, sig = sys.argv[1], getattr(signal, sys.argv[2])
real = os.replace
fired = []
def replace(src, dst, *args, **kwargs):
    real(src, dst, *args, **kwargs)
    if marker in os.fspath(src) and not fired:
        fired.append(1)
        os.kill(os.getpid(), sig)
os.replace = replace
from sitegen.cli import cli
cli(sys.argv[3:], prog_name="sitegen")
"""


@pytest.mark.parametrize(
    ("full", "sig", "code"),
    [(False, "SIGTERM", 143), (False, "SIGINT", 130), (True, "SIGTERM", 143)],
)
def test_a_signal_while_the_new_site_goes_in_place_finishes_it_first(
    tmp_path: Path, full, sig, code
):
    site = make_site(tmp_path / "site")
    build_site(load_config(site, env={}))
    old_site, old_state = tree(site / "public"), _state(site)
    post = site / "stack/entries/post/post1.en-us.json"
    write_json(post, {**json.loads(post.read_text()), "title": "Changed"})
    twin = tmp_path / "twin"  # the same change built without any signal
    shutil.copytree(site, twin)
    build_site(load_config(twin, env={}), full=full)
    new_site, new_titles = tree(twin / "public"), _titles(twin)
    assert new_site != old_site and ("post", "post1", "en-us", "Changed") in new_titles

    marker = ".public.staging-" if full else ".public.overlay-"
    args = ["build", str(site), "-q", *(["--full"] if full else [])]
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_MID_COMMIT, marker, sig, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert "the build finished, then stopped" in done.stderr
    assert "Traceback" not in done.stderr
    # all of the new site, with the state that describes it: never a mix of old and new
    assert tree(site / "public") == new_site
    assert _titles(site) == new_titles and _state(site)[0] != old_state[0]
    report = json.loads((site / ".sitegen/last-build.json").read_text())
    assert "posts/post-1/index.html" in report["changed"]
    assert _leftovers(site) == []
    again = build_site(load_config(site, env={}))
    assert again.kind == "incremental" and again.written == 0


def test_signals_at_any_moment_leave_the_old_or_the_new_site_with_its_state(tmp_path: Path):
    site = make_site(tmp_path / "site", posts=40)
    build_site(load_config(site, env={}))
    saved = tmp_path / "saved"
    shutil.copytree(site, saved)
    old = tree(site / "public"), _titles(site)
    post = site / "stack/entries/post/post1.en-us.json"
    write_json(post, {**json.loads(post.read_text()), "title": "Changed"})
    build_site(load_config(site, env={}))
    new = tree(site / "public"), _titles(site)

    def restore() -> None:
        for name in ("public", ".sitegen"):
            shutil.rmtree(site / name)
            shutil.copytree(saved / name, site / name)

    restore()
    started = time.monotonic()
    _start(site).communicate(timeout=120)  # how long the build takes here, unsignalled
    span = time.monotonic() - started
    assert (tree(site / "public"), _titles(site)) == new
    outcomes = []
    for delay in [span * step / 8 for step in range(8)]:
        restore()
        process = _start(site)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        now = tree(site / "public"), _titles(site)
        # -15: the signal came before sitegen's handler was set, or as Python exited
        assert process.returncode in (0, 143, -15), err
        assert "Traceback" not in err
        assert now in (old, new), f"signalled after {delay:.2f} s: a mix of old and new"
        assert _leftovers(site) == []
        outcomes.append("new" if now == new else "old")
    print(f"signalled at 8 moments over {span:.1f} s: {outcomes}")
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
