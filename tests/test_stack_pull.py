"""`sitegen stack pull`: a snapshot of a stack, read through the Sync API, as a local stack folder.

The fixture stack is served on a real loopback port (or in-process through `[stack] local`),
pulled, and the snapshot is compared with the original through the CDA of both and through
the site built from each.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from sitegen.cli import cli
from sitegen.config import StackConfig
from sitegen.source.cda import CDAClient
from sitegen.stack.app import create_app
from sitegen.stack.faults import Faults, Schedule
from sitegen.stack.folder import load_stack
from sitegen.stack.snapshot import entry_fields, pull_stack
from tests.sites import API_KEY, TOKEN, embed_asset, make_site, serve_app, write_json
from tests.test_build import build, served, tree

VOLATILE = {"_version", "publish_details", "created_by", "updated_by"}
ASSET_DATES = {"created_at", "updated_at"}  # the format cannot pin an asset's dates


def enrich(stack: Path) -> None:
    """Give the fixture stack assets (local bytes and a remote URL), file fields and tags."""
    write_json(
        stack / "assets/logo.json",
        {"title": "Logo", "filename": "logo.svg", "content_type": "image/svg+xml"},
    )
    (stack / "assets/logo").mkdir()
    (stack / "assets/logo/logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    write_json(
        stack / "assets/remote.json",
        {
            "title": "Remote",
            "filename": "remote.png",
            "content_type": "image/png",
            "url": "https://images.example.com/remote.png",
            "description": "kept as a URL",
            "tags": ["hero"],
        },
    )
    page = json.loads((stack / "content_types/page.json").read_text())
    page["schema"] += [
        {"uid": "hero", "data_type": "file"},
        {
            "uid": "seo",
            "data_type": "group",
            "schema": [{"uid": "images", "data_type": "file", "multiple": True}],
        },
        {
            "uid": "sections",
            "data_type": "blocks",
            "multiple": True,
            "blocks": [
                {
                    "uid": "quote",
                    "title": "Quote",
                    "schema": [
                        {"uid": "text", "data_type": "text"},
                        {"uid": "pic", "data_type": "file"},
                    ],
                }
            ],
        },
    ]
    write_json(stack / "content_types/page.json", page)
    home_file = stack / "entries/page/home.en-us.json"
    home = json.loads(home_file.read_text())
    home["body"]["children"].append(embed_asset("logo", "logo.svg"))
    home.update(
        hero="logo",
        seo={"images": ["logo", "remote"]},
        sections=[{"quote": {"text": "Hi", "pic": "remote"}}],
        tags=["front"],
    )
    write_json(home_file, home)


def copy_example_site(site: Path) -> Path:
    """The example site (with its stack) at ``site``, without build output or state."""
    example = Path(__file__).parent.parent / "example_site"
    ignore = shutil.ignore_patterns("public", ".sitegen", ".*.history.sqlite*")
    shutil.copytree(example, site, ignore=ignore)
    return site


def normalized(value: Any) -> Any:
    """A CDA response without the system fields that legitimately differ between stacks."""
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if not isinstance(value, dict):
        return value
    drop = VOLATILE | (ASSET_DATES if "filename" in value and "is_dir" in value else set())
    return {k: normalized(v) for k, v in value.items() if k not in drop}


def remote_site(root: Path, url: str, token: str = TOKEN) -> Path:
    """A site folder whose [stack] is the CDA at `url` (only its sitegen.toml matters here)."""
    (root / "templates").mkdir(parents=True)
    (root / "sitegen.toml").write_text(
        f'[stack]\nhost = "{url}"\napi_key = "{API_KEY}"\ndelivery_token = "{token}"\n'
        'environment = "production"\nmax_tries = 1\n',
        encoding="utf-8",
    )
    return root


def run(*args: str):
    result = CliRunner().invoke(cli, ["stack", "pull", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def error_line(result) -> str:
    """The one line of a failed command's error (progress lines go before it)."""
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], result.output
    return errors[0]


