"""The example site, built offline from its bundled local stack and checked in headless Chromium.

This is what a newcomer sees first, so it is held to what the README promises: a page per
entry with a url per locale, fallback content in the second locale, references two levels deep
and embedded items visible, and a byte-identical result when built twice.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegen.build import BuildResult, build_site
from sitegen.config import load_config
from tests.browser import browser_page, serve_folder
from tests.test_build import tree

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STACK = EXAMPLE / "stack"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _copy_example(target: Path) -> Path:
    ignore = shutil.ignore_patterns("public", ".sitegen", ".*.history.sqlite*")
    shutil.copytree(EXAMPLE, target, ignore=ignore)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    site = _copy_example(tmp_path_factory.mktemp("example") / "site")
    return site, build_site(load_config(site, env={}))


def _entries(content_type: str, locale: str) -> dict[str, dict]:
    folder = STACK / "entries" / content_type
    return {
        p.name.split(".")[0]: json.loads(p.read_text(encoding="utf-8"))
        for p in folder.glob(f"*.{locale}.json")
    }


def test_a_page_per_entry_with_a_url_in_every_locale(built):
    site, result = built
    with_url = sum(
        1
        for ct in (STACK / "entries").iterdir()
        for entry in _entries(ct.name, "en-us").values()
        if entry.get("url")
    )
    assert with_url > 100
    posts = _entries("blog_post", "en-us")
    listing = -(-len(posts) // 12)  # the journal: [[pages]] /blog/, 12 posts a page
    # the topic pages: every term, 12 posts a page (one page when none is tagged)
    term_pages = sum(max(1, -(-len(posts_under(term)) // 12)) for term in _terms())
    pages = with_url + listing + term_pages
    assert result.pages_by_locale == {"en-us": pages, "fr-fr": pages, "ja-jp": pages}
    assert len(posts) > 100
    for post in posts.values():
        for prefix in ("", "/fr", "/ja"):
            assert (site / "public" / (prefix + post["url"]).lstrip("/") / "index.html").is_file()


def _terms() -> dict[str, dict]:
    """Each term of the topics taxonomy by uid, with ``parent`` added."""
    found: dict[str, dict] = {}

    def walk(terms: list[dict], parent: str | None) -> None:
        for term in terms:
            found[term["uid"]] = {**term, "parent": parent}
            walk(term.get("terms", []), term["uid"])

    walk(json.loads((STACK / "taxonomies/topics.json").read_text(encoding="utf-8"))["terms"], None)
    return found


def posts_under(term: str) -> set[str]:
    """Uids of the posts tagged with the term or a term below it (the $eq_below meaning)."""
    terms = _terms()

    def within(tag: str) -> bool:
        while tag is not None:
            if tag == term:
                return True
            tag = terms[tag]["parent"]
        return False

    return {
        uid
        for uid, post in _entries("blog_post", "en-us").items()
        if any(within(t["term_uid"]) for t in post.get("taxonomies", []))
    }


def test_topic_pages_list_the_term_and_its_descendants_with_localized_names(built):
    site, _ = built
    public = site / "public"
    posts = _entries("blog_post", "en-us")
    engineering = posts_under("engineering")
    assert engineering > posts_under("frontend") > posts_under("web-performance") != set()
    html = (public / "taxonomy/topics/engineering/index.html").read_text()
    assert f"{len(engineering)} posts" in html
    newest = max(engineering, key=lambda uid: posts[uid]["date"])
    assert posts[newest]["title"].replace("'", "&#39;") in html
    assert 'href="/taxonomy/topics/frontend/">Front end <span class="count">' in html
    french = (public / "fr/taxonomy/topics/web-performance/index.html").read_text()
    assert "<h1>Performance web</h1>" in french  # the term's fr-fr name
    assert '<a href="/fr/taxonomy/topics/engineering/">Ingénierie</a>' in french  # breadcrumb
    assert '<a href="/fr/taxonomy/topics/frontend/">Front end</a>' in french  # no fr name: en
    untagged = [t for t in _terms() if not posts_under(t)]
    for term in untagged:  # every term has its page, tagged or not
        assert (public / f"ja/taxonomy/topics/{term}/index.html").is_file()


def test_building_twice_is_byte_identical(built, tmp_path: Path):
    site, _ = built
    first = tree(site / "public")
    build_site(load_config(site, env={}))
    assert tree(site / "public") == first


def test_fallback_and_localized_content(built):
    site, _ = built
    en, fr = _entries("blog_post", "en-us"), _entries("blog_post", "fr-fr")
    localized = next(iter(fr))
    not_localized = next(uid for uid in sorted(en) if uid not in fr)
    html = (site / "public/fr" / en[localized]["url"].lstrip("/") / "index.html").read_text()
    assert fr[localized]["title"].replace("'", "&#39;") in html
    fallback = (
        site / "public/fr" / en[not_localized]["url"].lstrip("/") / "index.html"
    ).read_text()
    assert en[not_localized]["title"].replace("'", "&#39;") in fallback
    assert '<html lang="fr' in fallback


def _broken_images(page, scope: str = "") -> list[str]:
    """Sources of images under ``scope`` that did not load (lazy ones are loaded first)."""
    page.evaluate("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=10_000)
    return page.evaluate(
        f"[...document.querySelectorAll('{scope} img')]"
        ".filter(i => i.naturalWidth === 0).map(i => i.src)"
    )


def test_journal_listing_feed_and_sitemap(built):
    site, _ = built
    public = site / "public"
    posts = sorted(_entries("blog_post", "en-us").values(), key=lambda p: p["date"], reverse=True)
    pages = -(-len(posts) // 12)
    first = (public / "blog/index.html").read_text()
    assert posts[0]["title"].replace("'", "&#39;") in first
    assert f'href="/blog/page/{pages}/"' in first
    assert (public / f"ja/blog/page/{pages}/index.html").is_file()
    assert not (public / f"blog/page/{pages + 1}").exists()
    # hreflang alternates and the language switcher lead to the same listing page elsewhere
    second = (public / "fr/blog/page/2/index.html").read_text()
    for tag, prefix in (("en-US", ""), ("fr-FR", "/fr"), ("ja-JP", "/ja")):
        assert (
            f'<link rel="alternate" hreflang="{tag}" href="https://example.com{prefix}/blog/page/2/">'
            in second
        )
    assert '<a href="/blog/page/2/" hreflang="en-US" lang="en-US">English</a>' in second

    feed = ET.parse(public / "blog/feed.xml").getroot()
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert titles == [p["title"] for p in posts[:20]]
    assert all(
        link.get("href").startswith("https://example.com/") for link in feed.iter(f"{ATOM}link")
    )

    sitemap = ET.parse(public / "sitemap.xml").getroot()
    locs = {u.findtext(f"{SM}loc") for u in sitemap.findall(f"{SM}url")}
    # every page but the 404 page and variant pages (served at their base page's address)
    html_pages = [
        p
        for p in public.rglob("*.html")
        if p.name != "404.html" and "_variants" not in p.relative_to(public).parts
    ]
    assert len(locs) == len(html_pages)
    assert "https://example.com/ja/blog/page/2/" in locs
    assert "Sitemap: https://example.com/sitemap.xml" in (public / "robots.txt").read_text()
    assert "ページが見つかりません" not in (public / "404.html").read_text()  # English at the root


def test_in_a_browser_pagination_and_language_switcher(built):
    site, _ = built
    with serve_folder(site / "public") as url, browser_page() as page:
        page.goto(url + "/fr/blog/page/2/")
        assert page.locator("html").get_attribute("lang") == "fr-FR"
        page.locator("a.pagination-next").click()
        page.wait_for_url(url + "/fr/blog/page/3/")
        assert page.locator('.pagination-pages a[aria-current="page"]').inner_text() == "3"
        page.locator('.lang-switch a[hreflang="en-US"]').click()
        page.wait_for_url(url + "/blog/page/3/")
        assert "Older posts" in page.locator(".pagination").inner_text()
        assert _broken_images(page) == []
        page.goto(url + "/404.html")
        assert page.locator("h1").inner_text() == "Page not found"
        assert page.problems == []


def test_in_a_browser_topic_pages_breadcrumbs_and_subtopics(built):
    site, _ = built
    with serve_folder(site / "public") as url, browser_page() as page:
        page.goto(url + "/fr/taxonomy/topics/web-performance/")
        assert page.locator("h1").inner_text() == "Performance web"
        page.locator(".breadcrumb a", has_text="Ingénierie").click()
        page.wait_for_url(url + "/fr/taxonomy/topics/engineering/")
        assert page.locator("h1").inner_text() == "Ingénierie"
        chips = page.locator(".topic-filter a.chip")
        assert chips.count() == 2
        chips.first.click()
        page.wait_for_url(url + "/fr/taxonomy/topics/frontend/")
        rows = page.locator(".post-list .post-row")
        assert rows.count() == min(12, len(posts_under("frontend")))
        page.locator('.lang-switch a[hreflang="ja-JP"]').click()
        page.wait_for_url(url + "/ja/taxonomy/topics/frontend/")
        assert page.problems == []


def test_in_a_browser_home_page(built):
    site, _ = built
    with serve_folder(site / "public") as url, browser_page() as page:
        page.goto(url + "/")
        assert page.locator("html").get_attribute("lang").lower().startswith("en")
        assert page.locator("h1").first.is_visible()
        # every image on the page actually loaded
        assert _broken_images(page) == []
        assert page.problems == []


def test_in_a_browser_references_two_levels_deep(built):
    site, _ = built
    posts = _entries("blog_post", "en-us")
    post = next(p for _, p in sorted(posts.items()) if p.get("author"))
    author = json.loads(
        (STACK / f"entries/author/{post['author'][0]['uid']}.en-us.json").read_text()
    )
    team = json.loads((STACK / f"entries/team/{author['team'][0]['uid']}.en-us.json").read_text())
    with serve_folder(site / "public") as url, browser_page() as page:
        page.goto(url + post["url"])
        text = page.locator("main").inner_text()
        assert author["title"] in text
        assert team["title"] in text  # post → author → team
        assert page.problems == []


def test_in_a_browser_embedded_entries_and_assets(built):
    site, _ = built
    with serve_folder(site / "public") as url, browser_page() as page:
        page.goto(url + "/about/")
        main = page.locator("main")
        # an embedded entry rendered through templates/embedded/author.html
        assert main.locator("aside.embed-author").first.is_visible()
        # embedded assets (JSON-RTE and HTML-RTE figures) are visible images that loaded
        images = main.locator("img")
        assert images.count() >= 2
        assert _broken_images(page, "main") == []
        assert page.problems == []
