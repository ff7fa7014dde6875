"""Branches, aliases and schema changes in the build: ``[stack] branch`` reads the branch it
names (a uid or an alias) and an incremental build notices what the Sync API does not report:
a switched branch, an alias moved to another branch, an edited content type or global field."""

from __future__ import annotations

import json
from pathlib import Path

from sitegen.build.pipeline import STORE_NAME
from sitegen.store import Store
from tests.sites import embed_entry, make_site, rte_doc, write_json
from tests.stack_fixtures import add_branch, read_json
from tests.test_build import build


def site_with_branch(root: Path, branch: str | None) -> Path:
    """The fixture site with a ``develop`` branch retitling post0 (aliases ``staging`` →
    develop, ``live`` → main), reading ``branch``."""
    stack_toml = 'local = "stack"\nenvironment = "production"\n'
    if branch:
        stack_toml += f'branch = "{branch}"\n'
    site = make_site(root, stack_toml=stack_toml)
    develop = add_branch(site / "stack", "develop", {"staging": "develop", "live": "main"})
    post = develop / "entries" / "post" / "post0.en-us.json"
    write_json(post, {**read_json(post), "title": "Post 0 (develop)"})
    return site


def add_seo_global_field(stack: Path, schema: list[dict]) -> None:
    """global_fields/seo.json with ``schema``, used by the post content type as ``seo``."""
    write_json(
        stack / "global_fields" / "seo.json", {"uid": "seo", "title": "SEO", "schema": schema}
    )
    post_type = stack / "content_types" / "post.json"
    post = read_json(post_type)
    post["schema"].append(
        {"uid": "seo", "data_type": "global_field", "display_name": "SEO", "reference_to": "seo"}
    )
    write_json(post_type, post)


def set_branch(site: Path, branch: str) -> None:
    config = site / "sitegen.toml"
    text = config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("branch = ")]
    at = lines.index("[stack]") + 1
    lines.insert(at, f'branch = "{branch}"')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def heading(site: Path) -> str:
    html = (site / "public" / "posts" / "post-0" / "index.html").read_text(encoding="utf-8")
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_the_branch_setting_reads_that_branch_and_a_switch_is_a_full_build(tmp_path):
    site = site_with_branch(tmp_path, "develop")
    assert build(site).kind == "full"
    assert heading(site) == "Post 0 (develop)"
    again = build(site)
    assert again.kind == "incremental" and heading(site) == "Post 0 (develop)"

    set_branch(site, "main")
    switched = build(site)
    assert switched.kind == "full" and heading(site) == "Post 0"
    assert any("[stack] branch changed (develop → main)" in w for w in switched.warnings)


def test_an_alias_is_followed_when_it_moves_to_another_branch(tmp_path):
    site = site_with_branch(tmp_path, "staging")
    build(site)
    assert heading(site) == "Post 0 (develop)"
    stack_json = site / "stack" / "stack.json"
    settings = read_json(stack_json)
    write_json(stack_json, {**settings, "branch_aliases": {"staging": "main"}})
    moved = build(site)
    assert moved.kind == "full" and heading(site) == "Post 0"
    assert any("now reads branch 'main'" in w for w in moved.warnings), moved.warnings


def test_assets_of_the_branch_are_copied(tmp_path):
    site = site_with_branch(tmp_path, "develop")
    develop = site / "stack" / "branches" / "develop"
    (develop / "assets" / "logo").mkdir(parents=True)
    (develop / "assets" / "logo" / "logo.svg").write_text("<svg/>", encoding="utf-8")
    write_json(
        develop / "assets" / "logo.json",
        {"title": "Logo", "filename": "logo.svg", "content_type": "image/svg+xml"},
    )
    build(site)
    assert (site / "public" / "assets" / "logo" / "logo.svg").read_text() == "<svg/>"


