"""Builds under a faulty network: each fault kind × full and incremental builds.

The local stack answers some requests with a fault (sitegen/stack/faults.py). A build must then
either produce exactly what a fault-free build of the same content produces (output tree and
stored content), or stop with a one-line error after bounded retries and leave the previous
site and state as they were. After every run the store is compared with what the stack serves
(after a failed run, once a fault-free build has caught up): no sync item may be skipped.

Most cases run in-process against a stack configured as a remote host (not loopback), so the
full build's initial sync starts 10 minutes back and pages through the fixture (which has more
than 100 items); a few run over a real loopback port, where drops and cut bodies are real.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sitegen.build import BuildResult, build_site
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.errors import SitegenError
from sitegen.source.cda import CDAClient
from sitegen.stack.app import create_app
from sitegen.stack.faults import NEVER, Faults, Schedule
from sitegen.store import entry_hash
from tests.sites import API_KEY, TOKEN, make_site, serve_app, write_json
from tests.test_build import tree

REMOTE = "http://stack.invalid"  # served in-process, but not on this machine's clock
FILLERS = 110  # teams nobody references: enough sync items for two pages
MAX_TRIES = 3
STATE = ".sitegen/store.sqlite"


def stack_toml(host: str, timeout: float = 5.0) -> str:
    return (
        f'host = "{host}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
        f'environment = "production"\nmax_tries = {MAX_TRIES}\ntimeout = {timeout}\n'
    )


def new_site(root: Path, host: str, timeout: float = 5.0) -> Path:
    """Site a (built under faults) and twin b (the same stack and templates, fault-free)."""
    site = make_site(root / "a", posts=3, stack_toml=stack_toml(host, timeout))
    for i in range(FILLERS):
        write_json(site / f"stack/entries/team/filler{i:03d}.en-us.json", {"title": f"Team {i}"})
    make_site(root / "b", stack_toml='local = "../a/stack"\nenvironment = "production"\n')
    return site


def edit(site: Path) -> None:
    """Edits that reach pages (a post changed, added, removed) and 100+ sync items."""
    entries = site / "stack/entries"
    post = entries / "post/post0.en-us.json"
    write_json(post, {**_read(post), "title": "Post 0, edited"})
    write_json(
        entries / "post/post9.en-us.json",
        {
            "title": "Post 9",
            "url": "/posts/post-9/",
            "author": [{"uid": "ada", "_content_type_uid": "author"}],
            "created_at": "2024-03-01T00:00:00.000Z",
            "updated_at": "2024-03-01T00:00:00.000Z",
        },
    )
    (entries / "post/post1.en-us.json").unlink()
    for i in range(FILLERS):
        write_json(entries / f"team/filler{i:03d}.en-us.json", {"title": f"Team {i}, renamed"})


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def build(site: Path, transport: httpx.AsyncBaseTransport | None, full: bool) -> BuildResult:
    return build_site(load_config(site, env={}), full=full, transport=transport, jobs=1)


# -- what is compared -----------------------------------------------------------------------------


def stored_entries(site: Path) -> dict[tuple[str, str, str], str]:
    with sqlite3.connect(f"file:{site / STATE}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT content_type, uid, locale, hash FROM entries").fetchall()
    return {(ct, uid, loc): h for ct, uid, loc, h in rows}


def state_dump(site: Path) -> list[str]:
    """Everything in the state database (to see that a failed build changed nothing)."""
    db = sqlite3.connect(f"file:{site / STATE}?mode=ro", uri=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def served_entries(site: Path) -> dict[tuple[str, str, str], str]:
    """What the stack serves now, with the build's include parameters, fault-free."""
    config = load_config(site, env={})
    transport = httpx.ASGITransport(app=create_app(site / "stack"))

    async def pull() -> dict[tuple[str, str, str], str]:
        found = {}
        async with CDAClient(config.stack, transport=transport) as cda:
            for ct in await cda.content_types():
                for loc in config.locales:
                    async for page in cda.entry_pages(ct["uid"], loc.code):
                        for e in page:
                            found[(ct["uid"], e["uid"], loc.code)] = entry_hash(ct["uid"], e)
        return found

    return asyncio.run(pull())


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@dataclass
class Snapshot:
    """The previous site and state, to compare with after a failed build."""

    files: dict[str, str]
    times: dict[str, int]
    beside: list[str]
    state: list[str]

    @classmethod
    def take(cls, site: Path) -> Snapshot:
        return cls(
            tree(site / "public"),
            mtimes(site / "public"),
            sorted(p.name for p in site.iterdir()),
            state_dump(site),
        )


