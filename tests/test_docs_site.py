"""sitegen's own documentation (docs/) and the docs starter, as a reader sees them in Chromium.

Both are built by the real CLI with ``--strict`` (every internal link checked), then served
over HTTP and opened in headless Chromium at a desktop and a phone size. Screenshots of what
was checked are written to ``.cache/screenshots/`` (kept by CI runs, never committed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import browser_page, serve_folder

ROOT = Path(__file__).parent.parent
SHOTS = ROOT / ".cache" / "screenshots"
PHONE = {"width": 390, "height": 844}


def _build(site: Path) -> str:
    """``sitegen build --strict SITE``; its output, which must carry no warning."""
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--strict", "--full", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "none broken" in output, output
    return output


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of docs/ (so the checkout gets no build output), built; its templates and
    static files are the docs starter's, found through the relative paths in its sitegen.toml."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "docs", root / "docs", ignore=shutil.ignore_patterns("public", ".*"))
    shutil.copytree(ROOT / "templates" / "docs", root / "templates" / "docs")
    _build(root / "docs")
    return root / "docs"


@pytest.fixture(scope="module")
def starter_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("starter") / "docs"
    subprocess.run(
        [sys.executable, "-m", "sitegen", "init", str(site), "--starter", "docs"],
        check=True,
        capture_output=True,
    )
    _build(site)
    return site


def _shot(page, name: str, *, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 5_000, f"{path} looks empty"
    return path


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def _search(page, query: str) -> list[str]:
    """Type a query into the Pagefind box; the result titles, in order."""
    box = page.get_by_role("searchbox").or_(page.locator(".pagefind-ui__search-input")).first
    box.fill(query)
    page.locator(".pagefind-ui__result-link").first.wait_for(timeout=10_000)
    return page.locator(".pagefind-ui__result-link").all_inner_texts()


def test_every_page_of_the_docs_has_a_summary_a_section_and_working_anchors(docs_site: Path):
    """Rendered: the summary and the section show; ids are unique on a page (a heading's id
    must not collide with the layout's); every link to a #fragment of a docs page finds its
    target (the link checker checks pages, not fragments)."""
    pages = sorted((docs_site / "stack" / "entries" / "doc").glob("*.md"))
    assert len(pages) >= 20, [p.name for p in pages]
    public = docs_site / "public"
    ids: dict[str, list[str]] = {}
    for html_file in public.rglob("index.html"):
        path = "/" + html_file.parent.relative_to(public).as_posix() + "/"
        html = html_file.read_text(encoding="utf-8")
        ids[path.replace("/./", "/")] = re.findall(r' id="([^"]+)"', html)
    for path, found in ids.items():
        doubled = sorted({i for i in found if found.count(i) > 1})
        assert not doubled, f"{path}: ids used twice: {doubled}"
    checked = 0
    for source in pages:
        text = source.read_text(encoding="utf-8")
        url = next(line for line in text.splitlines() if line.startswith("url = "))
        url = url.split('"')[1]
        html = (public / url.strip("/") / "index.html").read_text(encoding="utf-8")
        assert '<p class="lead">' in html, f"{source.name}: no summary"
        assert 'class="eyebrow"' in html, f"{source.name}: no section"
        for href in re.findall(r'href="(/[^"#]*|)#([^"]+)"', html):
            target, fragment = href[0] or url, href[1]
            if target in ids:
                checked += 1
                assert fragment in ids[target], f"{source.name}: {target}#{fragment} has no target"
    assert checked > 50, checked


def test_docs_home_and_a_reference_page_on_a_desktop(docs_site: Path):
    with serve_folder(docs_site / "public") as url, browser_page() as page:
        _open(page, url + "/")
        assert page.locator("h1").inner_text() == "sitegen"
        for section in ("Getting started", "Concepts", "Guides", "Reference"):
            assert page.get_by_role("heading", name=section).is_visible(), section
        _shot(page, "docs-home-desktop")
        _open(page, url + "/reference/configuration/")
        assert page.locator("h1").inner_text() == "Configuration"
        toc = page.locator("details.toc")
        assert toc.is_visible() and toc.get_attribute("open") is not None
        # beside the text on a wide screen: the table of contents is right of the article
        text_box = page.locator(".doc .prose").bounding_box()
        toc_box = toc.bounding_box()
        assert toc_box["x"] > text_box["x"] + text_box["width"] - 1
        for href in toc.locator("a").evaluate_all("links => links.map(a => a.hash)"):
            assert page.locator(href).count() == 1, f"the contents link {href} has no target"
        assert page.locator('.sidebar a[aria-current="page"]').inner_text() == "Configuration"
        assert page.locator("pre.highlight span").count() > 10  # highlighted at build time
        _shot(page, "docs-reference-desktop")
        assert page.problems == []


def test_docs_search_finds_pages_offline(docs_site: Path):
    with serve_folder(docs_site / "public") as url, browser_page() as page:
        page.route(
            "**/*",
            lambda route: route.abort() if url not in route.request.url else route.continue_(),
        )
        _open(page, url + "/")
        titles = _search(page, "incremental")
        assert titles, "no results for 'incremental'"
        assert any("incremental" in t.lower() or "build" in t.lower() for t in titles[:3]), titles
        _shot(page, "docs-search-incremental")
        first = page.locator(".pagefind-ui__result-link").first
        href = first.get_attribute("href")
        first.click()
        page.wait_for_load_state("networkidle")
        assert page.url.startswith(url + href.split("#")[0])
        assert page.problems == []


def test_docs_starter_on_a_phone(starter_site: Path):
    with serve_folder(starter_site / "public") as url, browser_page() as page:
        page.set_viewport_size(PHONE)
        _open(page, url + "/docs/installation/")
        h1 = page.locator("h1").bounding_box()
        assert h1["y"] + h1["height"] < PHONE["height"] / 2, "the title is pushed below the fold"
        lead = page.locator(".lead").bounding_box()
        assert lead["y"] < PHONE["height"], "the page's text starts below the fold"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        sidebar = page.locator("#site-sidebar")
        assert not sidebar.is_visible()
        toc = page.locator("details.toc")
        if toc.count():
            assert toc.get_attribute("open") is None  # closed on a phone
        _shot(page, "docs-starter-phone")
        menu = page.get_by_role("button", name="Menu")
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        assert sidebar.is_visible()
        assert sidebar.get_by_role("link", name="Installation").get_attribute("aria-current")
        _shot(page, "docs-starter-phone-menu")
        page.keyboard.press("Escape")
        assert not sidebar.is_visible() and menu.get_attribute("aria-expanded") == "false"
        assert page.problems == []


def test_docs_starter_marks_the_current_language_and_searches_it(starter_site: Path):
    with serve_folder(starter_site / "public") as url, browser_page() as page:
        _open(page, url + "/fr/docs/installation/")
        languages = page.get_by_role("navigation", name="Langues")
        current = languages.locator('[aria-current="true"]')
        assert current.inner_text().endswith("Français")
        assert languages.get_by_role("link", name="Français").count() == 0  # marked, not linked
        style = current.evaluate("e => getComputedStyle(e).backgroundColor")
        assert style not in ("rgba(0, 0, 0, 0)", "transparent"), "the current language is unmarked"
        # French pages search the French index: a French word finds the French page
        titles = _search(page, "installation")
        links = page.locator(".pagefind-ui__result-link").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert titles and all(href.startswith("/fr/") for href in links), links
        assert page.problems == []


def test_docs_starter_highlights_code_without_javascript(starter_site: Path):
    html = (starter_site / "public" / "docs" / "configuration" / "index.html").read_text("utf-8")
    assert '<pre class="highlight"><code class="language-toml">' in html
    with serve_folder(starter_site / "public") as url, browser_page() as page:
        page.route("**/*.js", lambda route: route.abort())  # no script: the colours are CSS
        _open(page, url + "/docs/configuration/")
        colours = page.locator("pre.highlight span").evaluate_all(
            "spans => new Set(spans.map(s => getComputedStyle(s).color)).size"
        )
        assert colours >= 2, (
            "highlighted code shows in one colour: the stylesheet lacks the palette"
        )