def all_text(folder: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()
    )


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def cda_get(base: str, path: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
    """A CDA answer with asset URLs relative: the two stacks compared run on different ports."""
    query = {"environment": "production", "relative_urls": "true", **params}
    response = httpx.get(f"{base}/v3{path}", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_snapshot_serves_the_same_content_as_the_original(tmp_path: Path):
    site = make_site(tmp_path / "orig")
    enrich(site / "stack")
    snap = tmp_path / "snap"
    auth = {"api_key": API_KEY, "access_token": TOKEN}
    with served(site / "stack") as url:
        puller = remote_site(tmp_path / "puller", url)
        result = run(str(snap), "--site", str(puller), "--fallback", "fr-fr=en-us")
        assert result.exit_code == 0, result.output
        assert "Pulled 4 content types, 7 entries (en-us 6, fr-fr 1) and 2 assets" in result.output

        # what the format wants: field values only, file fields as uids, no credentials
        home = json.loads((snap / "entries/page/home.en-us.json").read_text())
        assert home["hero"] == "logo" and home["seo"] == {"images": ["logo", "remote"]}
        assert home["sections"] == [{"quote": {"text": "Hi", "pic": "remote"}}]
        assert home["tags"] == ["front"] and "created_at" in home and "updated_at" in home
        assert not {"uid", "locale", "publish_details", "_version", "ACL"} & set(home)
        stack_json = json.loads((snap / "stack.json").read_text())
        assert stack_json == {
            "name": "snap",
            "environments": ["production"],
            "locales": [
                {"code": "en-us", "name": "en-us"},
                {"code": "fr-fr", "name": "fr-fr", "fallback_locale": "en-us"},
            ],
        }
        # a local asset's URL only makes sense beside its stack: its bytes are downloaded;
        # a remote one keeps its absolute URL
        assert (snap / "assets/logo/logo.svg").read_bytes() == (
            site / "stack/assets/logo/logo.svg"
        ).read_bytes()
        assert "url" not in json.loads((snap / "assets/logo.json").read_text())
        remote = json.loads((snap / "assets/remote.json").read_text())
        assert remote["url"] == "https://images.example.com/remote.png"
        assert remote["tags"] == ["hero"] and remote["description"] == "kept as a URL"
        assert API_KEY not in all_text(snap) and TOKEN not in all_text(snap)
        assert API_KEY not in result.output and TOKEN not in result.output
        assert load_stack(snap).api_key is None and load_stack(snap).delivery_token is None
        assert leftovers(tmp_path, "snap") == []

        with served(snap) as snap_url:
            for path in ("/content_types",):
                original = cda_get(url, path, {}, auth)["content_types"]
                copy = cda_get(snap_url, path, {}, {})["content_types"]
                strip = {"created_at", "updated_at", "_version"}
                assert [{k: v for k, v in ct.items() if k not in strip} for ct in copy] == [
                    {k: v for k, v in ct.items() if k not in strip} for ct in original
                ]
            original_assets = cda_get(url, "/assets", {}, auth)["assets"]
            copy_assets = cda_get(snap_url, "/assets", {}, {})["assets"]
            assert sorted(normalized(copy_assets), key=lambda a: a["uid"]) == sorted(
                normalized(original_assets), key=lambda a: a["uid"]
            )
            checked = 0
            for ct in ("page", "post", "author", "team"):
                for locale in ("en-us", "fr-fr"):
                    for extra in (
                        {},
                        {
                            "include_fallback": "true",
                            "include_all": "true",
                            "include_all_depth": "2",
                            "include_embedded_items[]": "BASE",
                        },
                    ):
                        params = {"locale": locale, **extra}
                        path = f"/content_types/{ct}/entries"
                        original = cda_get(url, path, params, auth)["entries"]
                        copy = cda_get(snap_url, path, params, {})["entries"]
                        assert normalized(copy) == normalized(original), (ct, locale, extra)
                        checked += len(original)
            assert checked == 7 + 2 * 6  # localized entries, then every entry in both locales


def test_site_built_from_the_snapshot_equals_the_original(tmp_path: Path):
    original = make_site(tmp_path / "a")
    enrich(original / "stack")
    build(original)
    copy = make_site(
        tmp_path / "b", stack_toml='local = "snap"\nenvironment = "production"\n'
    )  # its own fixture stack is not used
    # [stack] local: the original is served in-process
    result = run(
        str(copy / "snap"), "--site", str(original), "--locale", "en-us", "--locale", "fr-fr"
    )
    assert result.exit_code == 0, result.output
    build(copy)
    assert tree(copy / "public") == tree(original / "public")
    assert (copy / "public/assets/logo/logo.svg").is_file()


def test_force_replaces_a_non_empty_folder(tmp_path: Path):
    site = make_site(tmp_path / "site")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(str(out), "--site", str(site))
    assert result.exit_code == 1
    assert "is not empty" in error_line(result) and "--force" in error_line(result)
    assert (out / "keep.txt").read_text() == "mine"

    result = run(str(out), "--site", str(site), "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "keep.txt").exists() and (out / "stack.json").is_file()
    load_stack(out).validate_all()
    assert leftovers(tmp_path, "out") == []

    # an empty folder needs no --force; a file is never replaced
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(str(empty), "--site", str(site)).exit_code == 0
    (tmp_path / "file").write_text("x")
    result = run(str(tmp_path / "file"), "--site", str(site), "--force")
    assert result.exit_code == 1 and "is a file" in error_line(result)


def test_refused_credentials_leave_nothing_behind(tmp_path: Path):
    site = make_site(tmp_path / "site")
    old = tmp_path / "old"
    old.mkdir()
    (old / "keep.txt").write_text("mine")
    with served(site / "stack") as url:
        puller = remote_site(tmp_path / "puller", url, token="cs_wrong_token_0000")
        result = run(str(tmp_path / "snap"), "--site", str(puller))
        assert result.exit_code == 1
        line = error_line(result)
        assert "HTTP 401" in line and "delivery token" in line
        assert "cs_wrong_token_0000" not in result.output and API_KEY not in result.output
        assert not (tmp_path / "snap").exists()
        assert leftovers(tmp_path, "snap") == []
        # a failed --force pull keeps the old folder as it was
        assert run(str(old), "--site", str(puller), "--force").exit_code == 1
        assert [p.name for p in old.iterdir()] == ["keep.txt"]
        assert leftovers(tmp_path, "old") == []


def test_a_credential_in_the_content_is_never_written(tmp_path: Path):
    site = make_site(tmp_path / "site")
    write_json(site / "stack/entries/team/core.en-us.json", {"title": f"token {TOKEN}"})
    with served(site / "stack") as url:
        result = run(str(tmp_path / "snap"), "--site", str(remote_site(tmp_path / "p", url)))
    assert result.exit_code == 1 and "API key or delivery token" in result.output
    assert TOKEN not in result.output
    assert not (tmp_path / "snap").exists() and leftovers(tmp_path, "snap") == []


def test_locale_option_keeps_only_those_locales(tmp_path: Path):
    site = make_site(tmp_path / "site")
    result = run(str(tmp_path / "snap"), "--site", str(site), "--locale", "en-us")
    assert result.exit_code == 0, result.output
    assert "fr-fr (1)" in result.output  # the warning about what was left out
    assert load_stack(tmp_path / "snap").locale_codes == ["en-us"]
    assert not list((tmp_path / "snap/entries").rglob("*.fr-fr.json"))


def test_sync_pagination_pages_are_all_written(tmp_path: Path):
    site = make_site(tmp_path / "site", posts=250)
    result = run(str(tmp_path / "snap"), "--site", str(site))
    assert result.exit_code == 0, result.output
    # content types, global fields, 3 sync pages, taxonomies (the fixture has none)
    assert "254 entries (en-us 253, fr-fr 1)" in result.output and "6 CDA requests" in result.output
    assert len(list((tmp_path / "snap/entries/post").iterdir())) == 250


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fallback", "fr-fr"], "LOCALE=FALLBACK"),
        (["--locale", "en-us", "--fallback", "de-de=en-us"], "not one of the --locale"),
        (["--fallback", "en-us=fr-fr", "--fallback", "fr-fr=en-us"], "none can be the master"),
    ],
)
def test_bad_locale_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str):
    site = make_site(tmp_path / "site")
    result = run(str(tmp_path / "snap"), "--site", str(site), *args)
    assert result.exit_code == 1 and message in error_line(result)
    assert not (tmp_path / "snap").exists() and leftovers(tmp_path, "snap") == []


