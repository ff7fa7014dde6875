"""The catalog's fast paths answer exactly like the general one, before and after edits.

A query that pins uids reads just those entries; a long-lived server forgets only what a
rescan found changed. Both are checked against a fresh server whose queries take the general
path (every entry of the content type, filtered), body for body.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sitegen.content import query as query_module
from sitegen.content.query import parse_query, pinned_uids
from sitegen.stack import create_app, load_stack
from sitegen.stack import history as history_module
from sitegen.stack import resolve as resolve_module
from sitegen.stack.history import History
from sitegen.stack.service import StackService
from tests.stack_fixtures import ENV, HEADERS, copy_stack, read_json, write_json

pytestmark = pytest.mark.anyio

FULL = {
    **ENV,
    "include_fallback": "true",
    "include_all": "true",
    "include_all_depth": "2",
    "include_embedded_items[]": "BASE",
    "include_count": "true",
}
SOME = ["post_a", "post_b", "post_c", "post_d", "post_e", "post_f", "ghost"]
QUERIES = [
    {},
    {"rating": {"$gte": 1}},
    {"uid": "post_a"},
    {"uid": {"$eq": "post_b"}},
    {"uid": {"$in": SOME}},
    {"uid": {"$in": SOME}, "rating": {"$gte": 3}},
    {"$and": [{"uid": {"$in": SOME}}, {"uid": {"$ne": "post_b"}}]},
    {"$and": [{"uid": {"$in": SOME}}, {"uid": {"$in": ["post_a", "post_c", "post_e"]}}]},
    {"$or": [{"uid": "post_c"}, {"uid": {"$eq": "post_a"}}]},
    {"$or": [{"uid": "post_c"}, {"rating": 3}]},
    {"uid": {"$in": []}},
    {"uid": {"$in": [1, True, None, "post_b"]}},
    {"uid": 5},
    {"uid": {"$in": SOME, "$nin": ["post_a"]}},
    {"author": {"$in_query": {"uid": {"$in": ["jane", "john"]}, "_content_type_uid": "author"}}},
    {
        "$or": [
            {"author": {"$in_query": {"uid": {"$in": ["john"]}, "_content_type_uid": "author"}}},
            {"related": {"$in_query": {"uid": {"$in": ["post_a"]}}}},
        ]
    },
    {"author": {"$nin_query": {"uid": "jane"}}},
    {"author": {"$in_query": {"name": "Jane"}}},
]
SORTS = [{}, {"asc": "rating"}, {"desc": "title"}]
LOCALES = ["en-us", "fr-fr", "fr-ca"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def stack_dir(tmp_path):
    root = copy_stack(tmp_path)
    # Ties on updated_at, so the uid tie-break of the default order is exercised too.
    for uid, rating in (("post_e", 2), ("post_f", 4)):
        write_json(
            root / f"entries/blog_post/{uid}.en-us.json",
            {
                "title": uid.upper(),
                "url": f"/{uid}",
                "rating": rating,
                "author": [{"uid": "john", "_content_type_uid": "author"}],
                "related": [{"uid": "post_a", "_content_type_uid": "blog_post"}],
                "updated_at": "2020-02-01T00:00:00.000Z",
            },
        )
    return root


@contextmanager
def general_path_only():
    """Make the catalog take the general path: no query pins uids, listings read everything."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            resolve_module.Catalog,
            "_listing",
            lambda catalog, ct, locale, fallback: catalog.entries(ct, locale, fallback),
        )
        mp.setattr(resolve_module, "pinned_uids", lambda *args: None)
        mp.setattr(query_module, "pinned_uids", lambda *args: None)
        yield


class Server:
    """An in-process app over the folder, for as long as the test keeps it."""

    def __init__(self, stack_dir: Path):
        self.app = create_app(stack_dir)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://local-stack",
            headers=HEADERS,
        )

    async def get(self, path: str, **params: str) -> dict:
        response = await self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def rescan(self) -> None:
        await self.get("/v3/content_types")

    async def entries(self, query: dict, locale: str, sort: dict, **page: str) -> dict:
        return await self.get(
            "/v3/content_types/blog_post/entries",
            **FULL,
            locale=locale,
            query=json.dumps(query),
            **sort,
            **page,
        )

    async def close(self) -> None:
        await self.client.aclose()
        self.app.state.service.close()


PAGES = [{"skip": "0", "limit": "3"}, {"skip": "2", "limit": "2"}, {"skip": "5"}]


async def answers(server: Server, queries: list[dict], sorts: list[dict]) -> dict:
    found = {}
    for query in queries:
        for locale in LOCALES:
            for sort in sorts:
                key = (json.dumps(query), locale, json.dumps(sort))
                found[key] = await server.entries(query, locale, sort)
            for page in PAGES if not query else []:
                key = ("{}", locale, json.dumps(page))
                found[key] = await server.entries(query, locale, {}, **page)
    return found


