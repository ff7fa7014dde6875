"""Listing pages, term pages, feeds, the sitemap, robots.txt and 404.html, built for real."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegen.build import build_site, site_files
from sitegen.config import load_config
from sitegen.errors import BuildError, ConfigError
from tests.sites import make_site as _make_site
from tests.sites import write_json
from tests.test_build import tree

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"

LIST = (
    '<!doctype html><html lang="{{ locale }}"><h1>{{ page.title }} {{ paginator.number }}/'
    "{{ paginator.total_pages }} of {{ paginator.total_items }}</h1>"
    '{% for p in paginator.items %}<a class="item" href="{{ url_for(p) }}">{{ p.title }}</a>{% endfor %}'
    '{% if paginator.has_previous %}<a rel="prev" href="{{ paginator.previous_url }}">prev</a>{% endif %}'
    '{% if paginator.has_next %}<a rel="next" href="{{ paginator.next_url }}">next</a>{% endif %}'
    "</html>\n"
)
TERM = (
    "<h1>{{ term.label }} ({{ term.count }}) {{ term.url }}</h1>"
    "{% for p in paginator.items %}<p>{{ p.title }}</p>{% endfor %}\n"
)
TAGS = '{% for t in terms("tags") %}<a href="{{ t.url }}">{{ t.label }}:{{ t.count }}</a>{% endfor %}\n'


def make_site(tmp_path: Path, toml: str = "", posts: int = 5, **templates: str) -> Path:
    site = _make_site(tmp_path, posts=posts)
    for i in range(posts):  # tags: post i has "even"/"odd" and, for i < 2, "Early Bird"
        path = site / f"stack/entries/post/post{i}.en-us.json"
        data = json.loads(path.read_text())
        data["tags"] = ["even" if i % 2 == 0 else "odd"] + (["Early Bird"] if i < 2 else [])
        write_json(path, data)
    with (site / "sitegen.toml").open("a") as f:
        f.write(toml)
    for name, text in {
        "list.html": LIST,
        "term.html": TERM,
        "tags.html": TAGS,
        **templates,
    }.items():
        (site / "templates" / name).write_text(text)
    return site


def build(site: Path, full: bool = False):
    return build_site(load_config(site, env={}), full=full)


BLOG = """
[[pages]]
path = "/blog/"
title = "Blog"
template = "list.html"
content_type = "post"
per_page = 2
sort = "-updated_at"
"""


def test_a_paginated_listing_in_every_locale(tmp_path: Path):
    site = make_site(tmp_path, BLOG)
    result = build(site)
    public = site / "public"
    first = (public / "blog/index.html").read_text()
    assert "<h1>Blog 1/3 of 5</h1>" in first
    # newest first: post4 (updated last), post3
    assert first.index(">Post 4<") < first.index(">Post 3<") and ">Post 2<" not in first
    assert '<a rel="next" href="/blog/page/2/">' in first and 'rel="prev"' not in first
    second = (public / "blog/page/2/index.html").read_text()
    assert (
        '<a rel="prev" href="/blog/">' in second and '<a rel="next" href="/blog/page/3/">' in second
    )
    last = (public / "blog/page/3/index.html").read_text()
    assert ">Post 0<" in last and 'rel="next"' not in last
    french = (public / "fr/blog/page/2/index.html").read_text()
    assert '<html lang="fr-fr">' in french and 'href="/fr/blog/page/3/"' in french
    assert 'href="/fr/posts/post-2/"' in french
    assert not (public / "blog/page/1").exists() and not (public / "blog/page/4").exists()
    assert result.pages_by_locale == {"en-us": 6 + 3, "fr-fr": 6 + 3}  # home, 5 posts, 3 pages


def test_filter_sort_and_all_on_one_page(tmp_path: Path):
    site = make_site(
        tmp_path,
        """
[[pages]]
path = "/odd/"
template = "list.html"
content_type = "post"
per_page = 0
sort = ["tags", "title"]
filter = { tags = "odd" }
""",
    )
    build(site)
    html = (site / "public/odd/index.html").read_text()
    assert "1/1 of 2" in html
    assert html.index(">Post 1<") < html.index(">Post 3<") and ">Post 0<" not in html


def test_term_pages_and_the_terms_helper(tmp_path: Path):
    toml = """
[[pages]]
path = "/tags/{term}/"
name = "tags"
template = "term.html"
content_type = "post"
terms = "tags"
per_page = 2
sort = "title"

