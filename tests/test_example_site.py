"""The example site, built offline from its bundled local stack and checked in headless Chromium.

This is what a newcomer sees first, so it is held to what the README promises: a page per
entry with a url per locale, fallback content in the second locale, references two levels deep
and embedded items visible, and a byte-identical result when built twice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildResult, build_site
from sitegen.config import load_config
from tests.browser import browser_page, serve_folder
from tests.test_build import tree

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"
STACK = EXAMPLE / "stack"


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
    assert result.pages_by_locale == {"en-us": with_url, "fr-fr": with_url, "ja-jp": with_url}
    posts = _entries("blog_post", "en-us")
    assert len(posts) > 100
    for post in posts.values():
        for prefix in ("", "/fr", "/ja"):
            assert (site / "public" / (prefix + post["url"]).lstrip("/") / "index.html").is_file()


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