async def assert_same_as_general_path(
    server: Server, stack_dir: Path, queries: list[dict] = QUERIES, sorts: list[dict] = SORTS
) -> None:
    """The long-lived server's answers equal a fresh server's on the general path."""
    await server.rescan()
    fast = await answers(server, queries, sorts)
    with general_path_only():
        reference = Server(stack_dir)
        try:
            slow = await answers(reference, queries, sorts)
        finally:
            await reference.close()
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key], key
    # The answers are not trivially empty.
    assert fast[("{}", "fr-ca", "{}")]["count"] >= 5


def bump(path: Path, **changes) -> None:
    data = read_json(path)
    data.update(changes)
    write_json(path, data)


async def test_fast_paths_match_general_path_through_edits(stack_dir):
    server = Server(stack_dir)
    try:
        # Warm every kind of cache: pinned reads, whole-type lists and query results.
        await assert_same_as_general_path(server, stack_dir)

        # An edit that moves an entry to the top of the default order.
        bump(
            stack_dir / "entries/blog_post/post_b.en-us.json",
            title="Beta revised",
            updated_at="2031-01-01T00:00:00.000Z",
        )
        await assert_same_as_general_path(server, stack_dir)

        # A new entry (two locales) tying with others on updated_at; a draft published.
        new = {"title": "Epsilon", "url": "/e", "rating": 3, "updated_at": "2020-02-01T00:00:00Z"}
        write_json(stack_dir / "entries/blog_post/post_g.en-us.json", new)
        write_json(stack_dir / "entries/blog_post/post_g.fr-fr.json", {**new, "title": "Ép"})
        bump(stack_dir / "entries/blog_post/post_d.en-us.json", _published=True)
        await assert_same_as_general_path(server, stack_dir)

        # A localization unpublished (fr falls back to en again), an entry deleted.
        bump(stack_dir / "entries/blog_post/post_a.fr-fr.json", _published=False)
        (stack_dir / "entries/blog_post/post_c.en-us.json").unlink()
        await assert_same_as_general_path(server, stack_dir)

        # Referenced and embedded things change: an author, an asset; a reference moves.
        bump(stack_dir / "entries/author/john.en-us.json", name="Johnny")
        bump(
            stack_dir / "entries/blog_post/post_e.en-us.json",
            author=[{"uid": "jane", "_content_type_uid": "author"}],
        )
        bump(stack_dir / "entries/author/jane.fr-fr.json", name="Jeanne-Marie")
        bump(stack_dir / "assets/hero_img.json", title="Hero, retitled")
        await assert_same_as_general_path(server, stack_dir)

        # Another process (here another connection) records a change: caught up all the same.
        bump(stack_dir / "entries/blog_post/post_f.en-us.json", rating=1)
        other = History(history_module.default_history_path(stack_dir))
        other.scan(load_stack(stack_dir))
        other.close()
        await assert_same_as_general_path(server, stack_dir)
    finally:
        await server.close()


async def test_listings_read_by_slice_match_general_path_through_edits(stack_dir):
    # Only listings in default order and pinned queries: blog_post is never read whole.
    queries = [{}, {"uid": {"$in": SOME}}]
    server = Server(stack_dir)
    try:
        await assert_same_as_general_path(server, stack_dir, queries, [{}])
        bump(
            stack_dir / "entries/blog_post/post_c.en-us.json",
            updated_at="2031-01-01T00:00:00.000Z",
        )
        bump(stack_dir / "entries/blog_post/post_a.fr-fr.json", _published=False)
        await assert_same_as_general_path(server, stack_dir, queries, [{}])
        (stack_dir / "entries/blog_post/post_b.en-us.json").unlink()
        write_json(stack_dir / "entries/blog_post/post_h.fr-fr.json", {"title": "H", "url": "/h"})
        await assert_same_as_general_path(server, stack_dir, queries, [{}])
        catalog = server.app.state.service.catalog()
        assert not catalog._bucket("blog_post").complete
    finally:
        await server.close()


# -- what gets read -----------------------------------------------------------------------------


class Reads:
    """Records the history reads of the catalog: whole types and items by key."""

    def __init__(self, monkeypatch):
        self.types: list[tuple[str, str | None]] = []
        self.keys: list[str] = []
        items, by_key = History.items, History.items_by_key

        def spy_items(history, kind, content_type_uid=None, **kwargs):
            self.types.append((kind, content_type_uid))
            return items(history, kind, content_type_uid, **kwargs)

        def spy_by_key(history, keys, **kwargs):
            self.keys.extend(keys)
            return by_key(history, keys, **kwargs)

        monkeypatch.setattr(History, "items", spy_items)
        monkeypatch.setattr(History, "items_by_key", spy_by_key)

    def entry_types(self) -> set[str | None]:
        return {ct for kind, ct in self.types if kind == "entry"}

    def clear(self) -> None:
        self.types.clear()
        self.keys.clear()


