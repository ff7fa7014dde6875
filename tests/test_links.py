"""Link checking of a built site: resolution like a static host, and `sitegen build --check-links`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build.links import check_links, owners, srcset_urls
from sitegen.cli import cli
from tests.sites import make_site

BASE = "https://example.com"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def broken(root: Path, base_url: str = BASE) -> set[tuple[str, str]]:
    return {(b.page, b.target) for b in check_links(root, base_url).broken}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small output folder: pretty URLs, a plain .html page, an asset, a stylesheet."""
    return write(
        tmp_path / "public",
        {
            "index.html": "<p>home</p>",
            "blog/index.html": "<p>blog</p>",
            "blog/post/index.html": "<p>post</p>",
            "about.html": "<p>about</p>",
            "img/a b.png": "png",
            "img/café.png": "png",
            "feed.xml": "<rss/>",
        },
    )


def check_page(site: Path, page: str, body: str, base_url: str = BASE) -> set[str]:
    write(site, {page: body})
    return {target for p, target in broken(site, base_url) if p == page}


def test_relative_links(site: Path):
    body = (
        '<a href="post/">ok</a><a href="../about.html">ok</a><a href="./post">ok</a>'
        '<a href="../../../feed.xml">ok: never above the root</a>'
        '<a href="missing/">bad</a><a href="../nope.html">bad</a>'
    )
    assert check_page(site, "blog/x.html", body) == {"missing/", "../nope.html"}


def test_root_relative_and_pretty_urls(site: Path):
    body = (
        '<a href="/">ok</a><a href="/blog">ok: blog/index.html</a><a href="/blog/post/">ok</a>'
        '<a href="/about">ok: about.html</a><a href="/about.html">ok</a>'
        '<a href="/blog/post/index.html">ok</a><a href="/feed.xml?v=2">ok: query ignored</a>'
        '<a href="/about/">bad: about/index.html does not exist</a><a href="/blog/nope">bad</a>'
    )
    assert check_page(site, "page.html", body) == {"/about/", "/blog/nope"}


def test_absolute_urls_under_the_base_url(site: Path):
    body = (
        '<a href="https://example.com/blog/">ok</a><a href="http://EXAMPLE.com/about">ok</a>'
        '<a href="//example.com/blog/post/">ok</a><a href="https://example.com">ok</a>'
        '<a href="https://example.com/gone/">bad</a>'
        '<a href="https://other.example/gone/">another host</a>'
    )
    assert check_page(site, "page.html", body) == {"https://example.com/gone/"}


def test_base_url_with_a_path(site: Path):
    body = (
        '<a href="https://example.com/docs/blog/">ok</a>'
        '<a href="https://example.com/docs/gone">bad</a>'
        '<a href="https://example.com/elsewhere/">outside the site</a>'
    )
    assert check_page(site, "page.html", body, "https://example.com/docs") == {
        "https://example.com/docs/gone"
    }


def test_without_a_base_url_absolute_links_are_external(site: Path):
    assert check_page(site, "page.html", '<a href="https://example.com/gone/">x</a>', "") == set()


def test_fragments(site: Path):
    body = (
        '<a href="#top">pure fragment</a><a href="">self</a><a href="?page=2">self</a>'
        '<a href="/blog/#comments">ok</a><a href="/gone/#comments">bad</a>'
    )
    assert check_page(site, "page.html", body) == {"/gone/#comments"}


def test_ignored_schemes(site: Path):
    body = (
        '<a href="mailto:a@example.com">x</a><a href="tel:+123">x</a>'
        '<a href="javascript:void(0)">x</a><img src="data:image/png;base64,AAAA">'
        '<a href="ftp://example.com/x">x</a><a href="MAILTO:x@y">x</a>'
    )
    assert check_page(site, "page.html", body) == set()


def test_percent_encoding(site: Path):
    body = (
        '<img src="/img/a%20b.png"><img src="/img/caf%C3%A9.png"><img src="/img/café.png">'
        '<img src="/img/a+b.png"><img src="/img/a%2520b.png">'
    )
    assert check_page(site, "page.html", body) == {"/img/a+b.png", "/img/a%2520b.png"}


def test_src_srcset_and_poster(site: Path):
    body = (
        '<img src="/img/a%20b.png" srcset="/img/a%20b.png 1x, /img/big.png 2x">'
        '<picture><source srcset="/img/w.png 100w,/img/caf%C3%A9.png 200w"></picture>'
        '<video poster="/img/poster.png"><source src="/v.mp4"></video>'
        '<link rel="stylesheet" href="/style.css"><script src="/app.js"></script>'
    )
    assert check_page(site, "page.html", body) == {
        "/img/big.png",
        "/img/w.png",
        "/img/poster.png",
        "/v.mp4",
        "/style.css",
        "/app.js",
    }


def test_srcset_parsing():
    assert srcset_urls("a.png 1x, b.png 2x") == ["a.png", "b.png"]
    assert srcset_urls(" a.png,b.png , c.png") == ["a.png,b.png", "c.png"]
    assert srcset_urls("a.png, b.png 100w, c.png") == ["a.png", "b.png", "c.png"]
    assert srcset_urls("x.png (foo, bar) 2x, y.png") == ["x.png", "y.png"]
    assert srcset_urls("") == []


