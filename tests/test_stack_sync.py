"""The local stack's Sync API: initial sync in pages, filters, deltas, tokens."""

from __future__ import annotations

import base64
from collections import Counter

import pytest

from tests.stack_fixtures import ENV, copy_stack, local_client, read_json, write_json

pytestmark = pytest.mark.anyio

EXTRA_AUTHORS = 250
SYNC = "/v3/stacks/sync"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def stack_dir(tmp_path):
    root = copy_stack(tmp_path)
    for i in range(EXTRA_AUTHORS):
        write_json(root / f"entries/author/bulk_{i:03d}.en-us.json", {"title": f"Author {i}"})
    return root


async def sync_all(client, params):
    """Follow pagination tokens to the end; return (pages, items, sync_token)."""
    response = await client.get(SYNC, params=params)
    assert response.status_code == 200, response.text
    pages = [response.json()]
    while "pagination_token" in pages[-1]:
        assert "sync_token" not in pages[-1]
        response = await client.get(
            SYNC, params={"pagination_token": pages[-1]["pagination_token"]}
        )
        assert response.status_code == 200, response.text
        pages.append(response.json())
    items = [item for page in pages for item in page["items"]]
    return pages, items, pages[-1]["sync_token"]


def keyed(items):
    return Counter((i["type"], i["content_type_uid"], i["data"]["uid"]) for i in items)


async def test_initial_sync_in_pages_of_100(stack_dir):
    async with local_client(stack_dir) as client:
        pages, items, token = await sync_all(client, {**ENV, "init": "true"})
    total = 3 + 7 + EXTRA_AUTHORS  # assets + published fixture entries + bulk authors
    assert [len(p["items"]) for p in pages] == [100, 100, total - 200]
    assert [p["skip"] for p in pages] == [0, 100, 200]
    assert all(p["limit"] == 100 and p["total_count"] == total for p in pages)
    assert token
    assert len(items) == total
    assert (
        len({(i["content_type_uid"], i["data"]["uid"], i["data"].get("locale")) for i in items})
        == total
    )
    assert {i["type"] for i in items} == {"entry_published", "asset_published"}
    assert not any(i["data"]["uid"] == "post_d" for i in items)  # unpublished

    post_a = next(
        i for i in items if i["data"]["uid"] == "post_a" and i["data"]["locale"] == "en-us"
    )
    assert post_a["content_type_uid"] == "blog_post"
    assert post_a["event_at"] == post_a["data"]["publish_details"]["time"]
    assert post_a["data"]["publish_details"]["locale"] == "en-us"
    assert post_a["data"]["_version"] == 1
    # Published items carry the raw entry: references unresolved, file fields as assets.
    assert post_a["data"]["author"] == [{"uid": "jane", "_content_type_uid": "author"}]
    assert post_a["data"]["cover"]["url"] == "http://local-stack/assets/hero_img/hero.png"
    assert post_a["data"]["body"]["type"] == "doc"
    asset = next(i for i in items if i["data"]["uid"] == "hero_img")
    assert asset["type"] == "asset_published"
    assert asset["content_type_uid"] == "sys_assets"
    assert asset["data"]["filename"] == "hero.png"
    assert asset["data"]["url"] == "http://local-stack/assets/hero_img/hero.png"


async def test_initial_sync_filters(stack_dir):
    async with local_client(stack_dir) as client:

        async def found(**params):
            return keyed((await sync_all(client, {**ENV, "init": "true", **params}))[1])

        assert found_keys(await found(content_type_uid="blog_post")) == {
            ("entry_published", "blog_post", "post_a"),
            ("entry_published", "blog_post", "post_b"),
            ("entry_published", "blog_post", "post_c"),
        }
        assert (await found(content_type_uid="blog_post"))[
            ("entry_published", "blog_post", "post_a")
        ] == 2  # en-us and fr-fr
        fr = await found(locale="fr-fr")
        assert {k for k in fr if k[0] == "entry_published"} == {
            ("entry_published", "author", "jane"),
            ("entry_published", "blog_post", "post_a"),
        }
        assert sum(n for k, n in fr.items() if k[0] == "asset_published") == 3
        assert found_keys(await found(type="asset_published")) == {
            ("asset_published", "sys_assets", "doc_pdf"),
            ("asset_published", "sys_assets", "hero_img"),
            ("asset_published", "sys_assets", "jane_photo"),
        }
        combined = await found(type="entry_published,asset_deleted", locale="fr-fr",
                               content_type_uid="author")  # fmt: skip
        assert found_keys(combined) == {("entry_published", "author", "jane")}
        assert await found(start_from="2999-01-01T00:00:00.000Z") == Counter()
        assert sum((await found(start_from="2000-01-01")).values()) == 3 + 7 + EXTRA_AUTHORS

        for bad in ({"type": "entry_changed"}, {"start_from": "soon"}, {"locale": "xx"}):
            response = await client.get(SYNC, params={**ENV, "init": "true", **bad})
            assert response.status_code == 422, bad
            assert response.json()["error_code"] == 141
        response = await client.get(SYNC, params={**ENV, "init": "true", "content_type_uid": "x"})
        assert response.status_code == 422 and response.json()["error_code"] == 118
        response = await client.get(SYNC, params=ENV)
        assert response.status_code == 422 and "init" in response.json()["errors"]
        response = await client.get(SYNC, params={"init": "true"})
        assert response.status_code == 422 and "environment" in response.json()["errors"]


