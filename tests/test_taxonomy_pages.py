"""Term pages over a hierarchical taxonomy, and taxonomy queries in templates, full and
incremental (the twin sites of tests/incremental_site.py: topics eng > web > perf, eng > ops,
design; perf named "Performance" in fr-fr, which de-de falls back to)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sitegen.build.taxonomies import fetch_taxonomies
from sitegen.errors import BuildError
from sitegen.source.cda import CDAClient
from tests.incremental_site import TwinSites, tags, write_json
from tests.scripted_server import Answer, scripted_server
from tests.test_build import tree
from tests.test_cda_client import make_stack
from tests.test_incremental import build


@pytest.fixture
def sites(tmp_path: Path) -> TwinSites:
    sites = TwinSites(tmp_path, posts=6)  # p1 and p5 are tagged perf, p2 ops, p3 design+web
    assert build(sites.a).kind == "full"
    return sites


def page(sites: TwinSites, path: str) -> str:
    return (sites.a / "public" / path / "index.html").read_text(encoding="utf-8")


def same_as_full(sites: TwinSites) -> None:
    build(sites.b, full=True)
    assert tree(sites.a / "public") == tree(sites.b / "public")


def test_a_term_lists_what_is_tagged_with_it_or_below_it(sites):
    eng = page(sites, "topics/eng")
    # p1, p5 (perf, under web under eng), p2 (ops), p3 (web): 4 posts, 2 a page
    assert "<h1>Eng (4)</h1>" in eng
    assert '<a href="/topics/web/">Web 3</a><a href="/topics/ops/">Ops 1</a>' in eng
    perf = page(sites, "fr/topics/perf")
    assert "<h1>Performance (2)</h1>" in perf
    assert '<a href="/fr/topics/eng/">Ingénierie</a>/<a href="/fr/topics/web/">Web</a>/' in perf
    assert "<h1>Performance (2)</h1>" in page(sites, "de/topics/perf")  # de-de → fr-fr
    post = page(sites, "fr/posts/p1")
    assert '<a href="/fr/topics/perf/">Performance</a>' in post  # terms_of(entry, "topics")
    home = page(sites, "")
    assert home.endswith("p1;p2;p3;p5;</main></html>\n")  # entries(taxonomy=$eq_below eng)


def test_renaming_a_term_renders_exactly_the_pages_that_show_its_name(sites):
    data = json.loads((sites.stack / "taxonomies/topics.json").read_text(encoding="utf-8"))
    data["terms"][0]["terms"][0]["terms"][0]["names"] = {"fr-fr": "Rapidité"}  # perf
    write_json(sites.stack / "taxonomies/topics.json", data)
    result = build(sites.a)
    shown = {
        f"{prefix}/{path}/index.html"
        for prefix in ("fr", "de")  # de-de falls back to fr-fr; en-us has its own name
        for path in ("topics/perf", "topics/web", "topics/web/page/2", "posts/p1", "posts/p5")
    }
    assert set(result.changed) == shown and result.added == result.removed == []
    assert result.rendered <= len(shown) + 1  # and perhaps the sitemap, unchanged
    assert "1 taxonomy changed" in result.triggers
    assert "<h1>Rapidité (2)</h1>" in page(sites, "de/topics/perf")
    same_as_full(sites)


def test_moving_and_deleting_terms(sites):
    sites.put_topics(2)  # design > eng > (ops, web); perf becomes a root
    result = build(sites.a)
    assert result.kind == "incremental"
    assert '<a href="/topics/design/">Design</a>/<a href="/topics/eng/">Eng</a>/' in page(
        sites, "topics/web"
    )
    home = page(sites, "")  # perf left eng: p1 and p5 are no longer under it
    assert home.endswith("p2;p3;</main></html>\n")
    same_as_full(sites)

    sites.put_topics(3)  # design is deleted: so are its pages, and its tags
    for uid in ("p3",):
        fields = sites.read("post", uid, "en-us")
        fields["taxonomies"] = tags(["web"])
        sites.put("post", uid, "en-us", fields)
    result = build(sites.a)
    assert {f for f in result.removed if "design" in f} == {
        "topics/design/index.html",
        "fr/topics/design/index.html",
        "de/topics/design/index.html",
    }
    same_as_full(sites)


def test_tagging_an_entry_moves_it_onto_the_pages_of_the_term_and_its_ancestors(sites):
    fields = sites.read("post", "p0", "en-us")  # untagged so far
    fields["taxonomies"] = tags(["perf"])
    sites.put("post", "p0", "en-us", fields)
    result = build(sites.a)
    assert "<h1>Perf (3)</h1>" in page(sites, "topics/perf")
    assert "<h1>Eng (5)</h1>" in page(sites, "topics/eng")
    assert "topics/design/index.html" not in result.changed  # elsewhere in the tree
    same_as_full(sites)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            "entries('post', taxonomy={'colours': 'red'})",
            "entries(): taxonomy 'colours' is not one of the stack's (topics)",
        ),
        (
            "entries('post', taxonomy={'topics': {'$below': 3}})",
            '$below on "taxonomies.topics" takes a term uid',
        ),
        ("entries('post', taxonomy='eng')", "entries(): taxonomy must map taxonomy uids"),
        ("terms_of(entry, 'colours')", "terms_of(): taxonomy 'colours' is not one of the stack's"),
    ],
)
def test_template_mistakes_name_the_call(sites, call, message):
    sites.write_template(
        "home.html", "{% extends 'base.html' %}{% block main %}{{ " + call + " }}{% endblock %}"
    )
    with pytest.raises(BuildError) as raised:
        build(sites.a)
    assert message in str(raised.value) and "home.html" in str(raised.value)


def test_a_term_listing_over_a_taxonomy_the_stack_lacks_is_one_line(sites):
    config = sites.a / "sitegen.toml"
    config.write_text(
        config.read_text().replace('terms = "taxonomies.topics"', 'terms = "taxonomies.topicz"')
    )
    with pytest.raises(BuildError) as raised:
        build(sites.a, full=True)
    assert "terms is 'taxonomies.topicz', but the stack has no taxonomy 'topicz' (topics)" in str(
        raised.value
    )


def test_a_term_tree_with_a_cycle_is_one_line_naming_the_taxonomy():
    """Contentstack's tree cannot loop, but an answer could: the build says so and stops."""
    terms = {
        "terms": [
            {"uid": "root", "name": "Root", "parent_uid": None, "order": 0},
            {"uid": "a", "name": "A", "parent_uid": "b", "order": 0},
            {"uid": "b", "name": "B", "parent_uid": "a", "order": 0},
        ],
        "count": 3,
    }
    with scripted_server() as server:
        server.then(
            Answer(200, {"taxonomies": [{"uid": "loops", "name": "Loops"}], "count": 1}),
            Answer(200, terms),
        )

        async def go():
            async with CDAClient(make_stack(server.url)) as client:
                return await fetch_taxonomies(client, ["en-us"])

        with pytest.raises(BuildError) as raised:
            asyncio.run(go())
    assert str(raised.value) == (
        "taxonomy 'loops': the terms a, b are not below any root term (their parents form a "
        "cycle); fix the term tree in Contentstack"
    )
    assert "depth=10" in server.seen[1].path and "include_fallback=true" in server.seen[1].path


