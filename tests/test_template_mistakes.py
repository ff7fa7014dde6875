"""Template mistakes are visible: an undefined value used in a page, url_for() of an entry
without a page and t() of a key no translation file has warn, naming the template, the line,
the page and the name; ``sitegen build --strict`` fails on them and leaves the site as it was.
Every test builds a real site over the local stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import sitegen.build.pipeline as pipeline
from sitegen.build import build_site
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.errors import BuildError
from tests.sites import make_site, write_json
from tests.test_build import tree

REPO = Path(__file__).resolve().parent.parent
ENTRY_PAGE = "page /posts/post-0/ (entry 'post0' of content type 'post', en-us)"


def build(site: Path, **options):
    return build_site(load_config(site, env={}), **options)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})


def set_post_template(site: Path, main: str) -> None:
    """templates/post.html with ``main`` from its line 3 on."""
    (site / "templates/post.html").write_text(
        '{% extends "base.html" %}\n{% block title %}{{ entry.title }}{% endblock %}\n'
        "{% block main %}" + main + "{% endblock %}\n",
        encoding="utf-8",
    )


def test_an_undefined_field_warns_once_naming_template_line_page_and_name(tmp_path: Path):
    site = make_site(tmp_path)
    set_post_template(site, "<h1>{{ entry.title }}</h1>\n<p>{{ entry.titel }}</p>\n")
    result = build(site)
    # one warning for the template line, not one per page: 3 posts in 2 locales
    assert result.warnings == [
        "templates/post.html:4: entry.titel is undefined: content type 'post' has no field "
        f"'titel' (did you mean 'title'?); on {ENTRY_PAGE} and on 5 other pages"
    ]
    assert "<p></p>" in (site / "public/posts/post-0/index.html").read_text()
    assert "1 warning." in result.summary()


def test_other_undefined_names_say_what_was_looked_up_where(tmp_path: Path):
    site = make_site(tmp_path, posts=1)
    set_post_template(
        site,
        "{{ entry.author.title }}\n{{ entry['nots'] }}\n{{ pagee.url }}\n"
        "{% for tag in entry.tagz %}{{ tag }}{% endfor %}\n"
        "{{ entry.author[0].team[0].titel | upper }}\n",
    )
    warnings = [w.split("; on ")[0] for w in build(site).warnings]
    assert warnings == [
        "templates/post.html:3: entry.author.title is undefined: entry.author is a list, which "
        "has no 'title' (did you mean entry.author[0].title?)",
        "templates/post.html:4: entry['nots'] is undefined: content type 'post' has no field "
        "'nots' (did you mean 'notes'?)",
        "templates/post.html:5: pagee is undefined: there is no variable 'pagee' on this page "
        "(did you mean 'page'?)",
        "templates/post.html:6: entry.tagz is undefined: content type 'post' has no field "
        "'tagz' (did you mean 'tags'?)",
        "templates/post.html:7: entry.author[0].team[0].titel is undefined: content type 'team' "
        "has no field 'titel' (did you mean 'title'?)",
    ]


def test_tests_defaults_and_empty_fields_are_silent(tmp_path: Path):
    site = make_site(tmp_path)
    schema_file = site / "stack/content_types/post.json"
    content_type = json.loads(schema_file.read_text())
    content_type["schema"] += [
        {"uid": "subtitle", "data_type": "text", "display_name": "Subtitle"},
        {
            "uid": "seo",
            "data_type": "group",
            "display_name": "SEO",
            "schema": [{"uid": "description", "data_type": "text", "display_name": "Text"}],
        },
    ]
    write_json(schema_file, content_type)
    for i, extra in enumerate([{"subtitle": None, "seo": None}, {"seo": {}}, {"subtitle": "Sub"}]):
        path = site / f"stack/entries/post/post{i}.en-us.json"
        write_json(path, {**json.loads(path.read_text()), **extra})
    set_post_template(
        site,
        "{% if entry.missing %}missing{% endif %}"
        "{% if entry.missing is defined %}defined{% endif %}"
        "[{{ entry.missing | default('default') }}]"
        "{% if entry.seo and entry.seo.title %}seo{% endif %}"
        "{% if entry.nothing.title %}chain{% endif %}"
        "{{ entry.nothing.title or '' }}"
        "{% set u = url_for(entry.author[0]) %}{% if u %}<a href='{{ u }}'>{% endif %}"
        "{{ url_for(entry.author[0]) or '' }}"
        "({{ entry.subtitle }})({{ entry.seo.description }})({{ entry.author[3].title }})",
    )
    result = build(site)
    assert result.warnings == []
    pages = [(site / f"public/posts/post-{i}/index.html").read_text() for i in range(3)]
    assert "[default]()()()" in pages[0]  # a null field prints nothing, not "None"
    assert "[default]()()()" in pages[1]  # an omitted one (it is in the schema) too
    assert "[default](Sub)()()" in pages[2]


def test_url_for_of_an_entry_without_a_page_renders_no_none_and_warns(tmp_path: Path):
    site = make_site(tmp_path, posts=2)
    set_post_template(
        site, '<h1>{{ entry.title }}</h1>\n<a class="by" href="{{ url_for(entry.author[0]) }}">\n'
    )
    result = build(site)
    html = (site / "public/posts/post-0/index.html").read_text()
    assert '<a class="by" href="">' in html and "None" not in html
    assert result.warnings == [
        "templates/post.html:4: url_for(): entry 'ada' of content type 'author' has no page: "
        "content type 'author' has no template: add templates/author.html, or name one in "
        "[content_types.author] template in sitegen.toml (or link to something else); it "
        f"renders as an empty string; on {ENTRY_PAGE} and on 3 other pages"
    ]


def test_url_for_of_an_entry_without_a_url_says_to_check_the_entry(tmp_path: Path):
    site = make_site(tmp_path, posts=1)
    (site / "templates/page.html").write_text(
        "{% for p in entries('post') %}<a href=\"{{ url_for(p) }}\">{% endfor %}\n"
    )
    path = site / "stack/entries/post/post0.en-us.json"
    write_json(path, {**json.loads(path.read_text()), "url": ""})
    path = site / "stack/entries/post/post9.en-us.json"
    write_json(
        path,
        {
            "title": "Nine",
            "url": "/nine/",
            "author": [{"uid": "ada", "_content_type_uid": "author"}],
        },
    )
    warnings = build(site).warnings
    assert warnings == [
        "templates/page.html:1: url_for(): entry 'post0' of content type 'post' has no page in "
        "en-us: check that the entry is published in en-us (or falls back to a locale that is) "
        "and has a url; it renders as an empty string; on page / (entry 'home' of content type "
        "'page', en-us)",
        "templates/page.html:1: url_for(): entry 'post0' of content type 'post' has no page in "
        "fr-fr: check that the entry is published in fr-fr (or falls back to a locale that is) "
        "and has a url; it renders as an empty string; on page /fr/ (entry 'home' of content "
        "type 'page', fr-fr)",
    ]


def test_t_of_a_missing_key_warns_naming_key_locale_and_file(tmp_path: Path):
    site = make_site(tmp_path, posts=1)
    write_json(site / "templates/i18n/en-us.json", {"by": "by"})
    write_json(site / "templates/i18n/fr-fr.json", {"by": "par"})
    set_post_template(site, "{{ t('by') }}\n{{ t('read_more') }}\n")
    result = build(site)
    assert result.warnings == [
        "templates/post.html:4: t('read_more'): no translation for en-us: the key is not in "
        "templates/i18n/en-us.json; it is shown instead; on " + ENTRY_PAGE,
        "templates/post.html:4: t('read_more'): no translation for fr-fr: the key is neither in "
        "templates/i18n/fr-fr.json nor in templates/i18n/en-us.json (the default locale's); "
        "it is shown instead; on page /fr/posts/post-0/ (entry 'post0' of content type 'post', "
        "fr-fr)",
    ]
    assert "read_more" in (site / "public/fr/posts/post-0/index.html").read_text()


def test_a_base_template_warning_counts_every_kind_of_page(tmp_path: Path):
    site = make_site(tmp_path, posts=2)
    with (site / "sitegen.toml").open("a") as toml:
        toml.write('[[pages]]\npath = "/blog/"\ntemplate = "blog.html"\ncontent_type = "post"\n')
    (site / "templates/blog.html").write_text('{% extends "base.html" %}\n')
    base = site / "templates/base.html"
    base.write_text(base.read_text().replace("<main>", "<main>{{ site.tagline }}"))
    assert build(site).warnings == [
        "templates/base.html:1: site.tagline is undefined: site has no 'tagline'; on page / "
        "(entry 'home' of content type 'page', en-us) and on 7 other pages"
    ]


def test_strict_fails_and_leaves_the_site_as_it_was(tmp_path: Path):
    site = make_site(tmp_path)
    assert run("build", str(site)).exit_code == 0
    before = tree(site / "public")
    set_post_template(site, "<h1>{{ entry.titel }}</h1>\n")
    # without --strict: a warning, exit 0 (and the site is built)
    shutil.copytree(site, tmp_path / "copy")
    result = run("build", str(tmp_path / "copy"))
    assert result.exit_code == 0, result.output
    assert "warning: templates/post.html:3: entry.titel is undefined" in result.output
    # with it, incrementally and fully: exit 1, nothing of the new build in place
    for full in ([], ["--full"]):
        result = run("build", str(site), "--strict", *full)
        assert result.exit_code == 1, result.output
        assert (
            "error: 1 template warning, which --strict makes errors; the site in "
            f"{site / 'public'}/ was left as it was:\n"
            "  templates/post.html:3: entry.titel is undefined: content type 'post' has no "
            f"field 'titel' (did you mean 'title'?); on {ENTRY_PAGE} and on 5 other pages\n"
        ) in result.output
        assert tree(site / "public") == before
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".public")]
    # fixed, the strict build goes through
    set_post_template(site, "<h1>{{ entry.title }}</h1>\n")
    assert run("build", str(site), "--strict").exit_code == 0


def test_strict_in_the_api_raises_before_the_swap(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    before = tree(site / "public")
    set_post_template(site, "{{ t('nope') }}\n")
    with pytest.raises(BuildError, match=r"2 template warnings, which --strict makes errors"):
        build(site, strict=True, full=True)
    assert tree(site / "public") == before


def test_an_incremental_build_repeats_the_warnings_of_pages_it_did_not_render(tmp_path: Path):
    site = make_site(tmp_path)
    set_post_template(site, "<h1>{{ entry.titel }}</h1>\n")
    first = build(site)
    assert len(first.warnings) == 1
    home = site / "stack/entries/page/home.en-us.json"
    write_json(home, {**json.loads(home.read_text()), "title": "Home again"})
    again = build(site)
    assert again.kind == "incremental"
    assert "posts/post-0/index.html" not in again.changed
    assert again.warnings == first.warnings  # the site still has the mistake
    with pytest.raises(BuildError, match=r"entry\.titel is undefined"):
        build(site, strict=True)
    set_post_template(site, "<h1>{{ entry.title }}</h1>\n")
    assert build(site).warnings == []


def test_workers_warnings_reach_the_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = make_site(tmp_path / "one")
    set_post_template(site, "<h1>{{ entry.titel }}</h1>\n{{ t('more') }}\n")
    shutil.copytree(site, tmp_path / "two")
    one = build(site, jobs=1)
    batches = []
    real = pipeline.RenderPool.render

    def spied(self, files):
        for batch in real(self, files):
            batches.append(batch)
            yield batch

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(pipeline.RenderPool, "render", spied)
    two = build(tmp_path / "two", jobs=2)
    assert batches  # rendered in the worker processes
    assert two.warnings == one.warnings
    assert len(one.warnings) == 3  # entry.titel; t('more') in en-us and in fr-fr
    assert one.warnings[0].endswith(f"on {ENTRY_PAGE} and on 5 other pages")


def test_example_site_and_starters_build_without_warnings(tmp_path: Path):
    ignore = shutil.ignore_patterns("public", ".sitegen", ".*.history.sqlite*")
    for source in (REPO / "example_site", REPO / "templates/blog", REPO / "templates/docs"):
        site = tmp_path / source.name
        shutil.copytree(source, site, ignore=ignore)
        assert build(site, strict=True).warnings == [], source