def found_keys(counter):
    return set(counter)


async def test_delta_after_editing_adding_deleting_and_unpublishing(stack_dir):
    async with local_client(stack_dir) as client:
        _, _, token = await sync_all(client, {**ENV, "init": "true"})

        post_b = read_json(stack_dir / "entries/blog_post/post_b.en-us.json")
        write_json(stack_dir / "entries/blog_post/post_b.en-us.json", {**post_b, "rating": 4})
        write_json(stack_dir / "entries/blog_post/post_e.en-us.json", {"title": "Epsilon"})
        (stack_dir / "entries/blog_post/post_c.en-us.json").unlink()
        jane = read_json(stack_dir / "entries/author/jane.en-us.json")
        write_json(stack_dir / "entries/author/jane.en-us.json", {**jane, "_published": False})
        (stack_dir / "assets/hero_img/hero.png").write_bytes(b"a new picture")
        draft = read_json(stack_dir / "entries/blog_post/post_d.en-us.json")
        write_json(stack_dir / "entries/blog_post/post_d.en-us.json", {**draft, "rating": 2})

        pages, items, token2 = await sync_all(client, {"sync_token": token})
        assert len(pages) == 1 and pages[0]["total_count"] == 5
        assert keyed(items) == Counter(
            {
                ("entry_published", "blog_post", "post_b"): 1,
                ("entry_published", "blog_post", "post_e"): 1,
                ("entry_deleted", "blog_post", "post_c"): 1,
                ("entry_unpublished", "author", "jane"): 1,
                ("asset_published", "sys_assets", "hero_img"): 1,
            }
        )
        by_uid = {i["data"]["uid"]: i for i in items}
        assert by_uid["post_b"]["data"]["rating"] == 4
        assert by_uid["post_b"]["data"]["_version"] == 2
        assert by_uid["post_c"]["data"] == {"uid": "post_c", "locale": "en-us"}
        assert by_uid["jane"]["data"] == {"uid": "jane", "locale": "en-us"}
        assert by_uid["hero_img"]["data"]["_version"] == 2
        assert token2 != token

        # Nothing changed since: an empty delta with a token.
        pages, items, token3 = await sync_all(client, {"sync_token": token2})
        assert items == [] and pages[0]["total_count"] == 0 and token3
        # The old token still works and still reports the same changes.
        assert len((await sync_all(client, {"sync_token": token}))[1]) == 5


async def test_repeated_changes_collapse_to_the_latest(stack_dir):
    async with local_client(stack_dir) as client:
        _, _, token = await sync_all(client, {**ENV, "init": "true"})
        path = stack_dir / "entries/author/john.en-us.json"
        for name in ("Jo", "Jon", "Johnny"):
            write_json(path, {"title": "John", "name": name})
            await client.get("/v3/content_types")  # a scan per edit
        write_json(stack_dir / "entries/author/temp.en-us.json", {"title": "Temp"})
        await client.get("/v3/content_types")
        (stack_dir / "entries/author/temp.en-us.json").unlink()
        _, items, _ = await sync_all(client, {"sync_token": token})
    assert keyed(items) == Counter(
        {("entry_published", "author", "john"): 1, ("entry_deleted", "author", "temp"): 1}
    )
    assert items[0]["data"]["name"] == "Johnny" and items[0]["data"]["_version"] == 4


async def test_delta_keeps_the_filters_of_the_initial_sync(stack_dir):
    async with local_client(stack_dir) as client:
        params = {**ENV, "init": "true", "content_type_uid": "blog_post", "locale": "en-us"}
        _, items, token = await sync_all(client, params)
        assert len(items) == 3
        write_json(stack_dir / "entries/author/john.en-us.json", {"title": "J", "name": "x"})
        write_json(stack_dir / "entries/blog_post/post_c.fr-fr.json", {"title": "Gamma (fr)"})
        write_json(stack_dir / "entries/blog_post/post_e.en-us.json", {"title": "Epsilon"})
        _, items, _ = await sync_all(client, {"sync_token": token})
    assert keyed(items) == Counter({("entry_published", "blog_post", "post_e"): 1})