[[pages]]
path = "/tags/"
template = "tags.html"
"""
    site = make_site(tmp_path, toml)
    build(site)
    public = site / "public"
    even = (public / "tags/even/index.html").read_text()
    assert "<h1>even (3) /tags/even/</h1>" in even and "<p>Post 0</p><p>Post 2</p>" in even
    assert "<p>Post 4</p>" in (public / "tags/even/page/2/index.html").read_text()
    assert (
        "<h1>Early Bird (2) /tags/early-bird/</h1>"
        in (public / "tags/early-bird/index.html").read_text()
    )
    index = (public / "tags/index.html").read_text()
    assert index == (
        '<a href="/tags/early-bird/">Early Bird:2</a><a href="/tags/even/">even:3</a>'
        '<a href="/tags/odd/">odd:2</a>'
    )
    assert '<a href="/fr/tags/odd/">' in (public / "fr/tags/index.html").read_text()

    # a post leaves the "Early Bird" term: its page and the term index change, nothing else
    path = site / "stack/entries/post/post1.en-us.json"
    data = json.loads(path.read_text())
    data["tags"] = ["odd"]
    write_json(path, data)
    result = build(site)
    assert result.kind == "incremental"
    assert "tags/early-bird/index.html" in result.changed
    assert "tags/index.html" in result.changed and "fr/tags/index.html" in result.changed
    assert "tags/even/index.html" not in result.changed + result.added
    # the last entry leaves: the term's page goes
    path = site / "stack/entries/post/post0.en-us.json"
    data = json.loads(path.read_text())
    data["tags"] = ["even"]
    write_json(path, data)
    result = build(site)
    assert "tags/early-bird/index.html" in result.removed
    assert not (public / "tags/early-bird").exists()
    assert "Early Bird" not in (public / "tags/index.html").read_text()


def test_an_edit_rerenders_only_the_listing_page_that_shows_the_entry(tmp_path: Path):
    notes = "{% for p in paginator.items %}<p>{{ p.title }}: {{ p.notes }}</p>{% endfor %}\n"
    toml = BLOG.replace('sort = "-updated_at"', 'sort = "title"').replace("list.html", "notes.html")
    site = make_site(tmp_path, toml, posts=6, **{"notes.html": notes})
    build(site)
    path = site / "stack/entries/post/post4.en-us.json"
    data = json.loads(path.read_text())
    data["notes"] = "New notes."
    write_json(path, data)
    result = build(site)
    assert result.kind == "incremental"
    # post4 is on page 3 (post0 post1 | post2 post3 | post4 post5), in both locales
    assert sorted(f for f in result.changed if "blog/" in f) == [
        "blog/page/3/index.html",
        "fr/blog/page/3/index.html",
    ]
    # rendered: post4's two pages, the two home pages (they list entries('post')), the two
    # listing pages that show post4, and the sitemap; not the other four listing pages
    assert result.rendered == 7


def test_listing_pages_of_edits_in_place_and_of_moves_match_a_full_build(tmp_path: Path):
    """An edit that keeps a member's place plans only the pages showing it, without reading
    the listing (listings.plan_showing); one that moves it plans the listing whole. Either
    way the site equals a full build's, feed included."""
    notes = "{% for p in paginator.items %}<p>{{ p.title }}: {{ p.notes }}</p>{% endfor %}\n"
    feed = '\n[[feeds]]\npath = "/blog/feed.xml"\ncontent_type = "post"\nsort = "title"\nlimit = 3\nsummary = "notes"\n'
    toml = BLOG.replace('sort = "-updated_at"', 'sort = "title"').replace("list.html", "notes.html")
    site = make_site(tmp_path / "a", toml + feed, posts=7, **{"notes.html": notes})
    build(site)

    def edit(uid: str, **fields: str) -> None:
        path = site / f"stack/entries/post/{uid}.en-us.json"
        data = json.loads(path.read_text())
        data.update(fields)
        write_json(path, data)

    edit("post1", notes="Shown on page 1 and in the feed.")
    edit("post6", notes="The last page's only post.")
    result = build(site)
    assert result.kind == "incremental"
    assert sorted(f for f in result.changed if f.startswith("blog/")) == [
        "blog/feed.xml",
        "blog/index.html",
        "blog/page/4/index.html",
    ]
    edit("post0", title="Zulu, now last")  # moves from page 1 to page 4
    moved = build(site)
    assert {"blog/index.html", "blog/page/4/index.html"} <= set(moved.changed)

    twin = tmp_path / "b"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("public", ".sitegen"))
    build(twin)
    assert tree(site / "public") == tree(twin / "public")


