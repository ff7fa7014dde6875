"""Live Preview edit tags (``data-cslp``): the same values as @contentstack/utils' own
``addEditableTags`` for every field of the example's entries, references and groups included;
``cslp()`` in templates writes them into preview pages only, never into production ones."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from sitegen.build import build_site
from sitegen.config import for_preview, load_config
from sitegen.content.edit_tags import add_editable_tags, cslp
from sitegen.errors import BuildError
from sitegen.stack import create_app
from tests.sites import make_site
from tests.stack_fixtures import EXAMPLE_STACK
from tests.test_build import tree

JS = Path(__file__).parent / "js"
CASES = [("blog_post", "en-us"), ("blog_post", "fr-fr"), ("home", "en-us"), ("page", "ja-jp")]


def delivered(content_type: str, locale: str) -> list[dict[str, Any]]:
    """Entries as a site reads them: references two levels deep, embedded items, fallback."""

    async def go() -> list[dict[str, Any]]:
        app = create_app(EXAMPLE_STACK)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stack") as client:
                response = await client.get(
                    f"/v3/content_types/{content_type}/entries",
                    params={
                        "environment": "production",
                        "locale": locale,
                        "include_fallback": "true",
                        "include_all": "true",
                        "include_all_depth": 2,
                        "include_embedded_items[]": "BASE",
                        "limit": 8,
                    },
                    headers={"api_key": "local_example_key", "access_token": "local_example_token"},
                )
            return response.json()["entries"]
        finally:
            app.state.service.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def entries() -> list[tuple[str, str, dict[str, Any]]]:
    return [(ct, loc, e) for ct, loc in CASES for e in delivered(ct, loc)]


def test_the_tags_are_the_utils_librarys_own(entries, tmp_path):
    node = shutil.which("node")
    if node is None or not (JS / "node_modules/@contentstack/utils").is_dir():
        reason = "node or @contentstack/utils is missing (npm ci --prefix tests/js)"
        if os.environ.get("SITEGEN_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    items = [
        {"entry": copy.deepcopy(e), "content_type": ct, "locale": loc} for ct, loc, e in entries
    ]
    done = subprocess.run(
        [node, "edit_tags.mjs"],
        cwd=JS,
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    assert len(theirs) == len(entries) >= 20
    for (ct, loc, entry), expected in zip(entries, theirs, strict=True):
        ours = copy.deepcopy(entry)
        add_editable_tags(ours, ct, loc)
        assert ours == expected, f"{ct}/{entry['uid']} ({loc})"


def paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field path of an entry: keys, list indexes, into groups, blocks and references."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "$":
                found.append((*prefix, key))
                found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, str(index)))
            found += paths(item, (*prefix, str(index)))
    return found


def tag_in(tagged: dict[str, Any], parts: tuple[str, ...]) -> str:
    """The library's tag for a path, read from the ``$`` maps it writes."""
    holder, node, key = tagged, tagged, ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if last:
                return holder["$"][f"{key}__{part}"]["data-cslp"]
            node = holder = node[int(part)]
        else:
            if last:
                return node["$"][part]["data-cslp"]
            holder, key, node = node, part, node[part]
            if isinstance(node, dict):
                holder = node
    raise AssertionError(parts)


def test_cslp_gives_every_fields_tag(entries):
    checked = 0
    for ct, loc, entry in entries:
        tagged = copy.deepcopy(entry)
        add_editable_tags(tagged, ct, loc)
        for parts in paths(entry):
            assert cslp(entry, ct, loc, ".".join(parts)) == tag_in(tagged, parts), parts
            checked += 1
    assert checked > 5_000
    post = next(e for ct, loc, e in entries if ct == "blog_post" and loc == "fr-fr")
    author = post["author"][0]
    assert cslp(post, "blog_post", "fr-fr", "author.0.title") == (
        f"author.{author['uid']}.{author['locale']}.title"  # a reference: tagged as its own
    )
    with pytest.raises(KeyError, match="has no field 'nope'"):
        cslp(post, "blog_post", "fr-fr", "seo.nope")


def test_tags_in_preview_pages_only_production_is_byte_for_byte_unchanged(tmp_path):
    plain = make_site(tmp_path / "plain")
    tagged = make_site(tmp_path / "tagged")
    config = tagged / "sitegen.toml"  # one stack (and so one history, one set of dates) for both
    config.write_text(config.read_text().replace('local = "stack"', 'local = "../plain/stack"'))
    text = (plain / "templates/post.html").read_text()
    assert "<h1>{{ entry.title }}</h1>" in text
    (plain / "templates/post.html").write_text(
        text.replace("<h1>{{ entry.title }}</h1>", "<h1>{{ entry.title }}</h1><span></span>")
    )
    (tagged / "templates/post.html").write_text(
        text.replace(
            "<h1>{{ entry.title }}</h1>",
            '<h1{{ cslp(entry, "title") }}>{{ entry.title }}</h1>'
            '<span{{ cslp(entry, "author.0.team.0.title") }}></span>',
        )
    )
    build_site(load_config(plain, env={}))
    build_site(load_config(tagged, env={}))
    assert tree(plain / "public") == tree(tagged / "public")
    assert "data-cslp" not in (tagged / "public/posts/post-0/index.html").read_text()

    build_site(for_preview(load_config(tagged, env={})))
    html = (tagged / "public-preview/fr/posts/post-0/index.html").read_text()
    assert '<h1 data-cslp="post.post0.fr-fr.title">' in html
    assert '<span data-cslp="team.core.en-us.title"></span>' in html  # two references deep


def test_a_path_the_entry_lacks_names_the_template_and_the_path(tmp_path):
    site = make_site(tmp_path)
    template = site / "templates/post.html"
    template.write_text(template.read_text().replace("<h1>", '<h1{{ cslp(entry, "titel") }}>'))
    with pytest.raises(BuildError) as raised:
        build_site(for_preview(load_config(site, env={})))
    message = str(raised.value)
    assert "templates/post.html:1: cslp(entry, 'titel'): the entry has no field 'titel'" in message
