"""The local stack's Content Delivery API over HTTP: entries, assets, content types, errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn

from sitegen.stack import create_app
from tests.stack_fixtures import (
    API_KEY,
    DELIVERY_TOKEN,
    ENV,
    HEADERS,
    copy_stack,
    local_client,
    read_json,
    write_json,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def stack_dir(tmp_path):
    return copy_stack(tmp_path)


async def entries(client, ct="blog_post", **params):
    response = await client.get(f"/v3/content_types/{ct}/entries", params={**ENV, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def uids(client, ct="blog_post", **params):
    return [e["uid"] for e in (await entries(client, ct, **params))["entries"]]


async def error(client, path, status, params=None, **kwargs):
    response = await client.get(path, params=params if params is not None else ENV, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_message", "error_code", "errors"}
    return body


# -- lists, order, paging -----------------------------------------------------------------------


async def test_entries_in_default_order_with_system_fields(stack_dir):
    async with local_client(stack_dir) as client:
        body = await entries(client, include_count="true")
    # Newest updated_at first (post_c pins an old one), uid breaks ties; the draft is absent.
    assert [e["uid"] for e in body["entries"]] == ["post_a", "post_b", "post_c"]
    assert body["count"] == 3
    post_a = body["entries"][0]
    assert post_a["locale"] == "en-us"
    assert post_a["_version"] == 1
    assert post_a["tags"] == ["launch"]
    assert post_a["ACL"] == {}
    assert post_a["publish_details"]["locale"] == "en-us"
    assert post_a["publish_details"]["environment"].startswith("blt")
    assert post_a["publish_details"]["time"] == post_a["updated_at"]
    post_c = body["entries"][2]
    assert post_c["created_at"] == "2020-01-01T00:00:00.000Z"
    assert post_c["updated_at"] == "2020-02-01T00:00:00.000Z"


async def test_environments_get_their_own_publish_details(stack_dir):
    async with local_client(stack_dir) as client:
        prod = (await entries(client))["entries"][0]["publish_details"]["environment"]
        response = await client.get(
            "/v3/content_types/blog_post/entries", params={"environment": "staging"}
        )
        staging = response.json()["entries"][0]["publish_details"]["environment"]
    assert prod != staging


async def test_skip_limit_and_counts(stack_dir):
    async with local_client(stack_dir) as client:
        page = await entries(client, skip="1", limit="1", include_count="true")
        assert [e["uid"] for e in page["entries"]] == ["post_b"]
        assert page["count"] == 3
        assert await uids(client, skip="2") == ["post_c"]
        assert await uids(client, skip="5") == []
        assert "count" not in await entries(client)
        only_count = await client.get(
            "/v3/content_types/blog_post/entries", params={**ENV, "count": "true"}
        )
        assert only_count.json() == {"entries": 3}
        assert await uids(client, limit="10000") == ["post_a", "post_b", "post_c"]  # capped at 100
        for bad in ({"limit": "-1"}, {"skip": "x"}):
            body = await error(client, "/v3/content_types/blog_post/entries", 422, {**ENV, **bad})
            assert body["error_code"] == 141
            assert list(body["errors"]) == list(bad)


async def test_every_query_operator(stack_dir):
    cases = [
        ({"categories": "tech"}, ["post_a", "post_b"]),  # any array element
        ({"seo.description": "Beta post"}, ["post_b"]),  # dotted path into a group
        ({"author.uid": "john"}, ["post_b"]),  # dotted path into references
        ({"sections.hero.heading": "Welcome"}, ["post_a"]),  # into modular blocks
        ({"rating": {"$in": [1, 3]}}, ["post_b", "post_c"]),
        ({"rating": {"$nin": [1, 3]}}, ["post_a"]),
        ({"rating": {"$ne": 5}}, ["post_b", "post_c"]),
        ({"featured": {"$exists": False}}, ["post_c"]),
        ({"$and": [{"rating": {"$gte": 3}}, {"featured": False}]}, ["post_b"]),
        ({"$or": [{"rating": 1}, {"title": "Alpha"}]}, ["post_a", "post_c"]),
        ({"rating": {"$lt": 3}}, ["post_c"]),
        ({"rating": {"$lte": 3}}, ["post_b", "post_c"]),
        ({"rating": {"$gt": 3}}, ["post_a"]),
        ({"date": {"$gte": "2024-01-01T00:00:00.000Z"}}, ["post_a", "post_b"]),
        ({"title": {"$regex": "^a", "$options": "i"}}, ["post_a"]),
        ({"title": {"$regex": "^a"}}, []),
        ({"author": {"$in_query": {"name": "Jane"}}}, ["post_a"]),
        ({"author": {"$nin_query": {"name": "Jane"}}}, ["post_b", "post_c"]),
    ]
    async with local_client(stack_dir) as client:
        for query, expected in cases:
            assert await uids(client, query=json.dumps(query)) == expected, query


async def test_bad_query_answers_141(stack_dir):
    async with local_client(stack_dir) as client:
        for text in ("{oops", '{"rating": {"$near": 1}}', '{"title": {"$regex": "["}}'):
            body = await error(
                client, "/v3/content_types/blog_post/entries", 422, {**ENV, "query": text}
            )
            assert body["error_code"] == 141
            assert "query" in body["errors"]
            assert body["error_message"].startswith("Failed to fetch entries")


async def test_sorting(stack_dir):
    async with local_client(stack_dir) as client:
        assert await uids(client, asc="rating") == ["post_c", "post_b", "post_a"]
        assert await uids(client, desc="rating") == ["post_a", "post_b", "post_c"]
        assert await uids(client, asc="date") == ["post_c", "post_b", "post_a"]
        assert await uids(client, desc="title") == ["post_c", "post_b", "post_a"]
        assert await uids(client, asc="title", limit="1", skip="1") == ["post_b"]


async def test_only_and_except(stack_dir):
    async with local_client(stack_dir) as client:
        body = await entries(client, **{"only[BASE][]": "title"})
        assert body["entries"][0] == {"title": "Alpha", "uid": "post_a"}
        response = await client.get(
            "/v3/content_types/blog_post/entries",
            params=[*ENV.items(), ("only[BASE][]", "title"), ("only[BASE][]", "seo.description")],
        )
        assert response.json()["entries"][1] == {
            "title": "Beta",
            "seo": {"description": "Beta post"},
            "uid": "post_b",
        }
        response = await client.get(
            "/v3/content_types/blog_post/entries",
            params=[*ENV.items(), ("except[BASE][]", "body"), ("except[BASE][]", "summary")],
        )
        first = response.json()["entries"][0]
        assert "body" not in first and "summary" not in first
        assert first["title"] == "Alpha" and first["uid"] == "post_a"


# -- locales ------------------------------------------------------------------------------------


async def test_locale_without_and_with_fallback(stack_dir):
    async with local_client(stack_dir) as client:
        localized = (await entries(client, locale="fr-fr"))["entries"]
        assert [(e["uid"], e["title"], e["locale"]) for e in localized] == [
            ("post_a", "Alpha (fr)", "fr-fr")
        ]
        served = (await entries(client, locale="fr-fr", include_fallback="true"))["entries"]
        assert [(e["uid"], e["locale"], e["publish_details"]["locale"]) for e in served] == [
            ("post_a", "fr-fr", "fr-fr"),
            ("post_b", "en-us", "en-us"),
            ("post_c", "en-us", "en-us"),
        ]
        assert served[0]["title"] == "Alpha (fr)"
        # A chain: fr-ca has nothing of its own, falls back to fr-fr, then en-us.
        chain = (await entries(client, "author", locale="fr-ca", include_fallback="true"))[
            "entries"
        ]
        assert {e["uid"]: (e["title"], e["locale"]) for e in chain} == {
            "jane": ("Jeanne Doe", "fr-fr"),
            "john": ("John Roe", "en-us"),
        }
        assert await uids(client, "author", locale="fr-ca") == []


async def test_single_entry_and_fallback(stack_dir):
    async with local_client(stack_dir) as client:
        response = await client.get("/v3/content_types/blog_post/entries/post_a", params=ENV)
        assert response.status_code == 200
        assert set(response.json()) == {"entry"}
        assert response.json()["entry"]["title"] == "Alpha"
        path = "/v3/content_types/blog_post/entries/post_b"
        body = await error(client, path, 422, {**ENV, "locale": "fr-fr"})
        assert body["error_code"] == 141 and body["errors"] == {"uid": ["is not valid."]}
        response = await client.get(
            path, params={**ENV, "locale": "fr-fr", "include_fallback": "true"}
        )
        assert response.json()["entry"]["locale"] == "en-us"
        draft = await error(client, "/v3/content_types/blog_post/entries/post_d", 422)
        assert draft["error_code"] == 141
        body = await error(client, path, 422, {**ENV, "locale": "xx-yy"})
        assert body["errors"] == {"locale": ["is not valid."]}


# -- references, files, embedded items ------------------------------------------------------------


async def test_include_all_depth_one(stack_dir):
    async with local_client(stack_dir) as client:
        post_a = (await entries(client, include_all="true"))["entries"][0]
        no_include = (await entries(client))["entries"][0]
    assert no_include["author"] == [{"uid": "jane", "_content_type_uid": "author"}]
    jane = post_a["author"][0]
    assert (jane["uid"], jane["name"], jane["_content_type_uid"]) == ("jane", "Jane", "author")
    assert (
        jane["photo"]["url"] == "http://local-stack/assets/jane_photo/jane.jpg"
    )  # files inside references too
    # Jane's own reference stays a stub at depth 1 (it would point back at post_a anyway).
    assert jane["favourite_post"] == [{"uid": "post_a", "_content_type_uid": "blog_post"}]
    post_b = post_a["related"][0]
    assert post_b["title"] == "Beta" and post_b["_content_type_uid"] == "blog_post"
    assert post_b["author"] == [
        {"uid": "john", "_content_type_uid": "author"},
        {"uid": "ghost", "_content_type_uid": "author"},
    ]


async def test_include_all_depth_two_with_a_cycle(stack_dir):
    async with local_client(stack_dir) as client:
        body = await entries(client, include_all="true", include_all_depth="2")
        bad = await error(
            client,
            "/v3/content_types/blog_post/entries",
            422,
            {**ENV, "include_all": "true", "include_all_depth": "6"},
        )
    assert bad["error_code"] == 141 and "include_all_depth" in bad["errors"]
    post_a, post_b = body["entries"][0], body["entries"][1]
    related = post_a["related"][0]
    # Depth 2: post_b's author is resolved, the missing "ghost" author is dropped...
    assert [(a["uid"], a["name"]) for a in related["author"]] == [("john", "John")]
    # ...and post_b's reference back to post_a is not expanded inside post_a (cycle).
    assert related["related"] == [{"uid": "post_a", "_content_type_uid": "blog_post"}]
    # From post_b's side the cycle is entered the other way round.
    assert post_b["related"][0]["uid"] == "post_a"
    assert post_b["related"][0]["related"] == [{"uid": "post_b", "_content_type_uid": "blog_post"}]
    assert post_b["related"][0]["author"][0]["name"] == "Jane"


async def test_include_named_references_and_locale_of_references(stack_dir):
    async with local_client(stack_dir) as client:
        post_a = (await entries(client, **{"include[]": "author"}))["entries"][0]
        assert post_a["author"][0]["name"] == "Jane"
        assert post_a["related"] == [{"uid": "post_b", "_content_type_uid": "blog_post"}]
        response = await client.get(
            "/v3/content_types/blog_post/entries",
            params=[*ENV.items(), ("include[]", "related"), ("include[]", "related.author")],
        )
        related = response.json()["entries"][0]["related"][0]
        assert related["author"][0]["name"] == "John"
        fr = (await entries(client, locale="fr-fr", include_all="true"))["entries"][0]
        assert fr["author"][0]["title"] == "Jeanne Doe"  # resolved in the same locale


async def test_include_in_the_delivery_sdks_nested_form(stack_dir):
    # @contentstack/delivery-sdk's includeReference("author") sends include[][]=author
    async with local_client(stack_dir) as client:
        post_a = (await entries(client, **{"include[][]": "author"}))["entries"][0]
        assert post_a["author"][0]["name"] == "Jane"
        assert post_a["related"] == [{"uid": "post_b", "_content_type_uid": "blog_post"}]


async def test_a_trailing_slash_is_answered_not_redirected(stack_dir):
    async with local_client(stack_dir) as client:
        for path in (
            "/v3/content_types/",
            "/v3/content_types/blog_post/",
            "/v3/content_types/blog_post/entries/",
            "/v3/content_types/blog_post/entries/post_a/",
            "/v3/assets/",
            "/v3/stacks/sync/",
        ):
            params = {**ENV, "init": "true"} if "sync" in path else ENV
            slashed = await client.get(path, params=params)
            plain = await client.get(path.rstrip("/"), params=params)
            assert slashed.status_code == 200, (path, slashed.status_code, slashed.headers)
            assert slashed.json().keys() == plain.json().keys(), path


async def test_file_fields_become_assets(stack_dir):
    async with local_client(stack_dir) as client:
        post_a = (await entries(client))["entries"][0]
    cover = post_a["cover"]
    assert cover["uid"] == "hero_img"
    assert cover["url"] == "http://local-stack/assets/hero_img/hero.png"
    assert cover["filename"] == "hero.png"
    assert cover["content_type"] == "image/png"
    assert cover["file_size"] == "18"
    assert cover["publish_details"]["locale"] == "en-us"
    assert [a["uid"] for a in post_a["gallery"]] == ["hero_img", "jane_photo"]
    assert post_a["seo"]["image"]["uid"] == "jane_photo"
    assert (
        post_a["sections"][0]["hero"]["image"]["url"]
        == "http://local-stack/assets/hero_img/hero.png"
    )
    assert post_a["sections"][1]["quote"]["text"].startswith("<p>Quoted")


async def test_asset_urls_are_absolute_unless_relative_urls_is_asked(stack_dir):
    # the CDA answers absolute asset URLs; the SDKs' relative_urls() asks for the path only
    async with local_client(stack_dir) as client:
        absolute = (await entries(client))["entries"][0]["cover"]["url"]
        relative = (await entries(client, relative_urls="true"))["entries"][0]["cover"]["url"]
        listed = (await client.get("/v3/assets", params=ENV)).json()["assets"]
    assert absolute == "http://local-stack/assets/hero_img/hero.png"
    assert relative == "/assets/hero_img/hero.png"
    hero = next(a for a in listed if a["uid"] == "hero_img")
    assert hero["url"] == absolute
    remote = next(a for a in listed if a["uid"] == "doc_pdf")
    assert remote["url"] == "https://example.com/files/guide.pdf"  # a URL of its own is kept


async def test_embedded_items_for_json_and_html_rte(stack_dir):
    async with local_client(stack_dir) as client:
        plain = (await entries(client))["entries"][0]
        assert "_embedded_items" not in plain
        post_a = (await entries(client, **{"include_embedded_items[]": "BASE"}))["entries"][0]
    items = post_a["_embedded_items"]
    assert set(items) == {"body", "summary", "sections.quote.text"}
    body = [(i["uid"], i["_content_type_uid"]) for i in items["body"]]
    assert body == [("john", "author"), ("hero_img", "sys_assets")]
    assert items["body"][0]["name"] == "John"
    assert items["body"][1]["url"] == "http://local-stack/assets/hero_img/hero.png"
    summary = [(i["uid"], i["_content_type_uid"]) for i in items["summary"]]
    assert summary == [("jane", "author"), ("doc_pdf", "sys_assets")]
    assert items["summary"][1]["url"] == "https://example.com/files/guide.pdf"
    assert items["summary"][1]["file_size"] == "2048"
    assert items["sections.quote.text"][0]["uid"] == "jane_photo"
    # The RTE values themselves are returned as stored.
    assert post_a["body"]["children"][1]["attrs"]["entry-uid"] == "john"


# -- assets and content types ---------------------------------------------------------------------


async def test_assets(stack_dir):
    async with local_client(stack_dir) as client:
        response = await client.get("/v3/assets", params={**ENV, "include_count": "true"})
        body = response.json()
        assert body["count"] == 3
        assert [a["uid"] for a in body["assets"]] == ["doc_pdf", "hero_img", "jane_photo"]
        response = await client.get(
            "/v3/assets", params={**ENV, "query": json.dumps({"content_type": "image/jpeg"})}
        )
        assert [a["uid"] for a in response.json()["assets"]] == ["jane_photo"]
        response = await client.get("/v3/assets", params={**ENV, "asc": "title", "limit": "1"})
        assert [a["title"] for a in response.json()["assets"]] == ["Guide"]
        single = (await client.get("/v3/assets/hero_img", params=ENV)).json()["asset"]
        assert single["title"] == "Hero image" and single["description"] == "A hero"
        missing = await error(client, "/v3/assets/nope", 422)
        assert missing["error_code"] == 145


async def test_asset_bytes_are_served_at_their_url(stack_dir):
    async with local_client(stack_dir, headers={}) as client:
        response = await client.get("/assets/hero_img/hero.png")
        assert response.status_code == 200
        assert response.content == b"\x89PNG\r\n\x1a\nhero-bytes"
        assert response.headers["content-type"] == "image/png"
        assert (await client.get("/v3/assets/jane_photo/jane.jpg")).content == b"jpeg-bytes-of-jane"
        assert (await client.get("/assets/hero_img/other.png")).status_code == 404
        assert (await client.get("/assets/doc_pdf/guide.pdf")).status_code == 404  # url only


async def test_content_types(stack_dir):
    async with local_client(stack_dir) as client:
        response = await client.get("/v3/content_types", params={"include_count": "true"})
        body = response.json()
        assert body["count"] == 2
        assert {ct["uid"] for ct in body["content_types"]} == {"author", "blog_post"}
        blog = next(ct for ct in body["content_types"] if ct["uid"] == "blog_post")
        assert blog["options"] == {"is_page": True, "url_pattern": "/:title"}
        assert blog["_version"] == 1 and blog["created_at"]
        limited = await client.get("/v3/content_types", params={"limit": "1", "skip": "1"})
        assert len(limited.json()["content_types"]) == 1
        single = await client.get("/v3/content_types/author")
        assert single.json()["content_type"]["title"] == "Author"
        for path in ("/v3/content_types/nope", "/v3/content_types/nope/entries"):
            body = await error(client, path, 422)
            assert body["error_code"] == 118
            assert body["errors"] == {"uid": ["is not valid."]}
        body = await error(client, "/v3/content_types/blog_post/entries/nope", 422)
        assert body["error_code"] == 141
        assert body["errors"] == {"uid": ["is not valid."]}


# -- credentials and environments -----------------------------------------------------------------


async def test_credentials_are_checked_and_never_echoed(stack_dir):
    path = "/v3/content_types/blog_post/entries"
    async with local_client(stack_dir, headers={}) as client:
        cases = [
            ({}, 412),
            ({"api_key": "wrong"}, 412),
            ({"access_token": DELIVERY_TOKEN}, 412),
            ({"api_key": API_KEY}, 401),
            ({"api_key": API_KEY, "access_token": "wrong"}, 401),
        ]
        for headers, status in cases:
            response = await client.get(path, params=ENV, headers=headers)
            assert response.status_code == status, headers
            body = response.json()
            field = "api_key" if status == 412 else "access_token"
            assert body["errors"] == {field: ["is not valid."]}
            assert API_KEY not in response.text and DELIVERY_TOKEN not in response.text
        ok = await client.get(path, params=ENV, headers=HEADERS)
        assert ok.status_code == 200
        assert API_KEY not in ok.text and DELIVERY_TOKEN not in ok.text


async def test_environment_is_required_and_checked(stack_dir):
    async with local_client(stack_dir) as client:
        body = await error(client, "/v3/content_types/blog_post/entries", 422, {})
        assert body["errors"] == {"environment": ["is required."]}
        body = await error(
            client, "/v3/content_types/blog_post/entries", 422, {"environment": "prod"}
        )
        assert body["errors"] == {"environment": ["is not valid."]}
        response = await client.get(
            "/v3/content_types/blog_post/entries", headers={**HEADERS, "environment": "staging"}
        )
        assert response.status_code == 200


async def test_open_stack_accepts_any_credentials(stack_dir):
    settings = read_json(stack_dir / "stack.json")
    del settings["api_key"], settings["delivery_token"]
    write_json(stack_dir / "stack.json", settings)
    async with local_client(stack_dir, headers={}) as client:
        response = await client.get("/v3/content_types/author/entries", params=ENV)
        assert response.status_code == 200
        assert len(response.json()["entries"]) == 2


# -- rescans ---------------------------------------------------------------------------------------


async def test_edits_are_seen_after_a_content_type_list(stack_dir):
    async with local_client(stack_dir) as client:
        assert (await entries(client, "author"))["entries"][1]["name"] == "John"
        write_json(stack_dir / "entries/author/john.en-us.json", {"title": "John", "name": "Jo"})
        write_json(stack_dir / "entries/author/zoe.en-us.json", {"title": "Zoe"})
        # Other requests answer from the last scan...
        assert await uids(client, "author") == ["jane", "john"]
        # ...a content type list rescans, like a build starting.
        assert (await client.get("/v3/content_types")).status_code == 200
        found = {e["uid"]: e for e in (await entries(client, "author"))["entries"]}
        assert found["john"]["name"] == "Jo" and found["john"]["_version"] == 2
        assert "zoe" in found
        (stack_dir / "entries/author/zoe.en-us.json").write_text('{"title": }')
        body = await error(client, "/v3/content_types", 400, {})
        assert "entries/author/zoe.en-us.json" in body["error_message"]
        assert "line 1" in body["error_message"]
        # The last good scan keeps answering entry requests.
        assert "zoe" in await uids(client, "author")


async def test_new_app_over_the_same_folder_keeps_versions(stack_dir):
    async with local_client(stack_dir) as client:
        await client.get("/v3/content_types")
        write_json(stack_dir / "entries/author/john.en-us.json", {"title": "John", "name": "Jo"})
        await client.get("/v3/content_types")
        first = (await entries(client, "author"))["entries"]
    async with local_client(stack_dir) as client:
        again = (await entries(client, "author"))["entries"]
    assert again == first
    assert {e["uid"]: e["_version"] for e in again} == {"jane": 1, "john": 2}


# -- on a real port ------------------------------------------------------------------------------


def test_served_over_a_loopback_port(stack_dir, tmp_path):
    app = create_app(stack_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as client:
            response = client.get("/v3/content_types/blog_post/entries", params=ENV)
            assert response.status_code == 200
            assert [e["uid"] for e in response.json()["entries"]] == ["post_a", "post_b", "post_c"]
            sync = client.get("/v3/stacks/sync", params={**ENV, "init": "true"}).json()
            assert sync["total_count"] == 10 and "sync_token" in sync
            refused = client.get("/v3/content_types", headers={"api_key": "wrong"})
            assert refused.status_code == 412
            image = client.get("/assets/hero_img/hero.png")
            assert image.content.startswith(b"\x89PNG")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.service.close()
        sock.close()


async def test_projection_of_included_references(stack_dir):
    async with local_client(stack_dir) as client:
        response = await client.get(
            "/v3/content_types/blog_post/entries",
            params=[
                *ENV.items(),
                ("include[]", "author"),
                ("only[BASE][]", "title"),
                ("only[BASE][]", "author"),
                ("only[author][]", "name"),
            ],
        )
    post_a = response.json()["entries"][0]
    assert post_a == {
        "title": "Alpha",
        "author": [{"name": "Jane", "uid": "jane", "_content_type_uid": "author"}],
        "uid": "post_a",
    }


SERVE_SCRIPT = """
import sys
from sitegen.stack import serve
serve(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2]))
"""


def test_serve_runs_uvicorn_and_keeps_credentials_out_of_the_log(stack_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, str(stack_dir), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                httpx.get(base + "/v3/content_types", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        leaky = httpx.get(
            base + "/v3/content_types",
            params={"api_key": API_KEY, "access_token": DELIVERY_TOKEN},
            headers=HEADERS,
        )
        assert leaky.status_code == 200
        assert API_KEY not in leaky.text and DELIVERY_TOKEN not in leaky.text
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert "GET /v3/content_types?api_key=[redacted]&access_token=[redacted]" in output
    assert API_KEY not in output and DELIVERY_TOKEN not in output
