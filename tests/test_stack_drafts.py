"""Drafts in a local stack: served to preview requests (header preview_token) only.

Delivery requests (access_token) and the Sync API never see them; the history ignores them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sitegen.errors import StackFolderError
from sitegen.stack import History, default_history_path, load_stack
from sitegen.stack.drafts import mtime_iso
from tests.stack_fixtures import (
    API_KEY,
    DELIVERY_TOKEN,
    ENV,
    copy_stack,
    local_client,
    read_json,
    write_json,
)

pytestmark = pytest.mark.anyio

DELIVERY = {"access_token": DELIVERY_TOKEN}
PREVIEW = {"preview_token": "any-preview-token"}
POSTS = "/v3/content_types/blog_post/entries"
AUTHORS = "/v3/content_types/author/entries"
SYNC = "/v3/stacks/sync"
ERROR_KEYS = {"error_message", "error_code", "errors"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def stack_dir(tmp_path):
    return copy_stack(tmp_path)


def client_for(stack_dir: Path):
    """A client that sends only the api key: each request adds its own token header."""
    return local_client(stack_dir, headers={"api_key": API_KEY})


async def get(client, path, token, status=200, **params):
    response = await client.get(path, params={**ENV, **params}, headers=token)
    assert response.status_code == status, response.text
    return response.json()


async def uids(client, token, path=POSTS, **params):
    return [e["uid"] for e in (await get(client, path, token, **params))["entries"]]


async def rescan(client, token=DELIVERY):
    """Content type lists rescan the folder, as a build's first request does."""
    await get(client, "/v3/content_types", token)


def draft(stack_dir: Path, ct: str, stem: str, data: dict) -> Path:
    path = stack_dir / f"entries/{ct}/{stem}.draft.json"
    write_json(path, data)
    return path


def draft_of(stack_dir: Path, ct: str, stem: str, /, **changes) -> Path:
    """A draft that starts from the published file, with some fields changed."""
    published = read_json(stack_dir / f"entries/{ct}/{stem}.json")
    return draft(stack_dir, ct, stem, {**published, **changes})


# -- what each view shows -----------------------------------------------------------------------


async def test_a_draft_overrides_the_published_entry_in_preview_only(stack_dir):
    path = draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft)")
    async with client_for(stack_dir) as client:
        published = (await get(client, f"{POSTS}/post_a", DELIVERY))["entry"]
        previewed = (await get(client, f"{POSTS}/post_a", PREVIEW))["entry"]
        listed = (await get(client, POSTS, PREVIEW))["entries"]
        assert await uids(client, PREVIEW) == ["post_a", "post_b", "post_d", "post_c"]
    assert published["title"] == "Alpha"
    assert published["_version"] == 1
    assert previewed["title"] == "Alpha (draft)"
    assert next(e for e in listed if e["uid"] == "post_a")["title"] == "Alpha (draft)"
    # The working copy is one version newer, changed when its file was, created with the entry.
    assert previewed["_version"] == 2
    mtime = mtime_iso(path.stat().st_mtime_ns)
    assert previewed["updated_at"] == max(mtime, published["updated_at"])
    assert previewed["created_at"] == published["created_at"]
    assert previewed["publish_details"]["time"] == published["publish_details"]["time"]
    # Otherwise the same shape: every key of the published entry is there.
    assert set(previewed) == set(published)
    assert previewed["cover"]["uid"] == "hero_img"  # file fields still become assets


async def test_an_entry_that_exists_only_as_a_draft_is_in_preview_only(stack_dir):
    draft(stack_dir, "blog_post", "post_new.en-us", {"title": "New", "url": "/new", "rating": 2})
    async with client_for(stack_dir) as client:
        assert "post_new" not in await uids(client, DELIVERY)
        await get(client, f"{POSTS}/post_new", DELIVERY, status=422)
        assert "post_new" in await uids(client, PREVIEW)
        new = (await get(client, f"{POSTS}/post_new", PREVIEW))["entry"]
        # fallback resolves against the draft view too
        fr = await get(
            client, f"{POSTS}/post_new", PREVIEW, locale="fr-fr", include_fallback="true"
        )
        await get(client, f"{POSTS}/post_new", PREVIEW, status=422, locale="fr-fr")
        assert (await get(client, POSTS, PREVIEW, count="true"))["entries"] == 5
        assert (await get(client, POSTS, DELIVERY, count="true"))["entries"] == 3
    assert new["title"] == "New" and new["_version"] == 1
    assert new["created_at"] == new["updated_at"]
    assert new["publish_details"]["time"] == new["updated_at"]  # never published
    assert fr["entry"]["locale"] == "en-us" and fr["entry"]["title"] == "New"


