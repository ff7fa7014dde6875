"""Template helpers: image_url(), srcset(), t() and alternates(), and their incremental deps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2
import pytest

from sitegen.build.pipeline import STORE_NAME, BuildResult, build_site
from sitegen.build.render import Renderer
from sitegen.config import load_config
from sitegen.content.images import image_url, srcset
from sitegen.errors import BuildError
from sitegen.store import Store
from tests.sites import make_site
from tests.test_build import tree

CS = "https://images.contentstack.io/v3/assets/blt1/blt2/photo.jpg"
EU = "https://eu-images.contentstack.com/v3/assets/blt1/blt2/photo.jpg"
LOCAL = "/assets/img0/img0.svg"


def build(site: Path, full: bool = False) -> BuildResult:
    return build_site(load_config(site, env={}), full=full)


# -- image_url / srcset ----------------------------------------------------------------------------


def test_image_url_adds_parameters_in_order_for_contentstack_hosts():
    asset = {"uid": "blt2", "url": CS, "filename": "photo.jpg"}
    assert image_url(asset) == CS
    assert (
        image_url(asset, auto="webp", fit="crop", quality=80, format="pjpg", height=200, width=300)
        == CS + "?width=300&height=200&format=pjpg&quality=80&fit=crop&auto=webp"
    )
    assert image_url(EU, width=10) == EU + "?width=10"
    for url in (
        "https://assets.contentstack.io/v3/assets/a/b/c.png",
        "https://azure-na-images.contentstack.com/v3/assets/a/b/c.png",
        "https://gcp-eu-assets.contentstack.com/v3/assets/a/b/c.png",
        "//images.contentstack.io/v3/assets/a/b/c.png",
    ):
        assert image_url(url, format="webp") == url + "?format=webp"


def test_image_url_merges_an_existing_query_and_keeps_the_fragment():
    assert (
        image_url(CS + "?version=3&width=50&dl=a%20b#top", width=300, quality=90)
        == CS + "?version=3&dl=a%20b&width=300&quality=90#top"
    )


def test_image_url_passes_other_urls_through():
    assert image_url({"url": LOCAL}, width=300, format="webp") == LOCAL
    assert image_url("https://example.com/a.png", width=300) == "https://example.com/a.png"
    assert image_url("https://images.contentstack.io.evil.com/a.png", width=3) == (
        "https://images.contentstack.io.evil.com/a.png"
    )
    assert image_url("https://notimages.contentstack.io/a.png", width=3) == (
        "https://notimages.contentstack.io/a.png"
    )
    assert image_url(None, width=300) == ""
    assert image_url(jinja2.Undefined(), width=300) == ""
    assert image_url({"uid": "x"}) == ""
    assert image_url({"url": None}) == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "width must be a positive integer, got 0"),
        ({"width": "300"}, "width must be a positive integer, got '300'"),
        ({"height": -5}, "height must be a positive integer, got -5"),
        ({"width": True}, "width must be a positive integer, got True"),
        ({"quality": 0}, "quality must be an integer from 1 to 100, got 0"),
        ({"quality": 101}, "quality must be an integer from 1 to 100, got 101"),
        (
            {"format": "jpeg"},
            "format must be one of jpg, pjpg, png, webp, webply, gif, auto, got 'jpeg'",
        ),
        ({"fit": "cover"}, "fit must be one of bounds, crop, got 'cover'"),
        ({"auto": "jxl"}, "auto must be one of webp, avif, got 'jxl'"),
    ],
)
def test_image_url_validation_names_the_bad_value(kwargs, message):
    for url in (CS, LOCAL):  # validated whatever the host
        with pytest.raises(ValueError) as err:
            image_url(url, **kwargs)
        assert str(err.value) == f"image_url(): {message}"


def test_image_url_rejects_what_is_not_an_asset():
    with pytest.raises(ValueError, match="got 42"):
        image_url(42)


def test_srcset():
    assert srcset({"url": CS}) == ", ".join(f"{CS}?width={w} {w}w" for w in (320, 640, 960, 1280))
    assert srcset(EU, widths=[100, 200], format="webp", quality=70) == (
        f"{EU}?width=100&format=webp&quality=70 100w, {EU}?width=200&format=webp&quality=70 200w"
    )
    # no width descriptors for URLs the Images API does not serve: they would be false
    assert srcset({"url": LOCAL}, widths=[100, 200], format="webp") == LOCAL
    assert srcset(None) == ""
    with pytest.raises(ValueError, match="got 0"):
        srcset(CS, widths=[100, 0])
    with pytest.raises(ValueError, match="got 'tiff'"):
        srcset(LOCAL, format="tiff")
    with pytest.raises(ValueError, match="drop width="):
        srcset(CS, width=100)
    with pytest.raises(ValueError, match="must not be empty"):
        srcset(CS, widths=[])


# -- t() -------------------------------------------------------------------------------------------


def write_i18n(site: Path, code: str, data: object) -> Path:
    path = site / "templates" / "i18n" / f"{code}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def renderer_for(site: Path) -> Renderer:
    config = load_config(site, env={})
    return Renderer(config, None, frozenset())  # type: ignore[arg-type]  # t() needs no store


def render_string(renderer: Renderer, source: str, locale: str) -> tuple[str, set]:
    deps: set = set()
    renderer.env.recording = deps
    try:
        return renderer.env.from_string(source).render(locale=locale), deps
    finally:
        renderer.env.recording = None


def test_t_fallback_chain_and_placeholders(tmp_path: Path):
    site = make_site(tmp_path)
    write_i18n(site, "en-us", {"hello": "Hello {name}!", "bye": "Bye", "n": "{count} of {total}"})
    write_i18n(site, "fr-fr", {"hello": "Bonjour {name} !"})
    renderer = renderer_for(site)
    source = (
        "{{ t('hello', name='Ada') }}|{{ t('bye') }}|{{ t('missing.key') }}|{{ t('n', count=2) }}"
    )
    text, deps = render_string(renderer, source, "fr-fr")
    assert text == "Bonjour Ada !|Bye|missing.key|2 of {total}"
    assert deps == {("template", "i18n/fr-fr.json"), ("template", "i18n/en-us.json")}
    text, deps = render_string(renderer, source, "en-us")
    assert text == "Hello Ada!|Bye|missing.key|2 of {total}"
    assert deps == {("template", "i18n/en-us.json")}
    # found in the page's locale: the default locale's file is not consulted
    text, deps = render_string(renderer, "{{ t('hello') }}", "fr-fr")
    assert text == "Bonjour {name} !"
    assert deps == {("template", "i18n/fr-fr.json")}
    # autoescaped like any other string
    write_i18n(site, "en-us", {"b": "<b>{x}</b>"})
    text, _ = render_string(renderer_for(site), "{{ t('b', x='&') }}", "en-us")
    assert text == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_t_records_missing_files_and_falls_back_to_the_key(tmp_path: Path):
    site = make_site(tmp_path)
    text, deps = render_string(renderer_for(site), "{{ t('Read more') }}", "fr-fr")
    assert text == "Read more"
    assert deps == {("template", "i18n/fr-fr.json"), ("template", "i18n/en-us.json")}


def test_t_missing_placeholders_keep_their_text(tmp_path: Path):
    site = make_site(tmp_path)
    write_i18n(site, "en-us", {"k": "{a:>3}/{b:>3}/{c.d}/{e[0]}"})
    text, _ = render_string(renderer_for(site), "{{ t('k', a=1) }}", "en-us")
    assert text == "  1/{b:&gt;3}/{c.d}/{e[0]}"


def test_t_malformed_file_is_a_build_error_naming_the_file(tmp_path: Path):
    site = make_site(tmp_path)
    write_i18n(site, "fr-fr", '{\n  "a": "x",\n  "b": oops\n}\n')
    with pytest.raises(BuildError) as err:
        render_string(renderer_for(site), "{{ t('a') }}", "fr-fr")
    assert str(err.value).startswith(
        "templates/i18n/fr-fr.json: invalid JSON at line 3, column 8: Expecting value"
    )
    write_i18n(site, "fr-fr", '["a"]')
    with pytest.raises(BuildError, match=r"templates/i18n/fr-fr\.json: must be a JSON object"):
        render_string(renderer_for(site), "{{ t('a') }}", "fr-fr")
    write_i18n(site, "fr-fr", {"a": 1})
    with pytest.raises(BuildError, match=r"fr-fr\.json: the value of 'a' must be a string"):
        render_string(renderer_for(site), "{{ t('a') }}", "fr-fr")


def test_t_error_in_a_page_names_the_file_and_the_entry(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates" / "post.html").write_text("{{ t('x') }}")
    write_i18n(site, "fr-fr", "{")
    with pytest.raises(BuildError) as err:
        build(site)
    message = str(err.value)
    assert "templates/i18n/fr-fr.json: invalid JSON at line 1, column 2" in message
    assert "in fr-fr" in message


def test_t_parses_each_file_once_per_renderer(tmp_path: Path):
    site = make_site(tmp_path)
    write_i18n(site, "en-us", {"a": "A"})
    renderer = renderer_for(site)
    assert render_string(renderer, "{{ t('a') }}", "en-us")[0] == "A"
    write_i18n(site, "en-us", {"a": "changed"})
    assert render_string(renderer, "{{ t('a') }}", "en-us")[0] == "A"
    assert render_string(renderer_for(site), "{{ t('a') }}", "en-us")[0] == "changed"


# -- alternates() ----------------------------------------------------------------------------------


def test_alternates_lists_every_locale_with_a_page(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    config = load_config(site, env={})
    store = Store(config.state_dir / STORE_NAME, create=False)
    try:
        renderer = Renderer(config, store, frozenset({"page", "post"}))
        source = "{{ alternates(entry) | tojson }}"
        deps: set = set()
        renderer.env.recording = deps
        template = renderer.env.from_string(source)

        def alternates(entry: dict, locale: str = "en-us") -> list:
            return json.loads(template.render(entry=entry, locale=locale))

        # home is localized in fr-fr
        assert alternates({"uid": "home", "_content_type_uid": "page"}, "fr-fr") == [
            {
                "href": "https://example.com/",
                "locale": "en-us",
                "name": "en-us",  # no name configured: the code
                "url": "/",
            },
            {
                "href": "https://example.com/fr/",
                "locale": "fr-fr",
                "name": "Français",
                "url": "/fr/",
            },
        ]
        assert deps == {("url", "home/en-us"), ("url", "home/fr-fr")}
        deps.clear()
        # post1 falls back to en-us in fr-fr: it has a page there too
        assert alternates({"uid": "post1", "_content_type_uid": "post"}) == [
            {
                "href": "https://example.com/posts/post-1/",
                "locale": "en-us",
                "name": "en-us",  # no name configured: the code
                "url": "/posts/post-1/",
            },
            {
                "href": "https://example.com/fr/posts/post-1/",
                "locale": "fr-fr",
                "name": "Français",
                "url": "/fr/posts/post-1/",
            },
        ]
        assert deps == {("url", "post1/en-us"), ("url", "post1/fr-fr")}
        # no page anywhere: an author (no template) and an unknown entry
        assert alternates({"uid": "ada", "_content_type_uid": "author"}) == []
        assert alternates({"uid": "nope", "_content_type_uid": "post"}) == []
        assert alternates(None) == []
        renderer.env.recording = None
    finally:
        store.close()


def test_alternates_in_a_built_page(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates" / "post.html").write_text(
        "{% for a in alternates(entry) %}"
        '<link rel="alternate" hreflang="{{ a.locale }}" href="{{ a.href }}">'
        "{% endfor %}\n"
    )
    build(site)
    expected = (
        '<link rel="alternate" hreflang="en-us" href="https://example.com/posts/post-0/">'
        '<link rel="alternate" hreflang="fr-fr" href="https://example.com/fr/posts/post-0/">'
    )
    assert (site / "public/posts/post-0/index.html").read_text() == expected
    assert (site / "public/fr/posts/post-0/index.html").read_text() == expected


# -- incremental builds ----------------------------------------------------------------------------

POST_WITH_T = (
    '{% extends "base.html" %}{% block title %}{{ entry.title }}{% endblock %}'
    "{% block main %}<h1>{{ entry.title }}</h1>"
    "<p>{{ t('by', name=entry.author[0].title) }}</p><p>{{ t('read') }}</p>{% endblock %}"
)

FR_POSTS = [f"fr/posts/post-{i}/index.html" for i in range(3)]
EN_POSTS = [f"posts/post-{i}/index.html" for i in range(3)]


def site_with_t(root: Path) -> Path:
    site = make_site(root)
    (site / "templates" / "post.html").write_text(POST_WITH_T)  # page.html uses no t()
    write_i18n(site, "en-us", {"by": "by {name}", "read": "Read"})
    return site


def assert_equals_full_build(site: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("public", ".sitegen"))
    assert build(twin, full=True).kind == "full"
    assert tree(site / "public") == tree(twin / "public")


def test_editing_a_translation_file_rerenders_exactly_its_pages(tmp_path: Path):
    site = site_with_t(tmp_path / "site")
    write_i18n(site, "fr-fr", {"by": "par {name}", "read": "Lire"})
    assert build(site).kind == "full"
    assert "<p>par Ada</p><p>Lire</p>" in (site / "public" / FR_POSTS[0]).read_text()

    write_i18n(site, "fr-fr", {"by": "de {name}", "read": "Lire"})
    result = build(site)
    assert result.kind == "incremental"
    assert result.rendered == 3  # the fr-fr post pages: en-us pages and home use no fr-fr t()
    assert result.changed == FR_POSTS and result.added == [] and result.removed == []
    assert "<p>de Ada</p><p>Lire</p>" in (site / "public" / FR_POSTS[0]).read_text()
    assert_equals_full_build(site, tmp_path)

    # a key removed from fr-fr.json falls back to en-us.json
    write_i18n(site, "fr-fr", {"by": "de {name}"})
    result = build(site)
    assert result.rendered == 3 and result.changed == FR_POSTS
    assert "<p>de Ada</p><p>Read</p>" in (site / "public" / FR_POSTS[0]).read_text()
    assert_equals_full_build(site, tmp_path)


def test_adding_and_editing_translation_files_match_a_full_build(tmp_path: Path):
    site = site_with_t(tmp_path / "site")  # no fr-fr.json: fr-fr pages fall back to en-us
    build(site)
    assert "<p>by Ada</p><p>Read</p>" in (site / "public" / FR_POSTS[0]).read_text()

    # adding fr-fr.json re-renders the fr-fr pages that used t()
    write_i18n(site, "fr-fr", {"read": "Lire"})
    result = build(site)
    assert result.rendered == 3 and result.changed == FR_POSTS
    assert "<p>by Ada</p><p>Lire</p>" in (site / "public" / FR_POSTS[0]).read_text()
    assert_equals_full_build(site, tmp_path)

    # en-us.json is read by every page using t(): fr-fr pages fall back to it for "by"
    write_i18n(site, "en-us", {"by": "written by {name}", "read": "Read"})
    result = build(site)
    assert result.rendered == 6
    assert result.changed == sorted(EN_POSTS + FR_POSTS)
    assert "<p>written by Ada</p><p>Lire</p>" in (site / "public" / FR_POSTS[0]).read_text()
    assert_equals_full_build(site, tmp_path)

    # removing fr-fr.json again
    (site / "templates/i18n/fr-fr.json").unlink()
    result = build(site)
    assert result.rendered == 3 and result.changed == FR_POSTS
    assert "<p>written by Ada</p><p>Read</p>" in (site / "public" / FR_POSTS[0]).read_text()
    assert_equals_full_build(site, tmp_path)


# -- entries(sort=, limit=) ------------------------------------------------------------------------

LATEST = (
    '{% for p in entries("post", sort="-date", limit=3) %}{{ p.title }};{% endfor %}|'
    '{% for p in entries("post", sort=["date", "-long"]) %}{{ p.title }};{% endfor %}|'
    '{% for p in entries("post", limit=2) %}{{ p.title }};{% endfor %}|'
    '{% for p in entries("post", sort=["-flag", "-title"]) %}{{ p.title }};{% endfor %}\n'
)


def test_entries_sorted_and_limited_as_listings_sort(tmp_path: Path):
    site = make_site(tmp_path, posts=6)
    dates = ["2024-03-01", "2024-05-01", "2024-05-01", "2024-01-01", "2024-04-01", "2024-02-01"]
    for i, date in enumerate(dates):
        path = site / f"stack/entries/post/post{i}.en-us.json"
        # "long" is over the summary's limit: sorting on it reads the entry's whole data
        extra = {"date": date, "long": chr(ord("a") + i) * 600, "flag": i % 3 == 0}
        path.write_text(json.dumps({**json.loads(path.read_text()), **extra}))
    (site / "templates/page.html").write_text(LATEST)
    build(site)
    latest, by_date, newest, flagged = (site / "public/index.html").read_text().strip().split("|")
    # -date: post1 and post2 tie (by uid: post1 first), then post4, …
    assert latest == "Post 1;Post 2;Post 4;"
    # ascending date, ties by -long: post2's "ccc…" before post1's "bbb…"
    assert by_date == "Post 3;Post 5;Post 0;Post 4;Post 2;Post 1;"
    assert newest == "Post 5;Post 4;"  # newest updated_at first, as entries() without sort
    assert flagged == "Post 3;Post 0;Post 5;Post 4;Post 2;Post 1;"  # true first, then -title
    # an edit that moves a post into the first three: re-rendered as a full build would
    path = site / "stack/entries/post/post3.en-us.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "date": "2024-06-01"}))
    result = build(site)
    assert result.kind == "incremental" and "index.html" in result.changed
    assert (site / "public/index.html").read_text().startswith("Post 3;Post 1;Post 2;|")
    incremental = tree(site / "public")
    build(site, full=True)
    assert tree(site / "public") == incremental


@pytest.mark.parametrize(
    "call, message",
    [
        ('entries("post", limit=-1)', r"entries\(\): limit must be a whole number from 0, got -1"),
        ('entries("post", limit="3")', r"entries\(\): limit must be a whole number"),
        (
            'entries("post", sort=3)',
            r'entries\(\): sort must be a field or a list of fields like "-date", got 3',
        ),
        ('entries("post", sort=["-"])', r"entries\(\): sort must be a field"),
        ('entries("post", sort="x-y")', r"entries\(\): sort field 'x-y' does not start with a"),
    ],
)
def test_entries_arguments_are_checked(tmp_path: Path, call: str, message: str):
    site = make_site(tmp_path)
    (site / "templates/page.html").write_text("{% for p in " + call + " %}{% endfor %}\n")
    with pytest.raises(BuildError, match=message):
        build(site)
