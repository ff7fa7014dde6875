"""``sitegen init``: every starter scaffolds a site that builds at once, warning-free, and the
command never leaves a half-written folder behind.

The starters are what a newcomer builds first, so they are built here with the real pipeline
and looked at in headless Chromium, like the example site.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build import BuildResult, build_site
from sitegen.build.links import check_links
from sitegen.cli import cli, scaffold
from sitegen.config import load_config
from tests.browser import browser_page, serve_folder
from tests.test_build import tree

STARTERS = Path(__file__).resolve().parent.parent / "templates"


def run(*args: str):
    result = CliRunner().invoke(cli, ["init", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def init_and_build(target: Path, starter: str) -> BuildResult:
    result = run(str(target), "--starter", starter)
    assert result.exit_code == 0, result.output
    return build_site(load_config(target, env={}))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, BuildResult]]:
    sites = {}
    for name in ("blog", "docs"):
        site = tmp_path_factory.mktemp("starters") / name
        sites[name] = (site, init_and_build(site, name))
    return sites


def _html(site: Path, url: str) -> str:
    return (site / "public" / url.lstrip("/") / "index.html").read_text(encoding="utf-8")


def _entry(starter: str, content_type: str, uid: str, locale: str = "en-us") -> dict:
    path = STARTERS / starter / "stack/entries" / content_type / f"{uid}.{locale}.json"
    return json.loads(path.read_text(encoding="utf-8"))


# -- the starters -----------------------------------------------------------------------------


def test_the_starters_are_found_in_the_checkout():
    assert scaffold.starter_names() == sorted(
        p.name for p in STARTERS.iterdir() if (p / "sitegen.toml").is_file()
    )
    assert {"blog", "docs"} <= set(scaffold.starter_names())


def test_every_starter_builds_without_warnings_or_broken_links(tmp_path: Path):
    for name in scaffold.starter_names():  # a starter added later is held to the same bar
        site = tmp_path / name
        result = init_and_build(site, name)
        assert result.warnings == [], name
        assert result.pages > 0 and set(result.pages_by_locale) == {"en-us", "fr-fr"}
        config = load_config(site, env={})
        report = check_links(result.output, config.base_url)
        assert report.broken == [], (name, report.summary())


def test_blog_pages(built):
    site, result = built["blog"]
    assert result.warnings == []
    # home, about, 3 posts, 1 author, 3 tags and 2 pages of the [[pages]] listing, per locale
    assert result.pages_by_locale == {"en-us": 11, "fr-fr": 11}
    home = _html(site, "/")
    for uid in ("hello-world", "writing-in-two-languages", "small-pages-load-fast"):
        post = _entry("blog", "blog_post", uid)
        assert f'href="{post["url"]}"' in home  # the latest posts, listed with entries()
        page = _html(site, post["url"])
        assert post["title"].replace("'", "&#39;") in page
        assert 'href="/authors/sam-rivera/"' in page
    # newest first
    assert home.index("Small pages load fast") < home.index("Hello, world")
    assert "<strong>sitegen</strong>" in home  # the JSON-RTE intro through | rte
    assert '<h2 id="how-it-works">How it works</h2>' in _html(
        site, "/about/"
    )  # markdown through | markdown
    tag = _html(site, "/tags/design/")
    assert "Small pages load fast" in tag and "Hello, world" not in tag
    assert '<link rel="stylesheet" href="/css/site.css?v=' in home  # static_url()


def test_blog_second_locale_and_fallback(built):
    site, _ = built["blog"]
    fr_home = _html(site, "/fr/")
    assert '<html lang="fr-fr">' in fr_home
    assert "Bonjour et bienvenue" in fr_home and "Derniers articles" in fr_home  # t()
    assert 'hreflang="en-us" href="https://example.com/"' in fr_home  # alternates()
    assert 'href="/" hreflang="en-us"' in fr_home  # the language switcher
    translated = _html(site, "/fr/blog/hello-world/")
    assert "Bonjour tout le monde" in translated and "pas encore traduite" not in translated
    fallback = _html(site, "/fr/blog/small-pages-load-fast/")
    assert "Small pages load fast" in fallback  # the English entry, on a French page
    assert "pas encore traduite" in fallback and 'lang="en-us"' in fallback
    assert "9 mars 2026" in fallback  # dates in the page's language


def test_blog_listing_is_paginated_in_every_locale(built):
    site, _ = built["blog"]
    first, second = _html(site, "/blog/"), _html(site, "/blog/page/2/")
    assert first.index("Small pages load fast") < first.index("Writing in two languages")
    assert "Hello, world" not in first and "Hello, world" in second  # 2 a page, newest first
    assert 'href="/blog/page/2/" rel="next"' in first and 'href="/blog/" rel="prev"' in second
    assert 'hreflang="fr-fr" href="https://example.com/fr/blog/page/2/"' in second
    fr = _html(site, "/fr/blog/page/2/")
    assert "Bonjour tout le monde" in fr and "Articles plus récents" in fr
    assert 'href="/blog/page/2/" hreflang="en-us"' in fr  # the language switcher


def test_blog_feed(built):
    import xml.etree.ElementTree as ET

    site, _ = built["blog"]
    atom = "{http://www.w3.org/2005/Atom}"
    for prefix in ("", "fr/"):  # the newest post is not translated: English in both feeds
        feed = ET.parse(site / "public" / prefix / "blog/feed.xml").getroot()
        entries = feed.findall(f"{atom}entry")
        assert len(entries) == 3
        assert entries[0].findtext(f"{atom}title") == "Small pages load fast"
        assert entries[0].findtext(f"{atom}published") == "2026-03-09T09:00:00.000Z"
        assert entries[0].findtext(f"{atom}summary").startswith("One stylesheet")
        assert "<h2>Make it yours</h2>" in entries[0].findtext(f"{atom}content")
    fr = ET.parse(site / "public/fr/blog/feed.xml").getroot()
    titles = [e.findtext(f"{atom}title") for e in fr.findall(f"{atom}entry")]
    assert "Bonjour tout le monde" in titles
    assert 'type="application/atom+xml" href="/fr/blog/feed.xml"' in _html(site, "/fr/")


def test_starters_have_their_own_404_page(built):
    for name in ("blog", "docs"):
        site, _ = built[name]
        html = (site / "public/404.html").read_text(encoding="utf-8")
        assert "Page not found" in html and 'rel="stylesheet" href="/css/' in html, name
        assert 'rel="canonical"' not in html


def test_docs_pages_sidebar_and_pager(built):
    site, result = built["docs"]
    assert result.warnings == []
    assert result.pages_by_locale == {"en-us": 7, "fr-fr": 7}  # home + 6 pages
    page = _html(site, "/docs/installation/")
    start = page.index('class="sidebar"')
    sidebar = page[start : page.index("</nav>", start)]
    order = ["Introduction", "Installation", "Quick start", "Writing pages", "Deploying"]
    positions = [sidebar.index(f">{title}</a>") for title in order]
    assert positions == sorted(positions)  # sections by order, then pages by order
    assert 'href="/docs/installation/" aria-current="page"' in sidebar
    assert 'href="/docs/introduction/" rel="prev"' in page
    assert 'href="/docs/quick-start/" rel="next"' in page
    assert '<code class="language-sh">' in page  # markdown with fenced code
    last = _html(site, "/docs/configuration/")
    assert 'rel="prev"' in last and 'rel="next"' not in last
    home = _html(site, "/")
    assert 'class="button" href="/docs/introduction/"' in home
    fr = _html(site, "/fr/docs/installation/")
    assert "Premiers pas" in fr and "Suivant" in fr
    assert 'href="/fr/docs/quick-start/" lang="en-us"' in fr  # a fallback page in the sidebar


def test_a_starter_builds_byte_identically_twice(built):
    site, _ = built["blog"]
    first = tree(site / "public")
    build_site(load_config(site, env={}), full=True)
    assert tree(site / "public") == first


# -- the command ------------------------------------------------------------------------------


def test_default_starter_is_blog_and_next_steps_are_printed(tmp_path: Path):
    target = tmp_path / "my site"
    result = run(str(target))
    assert result.exit_code == 0, result.output
    assert (target / "templates/blog_post.html").is_file()
    assert f"sitegen build '{target}'" in result.output
    assert f"sitegen dev '{target}'" in result.output


def test_copies_the_starter_source_only(tmp_path: Path):
    target = tmp_path / "site"
    assert run(str(target), "--starter", "docs").exit_code == 0
    source = STARTERS / "docs"
    expected = {
        str(p.relative_to(source))
        for p in source.rglob("*")
        if p.is_file() and not scaffold.skipped(p.relative_to(source))
    }
    assert {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()} == expected
    assert (target / ".gitignore").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folder left


def test_leaves_out_build_output_state_and_history(tmp_path: Path, monkeypatch):
    starters = tmp_path / "starters"
    src = starters / "mini"
    shutil.copytree(STARTERS / "blog", src)
    for junk in ("public/index.html", ".sitegen/store.sqlite", "templates/__pycache__/x.pyc"):
        (src / junk).parent.mkdir(parents=True, exist_ok=True)
        (src / junk).write_text("junk")
    (src / ".stack.history.sqlite").write_text("junk")
    (src / "static/css/site.css").chmod(0o444)  # installed read-only: the copy must be writable
    monkeypatch.setattr(scaffold, "PACKAGED", starters)
    assert scaffold.starter_names() == ["mini"]
    made = scaffold.create_site(tmp_path / "new", "mini")
    names = {str(p.relative_to(made.target)) for p in made.target.rglob("*")}
    assert "sitegen.toml" in names and "static/css/site.css" in names
    assert not {n for n in names if n.split("/")[0] in ("public", ".sitegen")}
    assert not {n for n in names if "history" in n or "__pycache__" in n}
    site_css = made.target / "static/css/site.css"
    site_css.write_text("/* mine */")
    assert made.files == len([p for p in made.target.rglob("*") if p.is_file()])


def test_an_empty_existing_folder_is_fine(tmp_path: Path):
    target = tmp_path / "empty"
    target.mkdir()
    result = run(str(target), "--starter", "docs")
    assert result.exit_code == 0, result.output
    assert (target / "sitegen.toml").is_file()


def test_the_current_folder_when_empty(tmp_path: Path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = run(".")
    assert result.exit_code == 0, result.output
    assert "sitegen build ." in result.output
    assert (here / "sitegen.toml").is_file() and Path.cwd() == here  # the same folder, filled
    assert [p.name for p in tmp_path.iterdir()] == ["here"]
    assert build_site(load_config(here, env={})).warnings == []


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = run(str(target))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and "not empty" in lines[0]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_refuses_a_file(tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("x")
    result = run(str(target))
    assert result.exit_code == 2 and "is not a folder" in result.output


def test_unknown_starter_lists_the_choices(tmp_path: Path):
    result = run(str(tmp_path / "site"), "--starter", "shop")
    assert result.exit_code == 2
    assert "unknown starter 'shop'" in result.output and "blog, docs" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failure_halfway_leaves_nothing(tmp_path: Path, monkeypatch):
    copied = []
    real_copyfile = shutil.copyfile

    def failing_copy(src, dst):
        if len(copied) == 5:
            raise OSError(28, "No space left on device")
        copied.append(dst)
        return real_copyfile(src, dst)

    monkeypatch.setattr(scaffold.shutil, "copyfile", failing_copy)
    target = tmp_path / "site"
    result = run(str(target))
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "nothing was written" in result.output
    assert list(tmp_path.iterdir()) == []  # neither the site nor the staging folder


# -- in a browser -----------------------------------------------------------------------------


def _check_page(page, url: str) -> None:
    """The page loads with its stylesheet applied and every internal link answers 200."""
    page.goto(url)
    page.wait_for_load_state("networkidle")  # the favicon too: navigating away would abort it
    assert page.locator("h1").first.is_visible()
    # the stylesheet loaded and applies: the skip link is moved off screen
    assert page.evaluate("document.styleSheets.length") >= 1
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") == (
        "absolute"
    )
    hrefs = page.evaluate(
        "[...document.querySelectorAll('a[href], link[href]')]"
        ".map(a => a.href).filter(h => h.startsWith(location.origin))"
    )
    assert hrefs
    for href in set(hrefs):
        assert page.request.get(href).status == 200, href
    assert page.problems == []


def test_in_a_browser_blog(built):
    site, _ = built["blog"]
    with serve_folder(site / "public") as url, browser_page() as page:
        _check_page(page, url + "/")
        _check_page(page, url + "/blog/hello-world/")
        page.get_by_role("navigation", name="Languages").get_by_role(
            "link", name="Français"
        ).click()
        page.wait_for_url(url + "/fr/blog/hello-world/")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == "Bonjour tout le monde"
        _check_page(page, url + "/blog/")
        page.get_by_role("link", name="Older posts").click()
        page.wait_for_url(url + "/blog/page/2/")
        page.wait_for_load_state("networkidle")
        assert "Hello, world" in page.locator("main").inner_text()
        _check_page(page, url + "/404.html")
        assert page.problems == []


def test_in_a_browser_docs(built):
    site, _ = built["docs"]
    with serve_folder(site / "public") as url, browser_page() as page:
        _check_page(page, url + "/")
        page.locator(".button").click()
        page.wait_for_url(url + "/docs/introduction/")
        page.wait_for_load_state("networkidle")
        page.get_by_role("link", name="Next Installation").click()
        page.wait_for_url(url + "/docs/installation/")
        page.wait_for_load_state("networkidle")
        _check_page(page, page.url)