def test_assets_option_downloads_remote_files_without_credentials(tmp_path: Path):
    site = make_site(tmp_path / "site")
    enrich(site / "stack")
    seen: list[httpx.Request] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"\x89PNG fake")

    async def go():
        stack = StackConfig(
            environment="production",
            base_url="http://local-stack",
            include_depth=2,
            api_key=API_KEY,
            delivery_token=TOKEN,
        )
        transport = httpx.ASGITransport(app=create_app(site / "stack"))
        async with (
            CDAClient(stack, transport=transport) as client,
            httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as external,
        ):
            return await pull_stack(
                client, tmp_path / "snap", download_assets=True, external_http=external
            )

    summary = asyncio.run(go())
    snap = tmp_path / "snap"
    assert summary.asset_files == 2 and summary.entries_by_locale == {"en-us": 6, "fr-fr": 1}
    assert (snap / "assets/remote/remote.png").read_bytes() == b"\x89PNG fake"
    assert "url" not in json.loads((snap / "assets/remote.json").read_text())
    assert [str(r.url) for r in seen] == ["https://images.example.com/remote.png"]
    assert not {"api_key", "access_token"} & set(seen[0].headers)
    load_stack(snap).validate_all()


def test_entry_fields_from_delivered_shapes():
    schema = [
        {"uid": "cover", "data_type": "file"},
        {"uid": "files", "data_type": "file", "multiple": True},
        {"uid": "author", "data_type": "reference", "reference_to": ["author"]},
        {"uid": "any", "data_type": "reference", "reference_to": ["author", "team"]},
    ]
    data = {
        "uid": "e1",
        "locale": "en-us",
        "title": "T",
        "cover": {"uid": "img", "url": "https://x/img.png", "filename": "img.png"},
        "files": ["a", {"uid": "b"}],
        "author": ["jane", {"uid": "joe", "_content_type_uid": "author", "title": "Joe"}],
        "any": [{"uid": "x", "_content_type_uid": "page"}, "ambiguous"],
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "not a date",
        "tags": [],
        "_version": 3,
        "_in_progress": False,
        "ACL": {},
        "publish_details": {"locale": "en-us"},
        "created_by": "u",
        "updated_by": "u",
    }
    fields, refs, notes = entry_fields(data, schema)
    assert fields == {
        "title": "T",
        "cover": "img",
        "files": ["a", "b"],
        "author": [
            {"uid": "jane", "_content_type_uid": "author"},
            {"uid": "joe", "_content_type_uid": "author"},
        ],
        "any": [],
        "created_at": "2024-05-01T12:00:00.000Z",
    }
    assert refs == {"img", "a", "b"}
    assert len(notes) == 2 and all('reference field "any"' in n for n in notes)