async def test_unpublished_entries_are_in_preview_only(stack_dir):
    async with client_for(stack_dir) as client:
        await get(client, f"{POSTS}/post_d", DELIVERY, status=422)
        post_d = (await get(client, f"{POSTS}/post_d", PREVIEW))["entry"]
        assert "post_d" not in await uids(client, DELIVERY)
        assert "post_d" in await uids(client, PREVIEW)
        # an edit of an unpublished entry makes no history event, but preview sees it
        write_json(stack_dir / "entries/blog_post/post_d.en-us.json", {
            "title": "Draft, edited", "url": "/draft", "rating": 4, "_published": False,
        })  # fmt: skip
        await rescan(client, PREVIEW)
        edited = (await get(client, f"{POSTS}/post_d", PREVIEW))["entry"]
        await get(client, f"{POSTS}/post_d", DELIVERY, status=422)
    assert post_d["title"] == "Draft"
    assert "_published" not in post_d
    assert edited["title"] == "Draft, edited"


async def test_a_draft_of_an_unpublished_entry_wins_over_its_file(stack_dir):
    draft(stack_dir, "blog_post", "post_d.en-us", {"title": "Draft 2", "url": "/draft"})
    async with client_for(stack_dir) as client:
        post_d = (await get(client, f"{POSTS}/post_d", PREVIEW))["entry"]
        await get(client, f"{POSTS}/post_d", DELIVERY, status=422)
    assert post_d["title"] == "Draft 2"
    assert post_d["_version"] == 2


async def test_references_embedded_items_and_queries_resolve_drafts(stack_dir):
    draft_of(stack_dir, "author", "jane.en-us", name="Jane (draft)")
    # post_b's draft now also names jane as an author
    draft_of(
        stack_dir,
        "blog_post",
        "post_b.en-us",
        author=[{"uid": "jane", "_content_type_uid": "author"}],
    )
    params = {"include_all": "true", "include_embedded_items[]": "BASE"}
    async with client_for(stack_dir) as client:
        live = (await get(client, f"{POSTS}/post_a", DELIVERY, **params))["entry"]
        preview = (await get(client, f"{POSTS}/post_a", PREVIEW, **params))["entry"]
        by_jane = json.dumps({"author": {"$in_query": {"uid": "jane"}}})
        by_name = json.dumps({"author": {"$in_query": {"name": "Jane (draft)"}}})
        assert await uids(client, DELIVERY, query=by_jane) == ["post_a"]
        assert await uids(client, PREVIEW, query=by_jane) == ["post_a", "post_b"]
        assert await uids(client, DELIVERY, query=by_name) == []
        assert await uids(client, PREVIEW, query=by_name) == ["post_a", "post_b"]
        assert await uids(client, PREVIEW, query=json.dumps({"uid": "post_b"})) == ["post_b"]
        assert await uids(client, PREVIEW, asc="title") == ["post_a", "post_b", "post_d", "post_c"]
        only = (await get(client, POSTS, PREVIEW, **{"only[BASE][]": "title"}))["entries"]
    assert live["author"][0]["name"] == "Jane"
    assert preview["author"][0]["name"] == "Jane (draft)"
    assert preview["author"][0]["_version"] == 2
    assert live["_embedded_items"]["summary"][0]["name"] == "Jane"
    assert preview["_embedded_items"]["summary"][0]["name"] == "Jane (draft)"
    assert {e["title"] for e in only} == {"Alpha", "Beta", "Gamma", "Draft"}
    assert all(set(e) == {"uid", "title"} for e in only)


async def test_include_all_reaches_a_draft_only_entry(stack_dir):
    draft(stack_dir, "author", "ada.en-us", {"title": "Ada", "name": "Ada"})
    draft_of(
        stack_dir,
        "blog_post",
        "post_c.en-us",
        author=[{"uid": "ada", "_content_type_uid": "author"}],
    )
    async with client_for(stack_dir) as client:
        preview = (await get(client, f"{POSTS}/post_c", PREVIEW, include_all="true"))["entry"]
        live = (await get(client, f"{POSTS}/post_c", DELIVERY, include_all="true"))["entry"]
    assert [a["name"] for a in preview["author"]] == ["Ada"]
    assert "author" not in live
    assert preview["updated_at"] == "2020-02-01T00:00:00.000Z"  # pins in the draft still pin


async def test_assets_and_content_types_answer_preview_requests(stack_dir):
    async with client_for(stack_dir) as client:
        for path in ("/v3/content_types", "/v3/content_types/blog_post", "/v3/assets"):
            assert await get(client, path, PREVIEW) == await get(client, path, DELIVERY)
        asset = await get(client, "/v3/assets/hero_img", PREVIEW)
    assert asset["asset"]["uid"] == "hero_img"