def test_uid_query_reads_only_those_entries_and_their_includes(stack_dir, monkeypatch):
    service = StackService(stack_dir)
    catalog = service.refresh()
    reads = Reads(monkeypatch)
    query = {"uid": {"$in": ["post_b"]}}
    found = catalog.query_entries("blog_post", "fr-fr", True, query, None)
    assert [e["uid"] for e in found] == ["post_b"]
    opts = resolve_module.DeliveryOptions(
        environment="production",
        locale="fr-fr",
        fallback=True,
        include_all_depth=2,
        embedded_items=True,
    )
    rendered = catalog.render_entry(found[0], "blog_post", opts)
    assert rendered["related"][0]["uid"] == "post_a"
    assert rendered["related"][0]["author"][0]["title"] == "Jeanne Doe"  # depth 2, fallback
    assert reads.entry_types() == set()  # no content type was read whole
    read_uids = {key.split("/")[2] for key in reads.keys if key.startswith("entry/")}
    assert read_uids == {"post_b", "john", "ghost", "post_a", "jane"}
    service.close()


def test_in_query_reads_only_referrers_and_pinned_referenced_entries(stack_dir, monkeypatch):
    service = StackService(stack_dir)
    catalog = service.refresh()
    reads = Reads(monkeypatch)
    query = parse_query(json.dumps({"author": {"$in_query": {"uid": {"$in": ["john"]}}}}))
    found = catalog.query_entries("blog_post", "en-us", True, query, None)
    assert [e["uid"] for e in found] == ["post_b", "post_e", "post_f"]
    assert reads.entry_types() == set()  # neither blog_post nor author was read whole
    read = {tuple(key.split("/")[1:3]) for key in reads.keys}
    assert read == {("blog_post", u) for u in ("post_b", "post_e", "post_f")} | {("author", "john")}
    service.close()


def test_history_written_before_entry_refs_fills_them_in(stack_dir):
    path = history_module.default_history_path(stack_dir)
    history = History(path)
    history.scan(load_stack(stack_dir))
    expected = history.referrers("blog_post", {"post_a", "john"})
    assert expected == {"post_b", "post_e", "post_f"}
    assert history.referrers("author", {"post_a"}) == {"jane"}
    # As a history recorded by a sitegen without the table would be:
    history._db.execute("DELETE FROM entry_refs")
    history._db.execute("DELETE FROM meta WHERE key = 'entry_refs'")
    history.close()
    reopened = History(path)
    assert reopened.referrers("blog_post", {"post_a", "john"}) == expected
    assert reopened.referrers("author", {"post_a"}) == {"jane"}
    reopened.close()


def test_reference_uids_finds_stubs_at_any_depth():
    fields = {
        "author": [{"uid": "a", "_content_type_uid": "author"}],
        "group": {"inner": [{"x": [{"uid": "b", "_content_type_uid": "post"}]}]},
        "body": {"type": "doc", "uid": "not_a_stub", "children": [{"uid": "c"}]},
        "odd": {"uid": 3, "_content_type_uid": "post"},
        "text": "uid",
    }
    assert history_module.reference_uids(fields) == {"a", "b"}


def test_rescan_after_one_edit_reads_that_file_and_keeps_the_rest(stack_dir, monkeypatch):
    service = StackService(stack_dir)
    catalog = service.refresh()
    for ct in ("blog_post", "author"):
        for locale in LOCALES:
            catalog.entries(ct, locale, True)
    catalog.asset("hero_img")
    reads = Reads(monkeypatch)
    hashed: list[str] = []
    parsed: list[str] = []
    sha256, read_entry = history_module._sha256, type(service.stack).read_entry
    monkeypatch.setattr(history_module, "_sha256", lambda p: hashed.append(p.name) or sha256(p))
    monkeypatch.setattr(
        type(service.stack),
        "read_entry",
        lambda stack, rel, *a: parsed.append(rel) or read_entry(stack, rel, *a),
    )
    reloads: list[int] = []
    load_stats = History._load_stats
    monkeypatch.setattr(History, "_load_stats", lambda h: reloads.append(1) or load_stats(h))

    bump(stack_dir / "entries/blog_post/post_b.en-us.json", updated_at="2031-01-01T00:00:00Z")
    assert service.refresh() is catalog  # kept, not replaced
    assert hashed == ["post_b.en-us.json"]
    assert parsed == ["entries/blog_post/post_b.en-us.json"]
    assert reloads == []  # its own write does not make the history re-read every file row

    listing = catalog.entries("blog_post", "fr-ca", True)
    assert listing[0]["uid"] == "post_b"
    assert listing[0]["updated_at"] == "2031-01-01T00:00:00.000Z"
    assert reads.types == []  # only post_b was read again, by key
    assert {key.split("/")[2] for key in reads.keys} == {"post_b"}
    reads.clear()
    catalog.entries("author", "fr-fr", True)
    assert catalog.asset("hero_img") is not None
    assert reads.types == [] and reads.keys == []
    service.close()