def test_a_term_listing_over_several_content_types(sites):
    """``content_type = ["post", "home"]``: entries of both, in one order, on one page."""
    for folder in (sites.a, sites.b):
        config = folder / "sitegen.toml"
        text = config.read_text()
        marker = 'content_type = "post"\nper_page = 2\nsort = "title"\nterms = "taxonomies.topics"'
        assert marker in text
        config.write_text(text.replace(marker, marker.replace('"post"', '["post", "home"]')))
    home_type = sites.stack / "content_types/home.json"
    schema = json.loads(home_type.read_text())
    schema["schema"].append(
        {"uid": "taxonomies", "data_type": "taxonomy", "taxonomies": [{"taxonomy_uid": "topics"}]}
    )
    write_json(home_type, schema)
    home = sites.read("home", "home", "en-us")
    sites.put("home", "home", "en-us", {**home, "taxonomies": tags(["ops"])})
    result = build(sites.a)
    assert result.kind == "full"  # the content type changed: its schema is not in the Sync API
    ops = page(sites, "topics/ops")
    assert "<h1>Ops (2)</h1>" in ops and "<p>Home</p>" in ops and "<p>Post 2</p>" in ops
    assert "<h1>Eng (5)</h1>" in page(sites, "topics/eng")
    sites.put("home", "home", "en-us", {**home, "title": "Start", "taxonomies": tags(["ops"])})
    assert build(sites.a).kind == "incremental"
    assert "<p>Start</p>" in page(sites, "topics/ops")
    same_as_full(sites)


def test_a_taxonomies_table_is_the_same_as_a_term_listing(sites):
    before = tree(sites.a / "public")
    config = sites.a / "sitegen.toml"
    text = config.read_text()
    block = (
        '[[pages]]\npath = "/topics/{term}/"\nname = "topics"\ntemplate = "topic.html"\n'
        'content_type = "post"\nper_page = 2\nsort = "title"\nterms = "taxonomies.topics"\n'
    )
    assert block in text
    config.write_text(
        text.replace(block, "")
        + '\n[[taxonomies]]\nuid = "topics"\ntemplate = "topic.html"\ncontent_type = "post"\n'
        'per_page = 2\nsort = "title"\n'
    )
    assert build(sites.a, full=True).kind == "full"
    assert tree(sites.a / "public") == before  # path /topics/{term}/ and name "topics" by default


def test_a_taxonomies_table_needs_its_content_types(sites):
    from sitegen.config import load_config
    from sitegen.errors import ConfigError

    config = sites.a / "sitegen.toml"
    config.write_text(config.read_text() + '\n[[taxonomies]]\nuid = "topics"\nname = "t2"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(sites.a, env={})
    assert "taxonomies[0].content_type is missing" in str(raised.value)