async def test_two_identical_preview_requests_answer_the_same_bytes(stack_dir):
    draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft)")
    draft(stack_dir, "blog_post", "post_new.en-us", {"title": "New"})
    async with client_for(stack_dir) as client:
        first = await client.get(POSTS, params={**ENV, "include_all": "true"}, headers=PREVIEW)
        await rescan(client, PREVIEW)
        second = await client.get(POSTS, params={**ENV, "include_all": "true"}, headers=PREVIEW)
    async with client_for(stack_dir) as client:  # a new server over the same history
        third = await client.get(POSTS, params={**ENV, "include_all": "true"}, headers=PREVIEW)
    assert first.content == second.content == third.content


async def test_editing_and_removing_a_draft_is_seen_after_a_rescan(stack_dir):
    path = draft_of(stack_dir, "blog_post", "post_a.en-us", title="One")
    async with client_for(stack_dir) as client:
        assert (await get(client, f"{POSTS}/post_a", PREVIEW))["entry"]["title"] == "One"
        draft_of(stack_dir, "blog_post", "post_a.en-us", title="Two")
        await rescan(client, PREVIEW)
        assert (await get(client, f"{POSTS}/post_a", PREVIEW))["entry"]["title"] == "Two"
        path.unlink()
        await rescan(client)
        assert (await get(client, f"{POSTS}/post_a", PREVIEW))["entry"]["title"] == "Alpha"


async def test_an_invalid_draft_is_named_and_does_not_break_delivery(stack_dir):
    draft(stack_dir, "blog_post", "post_a.en-us", {"title": "x", "cover": "no_such_asset"})
    async with client_for(stack_dir) as client:
        assert await uids(client, DELIVERY) == ["post_a", "post_b", "post_c"]
        body = await get(client, POSTS, PREVIEW, status=400)
        # asked again (the entry alone, twice), the draft is read again: the same error
        for _ in range(2):
            assert await get(client, f"{POSTS}/post_a", PREVIEW, status=400) == body
    assert "post_a.en-us.draft.json" in body["error_message"]
    assert "no_such_asset" in body["error_message"]


def test_draft_files_are_listed_apart(stack_dir):
    draft(stack_dir, "blog_post", "post_a.en-us", {"title": "x"})
    listing = load_stack(stack_dir).list_files()
    rel = "entries/blog_post/post_a.en-us.draft.json"
    assert rel not in listing.files and rel not in listing.entries
    assert rel in listing.draft_files
    assert (listing.drafts[rel].uid, listing.drafts[rel].locale) == ("post_a", "en-us")
    assert listing.drafts[rel].draft
    load_stack(stack_dir).validate_all()
    draft(stack_dir, "blog_post", "post_a.xx-yy", {"title": "x"})
    with pytest.raises(StackFolderError, match=r"post_a\.xx-yy\.draft\.json: locale \"xx-yy\""):
        load_stack(stack_dir).list_files()


# -- credentials --------------------------------------------------------------------------------


async def test_any_preview_token_without_one_in_stack_json(stack_dir):
    assert load_stack(stack_dir).preview_token is None
    async with client_for(stack_dir) as client:
        assert await uids(client, {"preview_token": "whatever"})
        body = await get(client, POSTS, {"preview_token": ""}, status=401)
        assert set(body) == ERROR_KEYS and body["errors"] == {"preview_token": ["is not valid."]}
        # the api key is checked as for delivery
        bad_key = await client.get(
            POSTS, params=ENV, headers={"api_key": "wrong", "preview_token": "whatever"}
        )
        assert bad_key.status_code == 412
        # with an access_token too, a request is a delivery request: no drafts
        both = {**DELIVERY, "preview_token": "whatever"}
        assert "post_d" not in await uids(client, both)
        # and without any token at all, it is a delivery request that lacks its token
        await get(client, POSTS, {}, status=401)


async def test_the_preview_token_of_stack_json_is_required(stack_dir):
    stack_file = stack_dir / "stack.json"
    write_json(stack_file, {**read_json(stack_file), "preview_token": "cs_preview_secret"})
    stack = load_stack(stack_dir)
    assert stack.preview_token == "cs_preview_secret"
    assert "cs_preview_secret" not in repr(stack)
    async with client_for(stack_dir) as client:
        assert "post_d" in await uids(client, {"preview_token": "cs_preview_secret"})
        for wrong in ("whatever", "", DELIVERY_TOKEN):
            response = await client.get(POSTS, params=ENV, headers={"preview_token": wrong})
            assert response.status_code == 401, wrong
            body = response.json()
            assert set(body) == ERROR_KEYS and body["error_code"] == 104
            assert "cs_preview_secret" not in response.text
        response = await client.get("/v3/content_types", headers={"preview_token": "nope"})
        assert response.status_code == 401
        # delivery requests are unaffected
        assert "post_d" not in await uids(client, DELIVERY)