def assert_clear_error(err: BaseException) -> None:
    assert isinstance(err, SitegenError), f"not a sitegen error: {err!r}"
    message = str(err)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("GET /v3/"), message  # names the request that failed
    assert "check" in message or "build again" in message, message  # and what to do
    assert API_KEY not in message and TOKEN not in message


def check_run(
    site: Path,
    faults: Faults,
    *,
    expect_error: bool,
    full: bool,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Build under faults; compare with the fault-free twin, or check nothing moved."""
    before = Snapshot.take(site)
    started = time.monotonic()
    try:
        result = build(site, transport, full)
    except SitegenError as err:
        error: SitegenError | None = err
    else:
        error = None
    seconds = time.monotonic() - started
    assert faults.injected, "the fault never happened: this case tests nothing"
    faults.stop()  # fault-free from here on
    twin = build_site(load_config(site.parent / "b", env={}), full=True, jobs=1)
    assert twin.kind == "full"
    if expect_error:
        assert error is not None, f"expected a clear error, the build succeeded: {result}"
        assert_clear_error(error)
        assert seconds < 20, f"retries are not bounded: {seconds:.1f} s"
        after = Snapshot.take(site)
        assert after == before, "a failed build changed the previous site or state"
        result = build(site, transport, full)  # the next good build catches up
        assert result.kind == ("full" if full else "incremental")
    else:
        assert error is None, f"expected success, got: {error}"
        if not full:  # a fault that retries absorb does not cost a full build
            assert result.kind == "incremental", result.warnings
    assert tree(site / "public") == tree(site.parent / "b/public")
    assert stored_entries(site) == stored_entries(site.parent / "b")
    assert stored_entries(site) == served_entries(site)


# -- the matrix, in-process -----------------------------------------------------------------------


ALWAYS = Schedule(rate=1.0)
ERROR = {"full": "error", "incremental": "error"}
# kind: (a fault that retries get past, a fault that never stops, the outcomes of the latter)
KINDS: dict[str, tuple[Callable[[], Faults], Callable[[], Faults], dict[str, str]]] = {
    "rate_limit": (
        lambda: Faults(rate_limit=Schedule(nth=(2, 3)), retry_after=0.01),
        lambda: Faults(rate_limit=ALWAYS, retry_after=0.01),
        ERROR,
    ),
    "server_error": (  # 500, 502, 503 and 504 in turn
        lambda: Faults(server_error=Schedule(nth=(1, 2, 5, 6))),
        lambda: Faults(server_error=ALWAYS),
        ERROR,
    ),
    "slow": (  # in-process there is no socket timeout: slow is only slow (see loopback below)
        lambda: Faults(slow=Schedule(nth=(1, 3)), delay=0.3),
        lambda: Faults(slow=ALWAYS, delay=0.01),
        {"full": "ok", "incremental": "ok"},
    ),
    "drop": (lambda: Faults(drop=Schedule(nth=(2, 4))), lambda: Faults(drop=ALWAYS), ERROR),
    "truncate_length": (
        lambda: Faults(truncate=Schedule(nth=(2, 4))),
        lambda: Faults(truncate=ALWAYS),
        ERROR,
    ),
    "truncate_json": (
        lambda: Faults(truncate=Schedule(nth=(2, 4)), truncate_mode="json"),
        lambda: Faults(truncate=ALWAYS, truncate_mode="json"),
        ERROR,
    ),
    # a full build that cannot finish its initial sync still builds, without a sync token
    "expired_pagination": (
        lambda: Faults(expired_pagination=Schedule(nth=(1,))),
        lambda: Faults(expired_pagination=ALWAYS),
        {"full": "ok", "incremental": "error"},
    ),
    "duplicate_sync_page": (
        lambda: Faults(duplicate_sync_page=Schedule(nth=(1,))),
        lambda: Faults(duplicate_sync_page=ALWAYS),
        {"full": "ok", "incremental": "error"},
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site built once, fault-free, that each case copies (with its stack and history)."""
    root = tmp_path_factory.mktemp("faults-base")
    site = new_site(root, REMOTE)
    result = build(site, httpx.ASGITransport(app=create_app(site / "stack")), full=False)
    assert result.kind == "full" and result.pages == 8
    return root


@pytest.mark.parametrize("build_kind", ["full", "incremental"])
@pytest.mark.parametrize("persistent", [False, True], ids=["passing", "persistent"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_fault_matrix(
    built: Path, tmp_path: Path, kind: str, persistent: bool, build_kind: str
) -> None:
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    site = tmp_path / "a"
    passing, never_stops, outcomes = KINDS[kind]
    faults = never_stops() if persistent else passing()
    transport = httpx.ASGITransport(app=create_app(site / "stack", faults=faults))
    edit(site)
    check_run(
        site,
        faults,
        expect_error=persistent and outcomes[build_kind] == "error",
        full=build_kind == "full",
        transport=transport,
    )


def test_a_full_build_without_sync_token_says_so_and_the_next_build_is_full(built, tmp_path):
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    site = tmp_path / "a"
    faults = Faults(expired_pagination=ALWAYS)
    transport = httpx.ASGITransport(app=create_app(site / "stack", faults=faults))
    result = build(site, transport, full=True)
    assert any("Sync API refused the initial sync" in w for w in result.warnings), result.warnings
    assert faults.count("expired_pagination") == 3  # the first try and two restarts
    faults.expired_pagination = NEVER
    again = build(site, transport, full=False)
    assert again.kind == "full" and any("no sync token" in w for w in again.warnings)


def test_duplicate_page_is_skipped_not_applied_twice(built, tmp_path):
    """The walk notices the page it already had (same pagination token) and asks again."""
    shutil.copytree(built, tmp_path, dirs_exist_ok=True)
    site = tmp_path / "a"
    faults = Faults(duplicate_sync_page=Schedule(nth=(1,)))
    transport = httpx.ASGITransport(app=create_app(site / "stack", faults=faults))
    edit(site)
    result = build(site, transport, full=False)
    assert faults.count("duplicate_sync_page") == 1
    pages = [r for r in faults.seen if "pagination_token=" in r]
    assert len(pages) == 2 and pages[0] == pages[1]  # the same token, asked for again
    assert result.kind == "incremental"
    assert stored_entries(site) == served_entries(site)


# -- over a real loopback port ------------------------------------------------------------------


@contextmanager
def loopback_site(root: Path, faults: Faults, timeout: float = 5.0) -> Iterator[Path]:
    """A site whose stack is served, with ``faults``, on a loopback port; built once, edited."""
    site = new_site(root, "http://127.0.0.1:1", timeout)  # the port is set below
    with serve_app(create_app(site / "stack", faults=faults)) as url:
        toml = site / "sitegen.toml"
        toml.write_text(toml.read_text().replace("http://127.0.0.1:1", url))
        assert build(site, None, full=False).kind == "full"
        edit(site)
        yield site


LOOPBACK: dict[str, tuple[dict[str, object], float]] = {
    # a real socket closed without an answer, a body cut short, an answer after the timeout
    "drop": ({"drop": Schedule(nth=(2,))}, 5.0),
    "truncate": ({"truncate": Schedule(nth=(2,))}, 5.0),
    "slow": ({"slow": Schedule(nth=(2,)), "delay": 1.5}, 0.8),
}


@pytest.mark.parametrize("build_kind", ["full", "incremental"])
@pytest.mark.parametrize("kind", list(LOOPBACK))
def test_loopback_faults_are_retried(tmp_path: Path, kind: str, build_kind: str) -> None:
    settings, timeout = LOOPBACK[kind]
    faults = Faults()
    with loopback_site(tmp_path, faults, timeout) as site:
        for name, value in settings.items():
            setattr(faults, name, value)
        check_run(site, faults, expect_error=False, full=build_kind == "full")


@pytest.mark.parametrize(
    ("kind", "said"),
    [("drop", "connection failed"), ("truncate", "connection failed"), ("slow", "timed out")],
)
def test_cli_reports_a_failing_stack_in_one_line_and_keeps_the_site(
    tmp_path: Path, kind: str, said: str
) -> None:
    timeout = LOOPBACK[kind][1]
    faults = Faults()
    with loopback_site(tmp_path, faults, timeout) as site:
        setattr(faults, kind, ALWAYS)
        faults.delay = 1.5
        before = Snapshot.take(site)
        outcome = CliRunner().invoke(cli, ["build", "-q", str(site)])
        assert faults.count(kind) >= MAX_TRIES
        assert outcome.exit_code == 1
        lines = outcome.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: GET /v3/"), outcome.stderr
        assert f"failed after {MAX_TRIES} tries: {said}" in lines[0], lines[0]
        assert "Traceback" not in outcome.output + outcome.stderr
        assert Snapshot.take(site) == before
        faults.stop()
        assert build(site, None, full=False).kind == "incremental"
    assert stored_entries(site) == served_entries(site)


# -- the fault layer itself -----------------------------------------------------------------------


def _get_all(app: object, paths: list[str]) -> list[tuple[int, bytes]]:
    async def go() -> list[tuple[int, bytes]]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"api_key": API_KEY, "access_token": TOKEN}
        async with httpx.AsyncClient(transport=transport, base_url=REMOTE, headers=headers) as http:
            answers = []
            for path in paths:
                try:
                    response = await http.get(path)
                except httpx.TransportError:
                    answers.append((0, b""))
                else:
                    answers.append((response.status_code, response.content))
            return answers

    return asyncio.run(go())


PATHS = [
    "/v3/content_types",
    "/v3/content_types/post/entries?environment=production&locale=fr-fr&include_fallback=true",
    "/v3/assets?environment=production",
] * 4


def test_faults_off_change_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    plain = _get_all(create_app(site / "stack"), PATHS)
    faults = Faults()
    assert _get_all(create_app(site / "stack", faults=faults), PATHS) == plain
    assert all(status == 200 for status, _ in plain) and not faults.injected


def test_a_seed_makes_the_same_requests_fail(tmp_path: Path) -> None:
    site = make_site(tmp_path)

    def run(seed: int) -> list[int]:
        faults = Faults(server_error=Schedule(rate=0.5), seed=seed)
        answers = _get_all(create_app(site / "stack", faults=faults), PATHS)
        assert faults.count("server_error") == sum(s >= 500 for s, _ in answers)
        return [status for status, _ in answers]

    first = run(seed=3)
    assert run(seed=3) == first
    assert {500, 200} <= set(first)  # some failed, some did not
    assert run(seed=4) != first


def test_a_duplicate_is_always_the_page_just_before_even_after_a_slow_answer(tmp_path):
    """The injector's own promise: a repeated page is the one whose token was just followed
    (a slow answer is remembered too, so an older page is never passed off as the repeat)."""
    site = new_site(tmp_path, REMOTE)
    for i in range(FILLERS, 2 * FILLERS):  # a third sync page
        write_json(site / f"stack/entries/team/filler{i:03d}.en-us.json", {"title": f"T {i}"})
    faults = Faults(slow=Schedule(nth=(2,)), duplicate_sync_page=Schedule(nth=(2,)), delay=0.01)
    app = create_app(site / "stack", faults=faults)
    headers = {"api_key": API_KEY, "access_token": TOKEN}
    served: list[tuple[str | None, str | None]] = []  # (token asked for, token handed out)

    async def walk() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=REMOTE) as client:
            query = {"init": "true", "environment": "production"}
            for _ in range(10):
                body = (await client.get("/v3/stacks/sync", params=query, headers=headers)).json()
                served.append((query.get("pagination_token"), body.get("pagination_token")))
                if not body.get("pagination_token"):
                    return
                query = {"pagination_token": body["pagination_token"]}

    asyncio.run(walk())
    assert faults.count("slow") == 1 and faults.count("duplicate_sync_page") == 1
    handed_before: list[str | None] = []
    repeats = 0
    for asked, handed in served:
        if handed is not None and handed == asked:
            repeats += 1  # the page just before, again: it hands out the token just followed
        else:
            assert handed not in handed_before, f"an older page came back: {served}"
        handed_before.append(handed)
    assert repeats == 1 and served[-1][1] is None  # the walk still reached its end
