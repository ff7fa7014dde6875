"""Branches and branch aliases of the local stack: the ``branch`` header, ``_branch``, the
folder format (branches/<uid>/, ``branch_aliases``) and its errors."""

from __future__ import annotations

import json

import pytest

from sitegen.errors import StackFolderError
from sitegen.stack.folder import load_stack
from tests.stack_fixtures import (
    ENV,
    HEADERS,
    add_branch,
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
    """main, plus a ``develop`` branch where post_a is retitled and post_c does not exist;
    ``production`` is an alias of main and ``staging`` of develop."""
    stack = copy_stack(tmp_path)
    develop = add_branch(stack, "develop", {"production": "main", "staging": "develop"})
    post_a = develop / "entries" / "blog_post" / "post_a.en-us.json"
    write_json(post_a, {**read_json(post_a), "title": "Alpha (develop)"})
    (develop / "entries" / "blog_post" / "post_c.en-us.json").unlink()
    return stack


async def titles(client, branch=None, **params):
    headers = {**HEADERS, **({"branch": branch} if branch else {})}
    response = await client.get(
        "/v3/content_types/blog_post/entries", params={**ENV, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {e["uid"]: e for e in response.json()["entries"]}


async def test_the_branch_header_picks_the_branch_and_aliases_name_one(stack_dir):
    async with local_client(stack_dir) as client:
        main = await titles(client)
        develop = await titles(client, "develop")
        assert main["post_a"]["title"] == "Alpha" and "post_c" in main
        assert develop["post_a"]["title"] == "Alpha (develop)" and "post_c" not in develop
        assert (await titles(client, "main")).keys() == main.keys()
        # an alias reads its branch; _branch names the branch, not the alias
        staged = await titles(client, "staging", include_branch="true")
        assert staged["post_a"]["title"] == "Alpha (develop)"
        assert {e["_branch"] for e in staged.values()} == {"develop"}
        produced = await titles(client, "production", include_branch="true")
        assert {e["_branch"] for e in produced.values()} == {"main"}
        assert "_branch" not in (await titles(client, "develop"))["post_a"]


async def test_every_endpoint_family_answers_from_the_branch(stack_dir):
    develop = stack_dir / "branches" / "develop"
    ct = read_json(develop / "content_types" / "author.json")
    write_json(develop / "content_types" / "author.json", {**ct, "title": "Writer"})
    asset = read_json(develop / "assets" / "hero_img.json")
    write_json(develop / "assets" / "hero_img.json", {**asset, "title": "Hero (develop)"})
    headers = {**HEADERS, "branch": "develop"}
    params = {**ENV, "include_branch": "true"}
    async with local_client(stack_dir) as client:
        types = (await client.get("/v3/content_types", params=params, headers=headers)).json()
        author = next(t for t in types["content_types"] if t["uid"] == "author")
        assert author["title"] == "Writer" and author["_branch"] == "develop"
        one = await client.get("/v3/content_types/author", params=params, headers=headers)
        assert one.json()["content_type"]["title"] == "Writer"
        got = await client.get("/v3/assets/hero_img", params=params, headers=headers)
        assert got.json()["asset"]["title"] == "Hero (develop)"
        assert got.json()["asset"]["_branch"] == "develop"
        main = await client.get("/v3/assets/hero_img", params=ENV)
        assert main.json()["asset"]["title"] != "Hero (develop)"
        entry = await client.get(
            "/v3/content_types/blog_post/entries/post_a", params=params, headers=headers
        )
        assert entry.json()["entry"]["title"] == "Alpha (develop)"
        assert entry.json()["entry"]["_branch"] == "develop"
        gone = await client.get(
            "/v3/content_types/blog_post/entries/post_c", params=ENV, headers=headers
        )
        assert gone.status_code == 422 and gone.json()["error_code"] == 141


async def test_each_branch_syncs_on_its_own(stack_dir):
    headers = {**HEADERS, "branch": "develop"}
    async with local_client(stack_dir) as client:
        start = await client.get("/v3/stacks/sync", params={**ENV, "init": "true"})
        main_items = start.json()["items"]
        started = await client.get(
            "/v3/stacks/sync", params={**ENV, "init": "true"}, headers=headers
        )
        develop_items = started.json()["items"]
        assert any(i["data"].get("uid") == "post_c" for i in main_items)
        assert not any(i["data"].get("uid") == "post_c" for i in develop_items)
        token = started.json()["sync_token"]
        # an edit on develop is an event of develop only
        post_b = stack_dir / "branches" / "develop" / "entries" / "blog_post" / "post_b.en-us.json"
        write_json(post_b, {**read_json(post_b), "title": "Beta (develop)"})
        later = await client.get("/v3/stacks/sync", params={"sync_token": token}, headers=headers)
        assert [i["data"]["title"] for i in later.json()["items"]] == ["Beta (develop)"]
        main_token = start.json()["sync_token"]
        unchanged = await client.get("/v3/stacks/sync", params={"sync_token": main_token})
        assert unchanged.json()["items"] == []


async def test_an_unknown_branch_is_answered_as_the_cda_answers_it(stack_dir):
    async with local_client(stack_dir) as client:
        for name in ("mai", "../develop", "feature-x"):
            response = await client.get(
                "/v3/content_types/blog_post/entries",
                params=ENV,
                headers={**HEADERS, "branch": name},
            )
            assert response.status_code == 422
            body = response.json()
            assert body["error_code"] == 901
            assert body["error_message"] == (
                "Access denied. You have insufficient permissions to perform operation on "
                f"this branch '{name}'."
            )


async def test_a_new_branch_folder_is_served_without_a_restart(stack_dir):
    async with local_client(stack_dir) as client:
        miss = await client.get(
            "/v3/content_types", params=ENV, headers={**HEADERS, "branch": "hotfix"}
        )
        assert miss.status_code == 422
        add_branch(stack_dir, "hotfix")
        hit = await client.get(
            "/v3/content_types", params=ENV, headers={**HEADERS, "branch": "hotfix"}
        )
        assert hit.status_code == 200 and len(hit.json()["content_types"]) == 2


async def test_branch_credentials_are_mains(stack_dir):
    async with local_client(stack_dir, headers={"api_key": "x", "access_token": "y"}) as client:
        response = await client.get("/v3/content_types", params=ENV, headers={"branch": "develop"})
        assert response.status_code == 412  # the stack's api key, checked on the branch too


async def test_asset_files_of_a_branch_are_served_without_a_header(stack_dir):
    develop = stack_dir / "branches" / "develop"
    (develop / "assets" / "new_img").mkdir()
    (develop / "assets" / "new_img" / "new.svg").write_text("<svg/>", encoding="utf-8")
    write_json(
        develop / "assets" / "new_img.json",
        {"title": "New", "filename": "new.svg", "content_type": "image/svg+xml"},
    )
    async with local_client(stack_dir) as client:
        response = await client.get("/assets/new_img/new.svg")
        assert response.status_code == 200 and response.text == "<svg/>"
        assert (await client.get("/assets/new_img/other.svg")).status_code == 404


def test_a_branch_may_name_its_own_locales(stack_dir):
    develop = stack_dir / "branches" / "develop"
    write_json(
        develop / "stack.json",
        {"locales": [{"code": "en-us", "name": "English"}, {"code": "de-de", "name": "German"}]},
    )
    for entry in develop.glob("entries/*/*.fr-*.json"):
        entry.unlink()
    main = load_stack(stack_dir)
    branch = load_stack(develop, main=main)
    assert branch.locale_codes == ["en-us", "de-de"] and branch.branch == "develop"
    assert branch.api_key == main.api_key and branch.environments == main.environments
    branch.validate_all()


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda s: _stack_json(s, branch_aliases={"live": "nope"}),
            "alias \"live\" points at 'nope', which is not a branch of this stack",
        ),
        (
            lambda s: _stack_json(s, branch_aliases={"develop": "main"}),
            '"develop" is a branch and cannot also be an alias',
        ),
        (
            lambda s: _stack_json(s, branch_aliases=["main"]),
            '"branch_aliases" must be an object',
        ),
        (
            lambda s: (s / "branches" / "notes.txt").write_text("x"),
            "branches/ holds only branch folders",
        ),
        (
            lambda s: (s / "branches" / "main").mkdir(),
            'is not "main"',
        ),
    ],
)
def test_folder_mistakes_name_the_file_and_the_fix(stack_dir, change, message):
    change(stack_dir)
    with pytest.raises(StackFolderError) as raised:
        load_stack(stack_dir)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"api_key": "other"}, "a branch shares the stack's credentials"),
        ({"environments": ["preview"]}, "environment(s) preview are not in the stack's"),
        ({"branch_aliases": {}}, "unknown key branch_aliases"),
    ],
)
def test_a_branch_stack_json_holds_only_what_a_branch_owns(stack_dir, settings, message):
    develop = stack_dir / "branches" / "develop"
    write_json(develop / "stack.json", settings)
    with pytest.raises(StackFolderError) as raised:
        load_stack(develop, main=load_stack(stack_dir))
    assert message in str(raised.value) and str(develop / "stack.json") in str(raised.value)


async def test_a_broken_branch_is_reported_and_main_keeps_working(stack_dir):
    develop = stack_dir / "branches" / "develop"
    (develop / "content_types" / "author.json").write_text("{not json", encoding="utf-8")
    async with local_client(stack_dir) as client:
        broken = await client.get(
            "/v3/content_types", params=ENV, headers={**HEADERS, "branch": "develop"}
        )
        assert broken.status_code >= 400
        assert "author.json" in json.dumps(broken.json())
        assert (await client.get("/v3/content_types", params=ENV)).status_code == 200


def _stack_json(stack_dir, **changes):
    settings = read_json(stack_dir / "stack.json")
    write_json(stack_dir / "stack.json", {**settings, **changes})