def test_atom_feed(tmp_path: Path):
    toml = """
[[feeds]]
path = "/feed.xml"
title = "Fixture posts"
content_type = "post"
limit = 3
summary = "title"
content = "notes"
"""
    site = make_site(tmp_path, toml)
    build(site)
    root = ET.parse(site / "public/feed.xml").getroot()
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Fixture posts"
    assert root.findtext(f"{ATOM}id") == "https://example.com/feed.xml"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "https://example.com/feed.xml"
    assert root.findtext(f"{ATOM}author/{ATOM}name")
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Post 4", "Post 3", "Post 2"]
    assert root.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")
    for entry in entries:  # RFC 4287 4.1.2: id, title, updated; links absolute
        assert entry.findtext(f"{ATOM}id").startswith("https://example.com/posts/post-")
        assert entry.find(f"{ATOM}link").get("href").startswith("https://example.com/")
        assert entry.findtext(f"{ATOM}updated").endswith("Z")
    content = entries[0].find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<em>notes</em>" in content.text and "<table>" in content.text  # escaped HTML inside
    french = ET.parse(site / "public/fr/feed.xml").getroot()
    assert french.findtext(f"{ATOM}id") == "https://example.com/fr/feed.xml"
    assert (
        french.find(f"{ATOM}entry/{ATOM}link")
        .get("href")
        .startswith("https://example.com/fr/posts/")
    )


def test_sitemap_lists_every_page_with_lastmod_and_hreflang(tmp_path: Path):
    site = make_site(tmp_path, BLOG)
    build(site)
    public = site / "public"
    root = ET.parse(public / "sitemap.xml").getroot()
    urls = {u.findtext(f"{SM}loc"): u for u in root.findall(f"{SM}url")}
    pages = {
        "https://example.com/" + str(p.relative_to(public)).removesuffix("index.html")
        for p in public.rglob("*.html")
        if p.name != "404.html"
    }
    assert set(urls) == pages
    post = urls["https://example.com/posts/post-2/"]
    assert post.findtext(f"{SM}lastmod") == "2024-01-03T00:00:00.000Z"
    links = {link.get("hreflang"): link.get("href") for link in post.findall(f"{XHTML}link")}
    assert links == {
        "en-us": "https://example.com/posts/post-2/",
        "fr-fr": "https://example.com/fr/posts/post-2/",
        "x-default": "https://example.com/posts/post-2/",
    }
    blog = urls["https://example.com/fr/blog/page/2/"]
    assert {link.get("hreflang") for link in blog.findall(f"{XHTML}link")} == {
        "en-us",
        "fr-fr",
        "x-default",
    }
    robots = (public / "robots.txt").read_text()
    assert "Sitemap: https://example.com/sitemap.xml" in robots


def test_large_sitemaps_become_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(site_files, "SITEMAP_LIMIT", 4)
    site = make_site(tmp_path, posts=5)  # 1 home + 5 posts per locale = 12 pages: 3 files
    build(site)
    public = site / "public"
    index = ET.parse(public / "sitemap.xml").getroot()
    assert index.tag == f"{SM}sitemapindex"
    locs = [s.findtext(f"{SM}loc") for s in index.findall(f"{SM}sitemap")]
    assert locs == [f"https://example.com/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed = [
        u.findtext(f"{SM}loc")
        for n in (1, 2, 3)
        for u in ET.parse(public / f"sitemap-{n}.xml").getroot().findall(f"{SM}url")
    ]
    assert len(listed) == len(set(listed)) == 12
    # fewer pages: 2 files, then back to one sitemap, the numbered files removed
    for i in (3, 4):
        (site / f"stack/entries/post/post{i}.en-us.json").unlink()
    result = build(site)
    assert result.kind == "incremental" and result.removed.count("sitemap-3.xml") == 1
    assert ET.parse(public / "sitemap.xml").getroot().tag == f"{SM}sitemapindex"
    for i in (1, 2):
        (site / f"stack/entries/post/post{i}.en-us.json").unlink()
    result = build(site)
    assert {"sitemap-1.xml", "sitemap-2.xml"} <= set(result.removed)
    assert ET.parse(public / "sitemap.xml").getroot().tag == f"{SM}urlset"
    assert not list(public.glob("sitemap-*.xml"))