async def test_the_sync_api_refuses_preview_requests(stack_dir):
    async with client_for(stack_dir) as client:
        for params in ({**ENV, "init": "true"}, {"sync_token": "x"}, {"pagination_token": "x"}):
            response = await client.get(SYNC, params=params, headers=PREVIEW)
            assert response.status_code == 403, response.text
            body = response.json()
            assert set(body) == ERROR_KEYS
            assert "preview" in body["error_message"] and "Sync API" in body["error_message"]
        assert (await client.get(SYNC, params={**ENV, "init": "true"}, headers=DELIVERY)).is_success


# -- delivery and history are untouched -----------------------------------------------------------

DELIVERY_REQUESTS = [
    (POSTS, {}),
    (POSTS, {"include_all": "true", "include_all_depth": "3", "include_embedded_items[]": "BASE"}),
    (POSTS, {"locale": "fr-fr", "include_fallback": "true", "include_all": "true"}),
    (POSTS, {"query": json.dumps({"author": {"$in_query": {"uid": "jane"}}})}),
    (POSTS, {"asc": "title", "include_count": "true"}),
    (f"{POSTS}/post_a", {"include_all": "true"}),
    (f"{POSTS}/post_b", {}),
    (AUTHORS, {"include_all": "true"}),
    ("/v3/assets", {}),
    ("/v3/content_types", {}),
    (SYNC, {"init": "true"}),
]


async def delivery_bodies(client) -> list[bytes]:
    found = []
    for path, params in DELIVERY_REQUESTS:
        response = await client.get(path, params={**ENV, **params}, headers=DELIVERY)
        assert response.status_code == 200, (path, response.text)
        found.append(response.content)
    return found


async def test_delivery_answers_do_not_change_when_drafts_are_added(stack_dir):
    async with client_for(stack_dir) as client:
        before = await delivery_bodies(client)
        await uids(client, PREVIEW, include_all="true")
        draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft)")
        draft_of(stack_dir, "blog_post", "post_b.en-us", author=[])
        draft_of(stack_dir, "author", "jane.en-us", name="Jane (draft)")
        draft(stack_dir, "blog_post", "post_new.en-us", {"title": "New"})
        draft(stack_dir, "author", "ada.fr-fr", {"title": "Ada"})
        await rescan(client)
        # the draft view is built and used in between: it must not leak into delivery
        assert "Alpha (draft)" in json.dumps(await get(client, POSTS, PREVIEW, include_all="true"))
        after = await delivery_bodies(client)
        assert after == before
    async with client_for(stack_dir) as client:  # a new server over the same history
        assert await delivery_bodies(client) == before


async def test_sync_reports_nothing_for_draft_changes(stack_dir):
    async with client_for(stack_dir) as client:
        response = await client.get(SYNC, params={**ENV, "init": "true"}, headers=DELIVERY)
        token = response.json()["sync_token"]
        path = draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft)")
        draft(stack_dir, "blog_post", "post_new.en-us", {"title": "New"})
        response = await client.get(SYNC, params={"sync_token": token}, headers=DELIVERY)
        assert response.json()["items"] == []
        token = response.json()["sync_token"]
        path.unlink()
        response = await client.get(SYNC, params={"sync_token": token}, headers=DELIVERY)
        assert response.json()["items"] == []


def test_the_history_ignores_draft_files(stack_dir):
    history = History(default_history_path(stack_dir))
    try:
        assert history.scan(load_stack(stack_dir)) is True
        seq = history.max_seq()
        items = history.items("entry")
        path = draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft)")
        draft(stack_dir, "blog_post", "post_new.en-us", {"title": "New"})
        assert history.scan(load_stack(stack_dir)) is False  # nothing to record
        draft_of(stack_dir, "blog_post", "post_a.en-us", title="Alpha (draft 2)")
        os.utime(path, ns=(1, 1))
        assert history.scan(load_stack(stack_dir)) is False
        path.unlink()
        assert history.scan(load_stack(stack_dir)) is False
        assert history.max_seq() == seq
        assert history.items("entry") == items
        assert history.changed_since(seq) == (seq, set())
        recorded = {p for (p,) in history._db.execute("SELECT path FROM files")}
        assert not any(p.endswith(".draft.json") for p in recorded)
    finally:
        history.close()