def test_a_content_type_or_global_field_change_is_noticed(tmp_path):
    site = make_site(tmp_path)
    stack = site / "stack"
    add_seo_global_field(
        stack, [{"uid": "description", "data_type": "text", "display_name": "Description"}]
    )
    assert build(site).kind == "full"
    assert build(site).kind == "incremental"

    seo = read_json(stack / "global_fields" / "seo.json")
    seo["schema"].append({"uid": "keywords", "data_type": "text", "display_name": "Keywords"})
    write_json(stack / "global_fields" / "seo.json", seo)
    changed = build(site)
    assert changed.kind == "full"
    assert any("content type post changed" in w for w in changed.warnings), changed.warnings

    page_type = stack / "content_types" / "page.json"
    write_json(page_type, {**read_json(page_type), "title": "Pages"})
    retitled = build(site)
    assert retitled.kind == "full"
    assert any("content type page changed" in w for w in retitled.warnings)
    assert build(site).kind == "incremental"  # and then the state is up to date again


def test_content_type_lists_do_not_leak_the_branch_into_the_state(tmp_path):
    site = site_with_branch(tmp_path, "develop")
    build(site)
    store = Store(site / ".sitegen" / STORE_NAME, create=False)
    try:
        assert store.meta("branch_uid") == "develop"
        stored = store.content.content_types()
        assert all("_branch" not in ct for ct in stored.values())
        assert json.loads(store.meta("content_source") or "{}")["branch"] == "develop"
    finally:
        store.close()


def test_fields_inside_a_global_field_render_like_the_content_types_own(tmp_path):
    """The build asks for content types with their global fields' schemas inline, so rich
    text and embedded items inside a global field render as they do elsewhere."""
    site = make_site(tmp_path)
    stack = site / "stack"
    add_seo_global_field(
        stack,
        [
            {"uid": "description", "data_type": "text", "display_name": "Description"},
            {
                "uid": "summary",
                "data_type": "json",
                "display_name": "Summary",
                "field_metadata": {"allow_json_rte": True},
            },
        ],
    )
    entry = stack / "entries" / "post" / "post0.en-us.json"
    write_json(
        entry,
        {
            **read_json(entry),
            "seo": {
                "description": "For search engines",
                "summary": rte_doc("In short", embed_entry("ada", "author")),
            },
        },
    )
    template = site / "templates" / "post.html"
    template.write_text(
        template.read_text().replace(
            "{% endblock %}",
            '{% if entry.seo is defined %}<div class="seo">{{ entry.seo.description }}|'
            "{{ entry.seo.summary | rte }}</div>{% endif %}{% endblock %}",
        ),
        encoding="utf-8",
    )
    build(site)
    html = (site / "public/posts/post-0/index.html").read_text(encoding="utf-8")
    seo = html.split('<div class="seo">', 1)[1].split("</div>", 1)[0]
    assert seo.startswith("For search engines|<p>In short</p>")
    assert "Ada" in html.split('<div class="seo">', 1)[1]  # the embedded author, resolved


def test_a_feed_reads_its_content_from_inside_a_global_field(tmp_path):
    site = make_site(tmp_path)
    stack = site / "stack"
    add_seo_global_field(
        stack,
        [
            {
                "uid": "summary",
                "data_type": "json",
                "display_name": "Summary",
                "field_metadata": {"allow_json_rte": True},
            }
        ],
    )
    entry = stack / "entries" / "post" / "post0.en-us.json"
    write_json(entry, {**read_json(entry), "seo": {"summary": rte_doc("In *short*")}})
    config = site / "sitegen.toml"
    config.write_text(
        config.read_text()
        + '\n[[feeds]]\npath = "/feed.xml"\ncontent_type = "post"\ncontent = "seo.summary"\n'
        'summary = "title"\n'
    )
    build(site)
    feed = (site / "public/feed.xml").read_text(encoding="utf-8")
    # rich text inside the global field, rendered as HTML and escaped into the feed
    assert '<content type="html">&lt;p&gt;In *short*&lt;/p&gt;</content>' in feed
    assert "<summary>Post 0</summary>" in feed