async def test_pages_stay_consistent_while_the_folder_changes(stack_dir):
    async with local_client(stack_dir) as client:
        first = (await client.get(SYNC, params={**ENV, "init": "true"})).json()
        write_json(stack_dir / "entries/author/late.en-us.json", {"title": "Late"})
        (stack_dir / "entries/author/bulk_000.en-us.json").unlink()
        await client.get("/v3/content_types")  # the edits are recorded mid-sync
        page = first
        items = list(first["items"])
        while "pagination_token" in page:
            page = (
                await client.get(SYNC, params={"pagination_token": page["pagination_token"]})
            ).json()
            items.extend(page["items"])
            assert page["total_count"] == first["total_count"]
        assert len(items) == first["total_count"]
        assert "late" not in {i["data"]["uid"] for i in items}
        _, delta, _ = await sync_all(client, {"sync_token": page["sync_token"]})
    assert keyed(delta) == Counter(
        {("entry_published", "author", "late"): 1, ("entry_deleted", "author", "bulk_000"): 1}
    )


async def test_content_type_deletion_is_reported(stack_dir):
    async with local_client(stack_dir) as client:
        _, _, published_only = await sync_all(
            client, {**ENV, "init": "true", "type": "entry_published"}
        )
        _, _, everything = await sync_all(client, {**ENV, "init": "true"})
        # Remove the author content type, its entries and the references to it.
        blog = read_json(stack_dir / "content_types/blog_post.json")
        blog["schema"] = [f for f in blog["schema"] if f["uid"] != "author"]
        write_json(stack_dir / "content_types/blog_post.json", blog)
        for path in (stack_dir / "entries/author").iterdir():
            path.unlink()
        (stack_dir / "content_types/author.json").unlink()
        for path in (stack_dir / "entries/blog_post").iterdir():
            post = read_json(path)
            if post.pop("author", None) is not None:
                write_json(path, post)
        _, filtered, _ = await sync_all(client, {"sync_token": published_only})
        _, items, _ = await sync_all(client, {"sync_token": everything})
    assert {i["type"] for i in filtered} == {"entry_published"}  # the token's type filter
    deleted_type = [i for i in items if i["type"] == "content_type_deleted"]
    assert deleted_type == [
        {
            "type": "content_type_deleted",
            "event_at": deleted_type[0]["event_at"],
            "content_type_uid": "author",
            "data": {},
        }
    ]
    deleted = {i["data"]["uid"] for i in items if i["type"] == "entry_deleted"}
    assert {"jane", "john", "bulk_000"} <= deleted
    assert len(deleted) == 2 + EXTRA_AUTHORS
    republished = {i["data"]["uid"] for i in items if i["type"] == "entry_published"}
    assert republished == {"post_a", "post_b"}
    assert {i["data"]["uid"] for i in filtered} == republished


async def test_tokens_survive_a_restart(stack_dir):
    async with local_client(stack_dir) as client:
        first = (await client.get(SYNC, params={**ENV, "init": "true"})).json()
        pagination = first["pagination_token"]
        _, _, token = await sync_all(client, {**ENV, "init": "true"})
    write_json(stack_dir / "entries/author/new.en-us.json", {"title": "New"})
    async with local_client(stack_dir) as client:  # a new app, as after a restart
        page = (await client.get(SYNC, params={"pagination_token": pagination})).json()
        assert page["skip"] == 100 and len(page["items"]) == 100
        assert page["items"][0]["data"]["uid"] != first["items"][-1]["data"]["uid"]
        _, items, _ = await sync_all(client, {"sync_token": token})
    assert keyed(items) == Counter({("entry_published", "author", "new"): 1})


async def test_forged_and_foreign_tokens_answer_141(stack_dir, tmp_path):
    other_dir = copy_stack(tmp_path / "other")
    async with local_client(other_dir) as other:
        _, _, foreign = await sync_all(other, {**ENV, "init": "true"})
    async with local_client(stack_dir) as client:
        first = (await client.get(SYNC, params={**ENV, "init": "true"})).json()
        _, _, token = await sync_all(client, {**ENV, "init": "true"})
        body, _, signature = token.partition(".")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        tampered_raw = raw.replace(b'"s":', b'"s":1')
        tampered = base64.urlsafe_b64encode(tampered_raw).rstrip(b"=").decode() + "." + signature
        for name, value in [
            ("sync_token", "blt1234567890abcdef"),
            ("sync_token", tampered),
            ("sync_token", foreign),
            ("sync_token", first["pagination_token"]),  # a token of the other kind
            ("pagination_token", token),
            ("pagination_token", "not-a-token"),
        ]:
            response = await client.get(SYNC, params={name: value})
            assert response.status_code == 422, (name, value)
            assert response.json() == {
                "error_message": f"The {name} is not valid.",
                "error_code": 141,
                "errors": {name: ["is not valid."]},
            }
        assert (await client.get(SYNC, params={"sync_token": token})).status_code == 200
