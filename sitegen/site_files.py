"""The files every site has besides its pages: sitemap.xml, robots.txt and 404.html.

Each comes from a template (the package's default, or the site's own of the same name), unless
the site's static folder has that file, which then wins. The sitemap lists every entry and
listing page with its ``lastmod`` and its versions in the other locales (``hreflang``); past
50,000 URLs (the protocol's limit per file) it becomes a sitemap index over numbered files.
It is streamed from the store, so a site of millions of pages never has to fit in memory.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from sitegen.config import SiteConfig
from sitegen.content.urls import page_url
from sitegen.store import Page, Store

SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
NOT_FOUND = "404.html"
SITEMAP_LIMIT = 50_000
_SPECIAL = re.compile(r"[&<>\"']")
PREVIEW_ROBOTS = "User-agent: *\nDisallow: /\n"  # a preview must never be indexed


class Output(Protocol):
    def write(self, relative: str, data: str | bytes) -> None: ...


class TemplateRenderer(Protocol):
    def render_file(
        self, template: str, locale: str, url: str, extra: dict[str, Any], where: str
    ) -> tuple[str, set[tuple[str, str]]]: ...


def site_files(config: SiteConfig, copied: Iterable[str]) -> list[str]:
    """Which of robots.txt, 404.html and sitemap.xml the build generates."""
    static = set(copied)
    names = []
    if config.preview_mode or ROBOTS not in static:  # a preview always refuses robots
        names.append(ROBOTS)
    if NOT_FOUND not in static:
        names.append(NOT_FOUND)
    if config.sitemap and SITEMAP not in static:
        names.append(SITEMAP)
    return names


def plan_fixed(config: SiteConfig, names: list[str]) -> list[Page]:
    """robots.txt and 404.html: one file each, at the site root."""
    locale = config.default_locale.code
    return [
        Page(name, "file", "", "", locale, "/" + name, source=name)
        for name in names
        if name != SITEMAP
    ]


def plan_sitemaps(config: SiteConfig, store: Store) -> list[Page]:
    """sitemap.xml, and sitemap-N.xml files when there are more URLs than one file may hold."""
    count = store.count_sitemap_pages()
    locale = config.default_locale.code
    pages = [Page(SITEMAP, "file", "", "", locale, "/" + SITEMAP, source="sitemap")]
    if count > SITEMAP_LIMIT:
        for n in range(1, -(-count // SITEMAP_LIMIT) + 1):
            name = f"sitemap-{n}.xml"
            pages.append(Page(name, "file", "", "", locale, "/" + name, source="sitemap", number=n))
    return pages


def render_fixed(
    config: SiteConfig, renderer: TemplateRenderer, page: Page
) -> tuple[str, set[tuple[str, str]]]:
    """robots.txt or 404.html."""
    if page.file == ROBOTS and config.preview_mode:
        return PREVIEW_ROBOTS, set()
    extra = {"sitemap_url": config.base_url + "/" + SITEMAP if config.sitemap else None}
    return renderer.render_file(page.file, page.locale, page.url, extra, page.file)


def render_sitemaps(
    config: SiteConfig, store: Store, renderer: TemplateRenderer, out: Output
) -> dict[str, set[tuple[str, str]]]:
    """Write the sitemap file(s); returns what each read, by file."""
    pages = plan_sitemaps(config, store)
    urls = _urls(config, store.sitemap_pages())
    locale = config.default_locale.code
    deps: dict[str, set[tuple[str, str]]] = {}
    fast = not (config.templates / SITEMAP).is_file()  # the package's template: no Jinja

    def urlset(chunk: Iterable[dict[str, Any]], url: str, file: str) -> str:
        if fast:
            deps[file] = {("template", SITEMAP)}
            return write_urlset(chunk)
        text, deps[file] = renderer.render_file(SITEMAP, locale, url, {"urls": chunk}, file)
        return text

    if len(pages) == 1:
        out.write(SITEMAP, urlset(urls, "/" + SITEMAP, SITEMAP))
        return deps
    sitemaps = []
    for page in pages[1:]:
        chunk = list(itertools.islice(urls, SITEMAP_LIMIT))
        html = urlset(chunk, page.url, page.file)
        out.write(page.file, html)
        lastmod = max((u["lastmod"] for u in chunk if u["lastmod"]), default=None)
        sitemaps.append({"loc": config.base_url + page.url, "lastmod": lastmod})
    html, deps[SITEMAP] = renderer.render_file(
        "sitemap-index.xml", locale, "/" + SITEMAP, {"sitemaps": sitemaps}, SITEMAP
    )
    out.write(SITEMAP, html)
    return deps


def write_urlset(urls: Iterable[dict[str, Any]]) -> str:
    """What the package's sitemap.xml template renders, byte for byte, without Jinja.

    The sitemap is rewritten by every build that changes a page, and at tens of thousands of
    URLs the template loop is most of an incremental build; a test holds the two equal.
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/'
        'sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    ]
    add = parts.append
    for url in urls:
        add(f"  <url>\n    <loc>{_escape(url['loc'])}</loc>\n")
        if url["lastmod"]:
            add(f"    <lastmod>{_escape(url['lastmod'])}</lastmod>\n")
        for alt in url["alternates"]:
            add(
                f'    <xhtml:link rel="alternate" hreflang="{_escape(alt["hreflang"])}" '
                f'href="{_escape(alt["href"])}"/>\n'
            )
        add("  </url>\n")
    add("</urlset>\n")
    return "".join(parts)


def _escape(text: str) -> str:
    """Jinja's autoescape (markupsafe), as plain string replacements (no Markup objects)."""
    if not _SPECIAL.search(text):
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def _urls(config: SiteConfig, pages: Iterator[Page]) -> Iterator[dict[str, Any]]:
    """One record per page, with the page's versions in every locale (including itself)."""
    prefixes = {loc.code: loc.prefix for loc in config.locales}
    order = {loc.code: i for i, loc in enumerate(config.locales)}
    default = config.default_locale.code

    def same_page(page: Page) -> tuple[str, ...]:
        return (page.kind, page.content_type, page.uid, page.source, page.term, str(page.number))

    for _, versions in itertools.groupby(pages, key=same_page):
        group = sorted(versions, key=lambda p: order.get(p.locale, len(order)))
        hrefs = [(p, config.base_url + page_url(p.url, prefixes[p.locale])) for p in group]
        alternates = []
        if len(group) > 1:
            alternates = [{"hreflang": p.locale, "href": href} for p, href in hrefs]
            if group[0].locale == default:
                alternates.append({"hreflang": "x-default", "href": hrefs[0][1]})
        for page, href in hrefs:
            yield {"loc": href, "lastmod": page.lastmod, "alternates": alternates}