def test_the_stored_sitemap_follows_every_change_as_a_full_build_would(tmp_path: Path):
    """Incremental builds remake only the changed pages' <url> elements: the file must still
    be what a full build of the same content and settings writes."""
    site = make_site(tmp_path / "site", BLOG)
    build(site)
    posts = site / "stack/entries/post"

    def full_sitemap() -> str:
        twin = tmp_path / "twin"
        shutil.rmtree(twin, ignore_errors=True)
        shutil.copytree(site, twin, ignore=shutil.ignore_patterns("public", ".sitegen"))
        build(twin, full=True)
        return (twin / "public/sitemap.xml").read_text()

    def edit(path: Path, **fields: str) -> None:
        write_json(path, {**json.loads(path.read_text()), **fields})

    steps = [
        # a new url (and lastmod) for one page: its two versions change
        lambda: edit(posts / "post1.en-us.json", url="/posts/renamed/", updated_at="2025-02-01"),
        # a French version of its own: the English version's alternates are unchanged
        lambda: write_json(
            posts / "post2.fr-fr.json",
            {
                **json.loads((posts / "post2.en-us.json").read_text()),
                **{"title": "Billet 2", "url": "/billets/2/", "updated_at": "2025-03-01"},
            },
        ),
        lambda: (posts / "post3.en-us.json").unlink(),  # gone in both locales
        # settings every <url> element shows
        lambda: (site / "sitegen.toml").write_text(
            (site / "sitegen.toml").read_text().replace("https://example.com", "https://ex.org")
        ),
    ]
    for step in steps:
        step()
        result = build(site)
        assert result.kind == "incremental"
        assert (site / "public/sitemap.xml").read_text() == full_sitemap()
    text = (site / "public/sitemap.xml").read_text()
    assert "https://ex.org/posts/renamed/" in text and "post-3" not in text
    assert "https://ex.org/fr/billets/2/" in text and "example.com" not in text


def test_site_overrides_and_static_files_win(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates/404.html").write_text("<h1>{{ t('lost') }} {{ site.title }}</h1>\n")
    (site / "templates/i18n").mkdir()
    (site / "templates/i18n/en-us.json").write_text('{"lost": "Lost?"}')
    (site / "static").mkdir()
    (site / "static/robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    (site / "sitegen.toml").write_text(
        (site / "sitegen.toml").read_text() + "\n[sitemap]\nenabled = false\n"
    )
    build(site)
    public = site / "public"
    assert (public / "404.html").read_text() == "<h1>Lost? Fixture</h1>\n"
    assert (public / "robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"
    assert not (public / "sitemap.xml").exists()
    # removing the static robots.txt: the generated one takes its place (no sitemap line)
    (site / "static/robots.txt").unlink()
    result = build(site)
    assert result.kind == "incremental"
    assert (public / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"


def test_default_404_page(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    html = (site / "public/404.html").read_text()
    assert "<h1>Page not found</h1>" in html and 'href="/"' in html


def test_listing_errors_name_the_setting(tmp_path: Path):
    site = make_site(tmp_path, BLOG.replace("list.html", "missing.html"))
    with pytest.raises(BuildError, match=r"pages\[0\]\.template is 'missing.html'"):
        build(site)
    site = make_site(tmp_path / "c", BLOG.replace('"post"', '"posts"'))
    with pytest.raises(
        BuildError, match=r"pages\[0\]\.content_type names 'posts', which the stack"
    ):
        build(site)
    site = make_site(tmp_path / "b", BLOG.replace('path = "/blog/"', 'path = "/posts/post-1/"'))
    with pytest.raises(BuildError, match=r"two pages write public/posts/post-1/index\.html"):
        build(site)
    for bad, message in [
        ('terms = "tags"', r"pages\[0\]\.path must contain \{term\} once"),
        ("per_page = -1", r"pages\[0\]\.per_page must be from 0"),
        ('filter = { title = { "$bogus" = 1 } }', r"pages\[0\]\.filter is not a valid CDA query"),
        ("sort = 3", r"pages\[0\]\.sort must be a string or array"),
        ("colour = 1", r"pages\[0\]\.colour is not a known setting"),
    ]:
        toml = BLOG.replace("per_page = 2", "").replace('sort = "-updated_at"', "") + bad + "\n"
        folder = tmp_path / str(abs(hash(bad)))
        site = make_site(folder, toml)
        with pytest.raises(ConfigError, match=message):
            load_config(site, env={})


def test_the_sitemap_without_jinja_is_the_package_template_byte_for_byte(tmp_path: Path):
    from sitegen.build.render import PACKAGE_TEMPLATES

    site = make_site(tmp_path, BLOG)
    build(site)
    fast = (site / "public/sitemap.xml").read_text()
    # the same site with the package's template copied in: the Jinja path renders it
    (site / "templates/sitemap.xml").write_text((PACKAGE_TEMPLATES / "sitemap.xml").read_text())
    build(site, full=True)
    assert (site / "public/sitemap.xml").read_text() == fast
    odd = [
        {
            "loc": "https://example.com/a&b/<x>/",
            "lastmod": None,
            "alternates": [{"hreflang": "en-us", "href": 'https://example.com/"q"/'}],
        }
    ]
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    fast = site_files.URLSET_HEAD + site_files.url_xml(odd[0]) + site_files.URLSET_TAIL
    assert fast == env.get_template("sitemap.xml").render(urls=odd)