def test_an_entry_unpublished_while_the_walk_restarts_is_not_kept(tmp_path: Path):
    """The first pagination token expires; just before that, a post of the first page is
    unpublished. The walk begins again without it, and no delete event follows: the snapshot
    must not keep it."""
    site = make_site(tmp_path / "site", posts=250)  # 3 sync pages
    faults = Faults(expired_pagination=Schedule(nth=(1,)))
    stack = create_app(site / "stack", faults=faults)
    first_page: list[str] = []

    async def app(scope, receive, send):
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"pagination_token" in query and first_page:
            (site / f"stack/entries/post/{first_page[0]}.en-us.json").unlink(missing_ok=True)
        if b"init=true" not in query:
            return await stack(scope, receive, send)
        body = []

        async def keep(message):
            body.append(message.get("body", b""))
            await send(message)

        await stack(scope, receive, keep)
        items = json.loads(b"".join(body))["items"]
        posts = [i["data"]["uid"] for i in items if i.get("content_type_uid") == "post"]
        first_page[:] = first_page or posts

    with serve_app(app) as url:
        result = run(str(tmp_path / "snap"), "--site", str(remote_site(tmp_path / "me", url)))
    assert result.exit_code == 0, result.output
    assert faults.count("expired_pagination") == 1 and first_page
    posts = {p.name for p in (tmp_path / "snap/entries/post").iterdir()}
    assert f"{first_page[0]}.en-us.json" not in posts and len(posts) == 249