def test_entities_whitespace_and_case(site: Path):
    body = (
        '<a href=" /blog/ ">ok</a><a href="/blog/post/?a=1&amp;b=2">ok</a>'
        '<a href="/bl\nog/">ok: newlines are dropped</a><A HREF="/Blog/">bad: case counts</A>'
    )
    assert check_page(site, "page.html", body) == {"/Blog/"}


def test_base_element(site: Path):
    body = '<base href="/blog/"><a href="post/">ok</a><a href="gone">bad</a>'
    assert check_page(site, "page.html", body) == {"gone"}
    other = '<base href="https://cdn.example/"><a href="anything">external</a>'
    assert check_page(site, "other.html", other) == set()


def test_css_urls(site: Path):
    css = (
        "body{background:url(../img/a%20b.png)} .x{background:url('/img/gone.png')}"
        '@import "print.css"; .y{mask:url(data:image/svg+xml;utf8,<svg/>)} .z{filter:url(#f)}'
    )
    write(site, {"css/site.css": css})
    assert broken(site) == {("css/site.css", "/img/gone.png"), ("css/site.css", "print.css")}


def test_each_broken_target_once_per_page_with_its_line(site: Path):
    write(
        site,
        {
            "a.html": '<a href="/gone/">1</a>\n<a href="/gone/">2</a>\n<a href="https://example.com/gone/">3</a>',
            "b.html": '<p>\n\n<img src="/gone/">',
        },
    )
    report = check_links(site, BASE)
    assert [(b.page, b.target, b.resolved, b.line) for b in report.broken] == [
        ("a.html", "/gone/", "/gone/", 1),
        ("b.html", "/gone/", "/gone/", 3),
    ]
    assert report.summary() == "2 broken links in 2 pages"
    assert report.pages == ["a.html", "b.html"]


def test_large_file_is_streamed(site: Path):
    links = "".join(f'<a href="/blog/">{i}</a>\n' for i in range(20000))
    write(site, {"big.html": links + '<a href="/gone">x</a>'})
    report = check_links(site, BASE)
    assert [(b.target, b.line) for b in report.broken] == [("/gone", 20001)]
    assert report.links == 20001


def test_owners_without_a_state_database(tmp_path: Path):
    assert owners(tmp_path / "store.sqlite", ["index.html"]) == {}


# -- the build command -----------------------------------------------------------------------


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_clean_site_has_no_warnings(tmp_path: Path):
    site = make_site(tmp_path / "site")
    result = run("build", str(site), "--check-links")
    assert result.exit_code == 0, result.output
    assert "broken" not in result.output.replace("none broken", "")
    assert "Links: " in result.output and "none broken" in result.output


def test_broken_link_warns_and_exits_0(tmp_path: Path):
    site = make_site(tmp_path / "site")
    base = site / "templates/base.html"
    base.write_text(base.read_text().replace("<main>", '<main><a href="/nowhere/">x</a>'))
    result = run("build", str(site), "--check-links")
    assert result.exit_code == 0, result.output
    assert (
        "warning: broken link: index.html:1 [entry 'home' of 'page' (en-us, url '/')] links to /nowhere/"
        in (result.output)
    )
    assert "8 broken links in 8 pages" in result.output
    assert (site / "public/index.html").is_file()


def test_strict_fails_after_building_and_names_the_entry(tmp_path: Path):
    site = make_site(tmp_path / "site")
    post = site / "templates/post.html"
    post.write_text(post.read_text().replace("<h1>", '<a href="../../nowhere/">x</a><h1>'))
    result = run("build", str(site), "--strict")  # --strict implies --check-links
    assert result.exit_code == 1
    assert (
        "error: broken link: fr/posts/post-1/index.html:1 [entry 'post1' of 'post' (fr-fr, url '/posts/post-1/')] links to "
        "../../nowhere/ (= /fr/nowhere/)"
    ) in result.output
    assert "6 broken links in 6 pages" in result.output
    assert "The site was built in" in result.output
    assert (site / "public/posts/post-1/index.html").is_file()


def test_incremental_build_checks_pages_it_did_not_render(tmp_path: Path):
    site = make_site(tmp_path / "site")
    post = site / "templates/post.html"
    post.write_text(post.read_text().replace("<h1>", '<a href="/posts/post-2/">latest</a><h1>'))
    assert run("build", str(site), "--strict").exit_code == 0
    (site / "stack/entries/post/post2.en-us.json").unlink()  # post0's page is not re-rendered
    result = run("build", str(site), "--strict")
    assert result.exit_code == 1, result.output
    assert "Incremental build" in result.output
    report = json.loads((site / ".sitegen/last-build.json").read_text())
    assert "posts/post-0/index.html" not in report["changed"] + report["added"]
    assert (
        "posts/post-0/index.html:1 [entry 'post0' of 'post' (en-us, url '/posts/post-0/')] links to /posts/post-2/"
    ) in result.output


def test_static_files_are_checked_too(tmp_path: Path):
    site = make_site(tmp_path / "site")
    write(
        site / "static", {"404.html": '<a href="/gone/">home</a>', "css/s.css": "a{b:url(x.png)}"}
    )
    result = run("build", str(site), "--check-links")
    assert result.exit_code == 0, result.output
    assert "404.html:1 [static file] links to /gone/" in result.output
    assert "css/s.css:1 [static file] links to x.png (= /css/x.png)" in result.output