def test_config_change_replaces_the_catalog(stack_dir):
    service = StackService(stack_dir)
    catalog = service.refresh()
    path = stack_dir / "content_types/author.json"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert service.refresh() is not catalog
    service.close()


# -- pinned_uids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "pins"),
    [
        ({}, None),
        ({"title": "x"}, None),
        ({"uid": "a"}, {"a"}),
        ({"uid": {"$eq": "a"}}, {"a"}),
        ({"uid": {"$in": ["a", "b", 3]}}, {"a", "b"}),
        ({"uid": {"$in": ["a", "b"]}, "title": "x"}, {"a", "b"}),
        ({"uid": {"$in": ["a", "b"], "$eq": "b"}}, {"b"}),
        ({"uid": {"$ne": "a"}}, None),
        ({"uid": {"$regex": "a"}}, None),
        ({"uid": 3}, set()),
        ({"uid": {"$eq": None}}, set()),
        ({"$and": [{"uid": {"$in": ["a", "b"]}}, {"uid": {"$in": ["b", "c"]}}]}, {"b"}),
        ({"$and": [{"uid": {"$in": ["a", "b"]}}, {"title": "x"}]}, {"a", "b"}),
        ({"$or": [{"uid": "a"}, {"uid": {"$in": ["b"]}}]}, {"a", "b"}),
        ({"$or": [{"uid": "a"}, {"title": "x"}]}, None),
        ({"$and": [{"$or": [{"uid": "a"}, {"uid": "b"}]}], "uid": {"$in": ["b", "c"]}}, {"b"}),
        ({"author.uid": "a"}, None),
        ({"author": {"$in_query": {"uid": "a"}}}, None),
    ],
)
def test_pinned_uids(query, pins):
    found = pinned_uids(query)
    assert found == (None if pins is None else frozenset(pins))


def test_pinned_uids_through_in_query():
    def referrers(uids):
        return frozenset(f"ref_{u}" for u in uids)

    in_query = {"author": {"$in_query": {"uid": {"$in": ["a", "b"]}}}}
    assert pinned_uids(in_query, referrers) == {"ref_a", "ref_b"}
    assert pinned_uids(in_query) is None
    assert pinned_uids({"author": {"$in_query": {"title": "x"}}}, referrers) is None
    assert pinned_uids({"author": {"$nin_query": {"uid": "a"}}}, referrers) is None
    both = {"$or": [in_query, {"uid": "c"}], "rating": 3}
    assert pinned_uids(both, referrers) == {"ref_a", "ref_b", "c"}
    assert pinned_uids({**in_query, "uid": {"$in": ["ref_a", "z"]}}, referrers) == {"ref_a"}


def test_requests_that_arrive_during_a_rescan_share_the_next_one(stack_dir, monkeypatch):
    """A rescan that began after a request arrived serves it: of three requests arriving
    while one scan runs, the first waits for its own and the other two share the next, which
    sees an edit made before they arrived."""
    import threading
    import time

    service = StackService(stack_dir)
    service.refresh()
    scanning, release = threading.Event(), threading.Event()
    scans: list[int] = []
    real = service.stack.list_files

    def slow_list_files():
        scans.append(len(scans) + 1)
        if len(scans) == 1:
            scanning.set()
            release.wait(10)
        return real()

    monkeypatch.setattr(service.stack, "list_files", slow_list_files)
    titles: dict[str, str] = {}

    def ask(name: str) -> None:
        catalog = service.refresh()
        titles[name] = catalog.find_entry("author", "jane", "en-us", False)["title"]

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    assert scanning.wait(10)  # scan 1 is running: what arrives now needs a scan begun later
    path = stack_dir / "entries/author/jane.en-us.json"
    write_json(path, {**read_json(path), "title": "Jane, edited while a scan ran"})
    later = [threading.Thread(target=ask, args=(name,)) for name in ("second", "third")]
    for thread in later:
        thread.start()
    time.sleep(0.2)  # both are waiting for the lock
    release.set()
    for thread in [first, *later]:
        thread.join(10)
    assert scans == [1, 2]  # not three: the second and third share scan 2
    assert titles["second"] == titles["third"] == "Jane, edited while a scan ran"
    service.close()