def test_global_fields_and_taxonomies_are_snapshotted(tmp_path: Path):
    site = copy_example_site(tmp_path / "site")
    snap = tmp_path / "snap"
    result = run(str(snap), "--site", str(site), *("--locale", "en-us", "--locale", "fr-fr"))
    assert result.exit_code == 0, result.output
    for rel in ("global_fields/seo.json", "taxonomies/topics.json"):
        assert json.loads((snap / rel).read_text()) == json.loads(
            (site / "stack" / rel).read_text()
        )
    post = json.loads((snap / "content_types/blog_post.json").read_text())
    seo = next(f for f in post["schema"] if f["uid"] == "seo")
    assert seo["reference_to"] == "seo" and "schema" not in seo  # named, as in the original
    entry = json.loads((snap / "entries/blog_post/typography-for-forms.en-us.json").read_text())
    assert entry["taxonomies"] == [{"taxonomy_uid": "topics", "term_uid": "typography"}]
    assert load_stack(snap).taxonomies["topics"].terms["web-performance"].parent == "frontend"


def test_entry_variants_named_on_the_command_line_are_snapshotted(tmp_path: Path):
    site = copy_example_site(tmp_path / "site")
    snap = tmp_path / "snap"
    # by Personalize alias, as a site would name it; plus a name the stack does not know
    result = run(
        str(snap), "--site", str(site), "--variant", "cs_personalize_0_0", "--variant", "nope"
    )
    assert result.exit_code == 0, result.output
    assert ", 1 entry variant into " in result.output
    assert 'variant "nope" changes no entry' in result.output
    rel = "variants/returning_readers/home/home.en-us.json"
    assert json.loads((snap / rel).read_text()) == json.loads((site / "stack" / rel).read_text())
    assert [p.relative_to(snap).as_posix() for p in (snap / "variants").rglob("*.json")] == [rel]
    group = json.loads((snap / "variant_groups/experience_0.json").read_text())
    assert group["content_types"] == ["home"]
    assert group["personalize_metadata"] == {"experience_short_uid": "0"}
    assert group["variants"] == [
        {
            "uid": "returning_readers",
            "name": "returning_readers",
            "personalize_metadata": {"variant_short_uid": "0"},
        }
    ]

    # served, the snapshot answers the variant as the original does, by uid and by alias
    def hero(stack: Path, variant: str) -> Any:
        async def go() -> Any:
            app = create_app(stack, history_path=tmp_path / f"{stack.name}.sqlite")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
                response = await client.get(
                    "/v3/content_types/home/entries/home",
                    params={"environment": "production"},
                    headers={
                        "x-cs-variant-uid": variant,
                        "api_key": "local_example_key",
                        "access_token": "local_example_token",
                    },
                )
            app.state.service.close()
            return response.json()["entry"]["hero"]

        return asyncio.run(go())

    for variant in ("returning_readers", "cs_personalize_0_0"):
        assert normalized(hero(snap, variant)) == normalized(hero(site / "stack", variant))
    assert hero(snap, "cs_personalize_0_0")["eyebrow"] == "Welcome back"
