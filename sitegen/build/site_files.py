"""The files every site has besides its pages: sitemap.xml, robots.txt and 404.html (and,
for a site hosted on Contentstack Launch with edge rules, launch.json).

Each comes from a template (the package's default, or the site's own of the same name), unless
the site's static folder has that file, which then wins. The sitemap lists every entry and
listing page with its ``lastmod`` and its versions in the other locales (``hreflang``); past
50,000 URLs (the protocol's limit per file) it becomes a sitemap index over numbered files.
It is streamed from the store, so a site of millions of pages never has to fit in memory.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from sitegen.config import SiteConfig
from sitegen.content.urls import page_url
from sitegen.store import Page, PageGroup, SitemapUrl, Store, dumps

SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
NOT_FOUND = "404.html"
LAUNCH = "launch.json"  # Contentstack Launch reads it at the top of the deployed project
SITEMAP_LIMIT = 50_000
_SPECIAL = re.compile(r"[&<>\"']")
PREVIEW_ROBOTS = "User-agent: *\nDisallow: /\n"  # a preview must never be indexed
URLSET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/'
    'sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
URLSET_TAIL = "</urlset>\n"
SITEMAP_SETTINGS = "sitemap_settings"  # meta: what the stored <url> elements were made with


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
    launch = config.launch
    if launch and (launch.redirects or launch.rewrites) and LAUNCH not in static:
        names.append(LAUNCH)
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
    count = store.sitemap.count_sitemap_pages()
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
    """robots.txt, 404.html or launch.json."""
    if page.file == ROBOTS and config.preview_mode:
        return PREVIEW_ROBOTS, set()
    if page.file == LAUNCH:
        return launch_json(config), set()
    extra = {"sitemap_url": config.base_url + "/" + SITEMAP if config.sitemap else None}
    return renderer.render_file(page.file, page.locale, page.url, extra, page.file)


def launch_json(config: SiteConfig) -> str:
    """``[launch]`` redirects and rewrites in the shape of Launch's ``launch.json`` (Contentstack
    docs, "Edge URL Redirects": ``source``, ``destination``, ``statusCode``, 308 by default;
    "Edge URL Rewrites": ``source``, ``destination``)."""
    launch = config.launch
    assert launch is not None
    document: dict[str, Any] = {}
    if launch.redirects:
        document["redirects"] = [
            {"source": r.source, "destination": r.destination, "statusCode": r.status or 308}
            for r in launch.redirects
        ]
    if launch.rewrites:
        document["rewrites"] = [
            {"source": r.source, "destination": r.destination} for r in launch.rewrites
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_sitemaps(
    config: SiteConfig, store: Store, renderer: TemplateRenderer, out: Output
) -> dict[str, set[tuple[str, str]]]:
    """Write the sitemap file(s); returns what each read, by file.

    With the package's template, the file is the stored <url> elements joined (only those of
    changed pages are made again: the sitemap is rewritten by every build that changes a
    page); a site's own ``sitemap.xml`` template gets every URL's record instead.
    """
    pages = plan_sitemaps(config, store)
    locale = config.default_locale.code
    deps: dict[str, set[tuple[str, str]]] = {}
    custom = (config.templates / SITEMAP).is_file()
    if custom:
        urls = _urls(config, store.sitemap.sitemap_pages())
        store.sitemap.clear_sitemap_urls()  # not kept up to date meanwhile: made again if it is dropped
    else:
        refresh_sitemap_urls(config, store)
        elements = store.sitemap.sitemap_urls()

    def urlset(limit: int | None, url: str, file: str) -> tuple[str | bytes, str | None]:
        """The next ``limit`` URLs (None: all) as a urlset file, and their newest lastmod."""
        if custom:
            chunk = urls if limit is None else list(itertools.islice(urls, limit))
            text, deps[file] = renderer.render_file(SITEMAP, locale, url, {"urls": chunk}, file)
            lastmods = [] if limit is None else [u["lastmod"] for u in chunk]
        else:
            deps[file] = {("template", SITEMAP)}
            # encoded as it is read: 50,000 <url> elements are tens of MB, which a list of
            # rows, their joined text and its bytes held three times over at once
            buffer = io.BytesIO()
            buffer.write(URLSET_HEAD.encode())
            newest: str | None = None
            for xml, lastmod in itertools.islice(elements, limit):
                buffer.write(xml.encode())
                if lastmod and (newest is None or lastmod > newest):
                    newest = lastmod
            buffer.write(URLSET_TAIL.encode())
            return buffer.getvalue(), newest
        return text, max(filter(None, lastmods), default=None)

    if len(pages) == 1:
        out.write(SITEMAP, urlset(None, "/" + SITEMAP, SITEMAP)[0])
        return deps
    sitemaps = []
    for page in pages[1:]:
        text, lastmod = urlset(SITEMAP_LIMIT, page.url, page.file)
        out.write(page.file, text)
        sitemaps.append({"loc": config.base_url + page.url, "lastmod": lastmod})
    html, deps[SITEMAP] = renderer.render_file(
        "sitemap-index.xml", locale, "/" + SITEMAP, {"sitemaps": sitemaps}, SITEMAP
    )
    out.write(SITEMAP, html)
    return deps


def refresh_sitemap_urls(config: SiteConfig, store: Store) -> None:
    """Make again the stored <url> elements of the pages that came, went or changed.

    Everything is made again (one ordered pass) for a new store, when the settings they show
    changed, or when too many pages changed to list (``store.graph.touched`` is None).
    """
    settings = dumps(
        [
            config.base_url,
            [(loc.code, loc.prefix) for loc in config.locales],
            config.default_locale.code,
        ]
    )
    if store.meta(SITEMAP_SETTINGS) != settings:
        store.sitemap.clear_sitemap_urls()
        store.set_meta(SITEMAP_SETTINGS, settings)
    if store.graph.touched is not None and store.sitemap.has_sitemap_urls():
        for group in sorted(store.sitemap.sitemap_groups_of(store.graph.touched)):
            store.sitemap.put_sitemap_group(
                group, _elements(config, store.sitemap.group_pages(group))
            )
    else:
        store.sitemap.clear_sitemap_urls()
        for group, versions in itertools.groupby(store.sitemap.sitemap_pages(), key=_group):
            store.sitemap.put_sitemap_group(group, _elements(config, list(versions)))
    store.graph.touched = set()


def url_xml(url: dict[str, Any]) -> str:
    """One <url> element as the package's sitemap.xml template renders it, byte for byte.

    A test holds the two equal; Jinja would be most of an incremental build at tens of
    thousands of URLs.
    """
    parts = [f"  <url>\n    <loc>{_escape(url['loc'])}</loc>\n"]
    if url["lastmod"]:
        parts.append(f"    <lastmod>{_escape(url['lastmod'])}</lastmod>\n")
    for alt in url["alternates"]:
        parts.append(
            f'    <xhtml:link rel="alternate" hreflang="{_escape(alt["hreflang"])}" '
            f'href="{_escape(alt["href"])}"/>\n'
        )
    parts.append("  </url>\n")
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
    for _, versions in itertools.groupby(pages, key=_group):
        for _, url in _versions(config, list(versions)):
            yield url


def _elements(config: SiteConfig, versions: list[Page]) -> list[SitemapUrl]:
    """The stored <url> elements of one page's versions."""
    return [
        SitemapUrl(rank, page.locale, page.file, page.url, page.lastmod, url_xml(url))
        for rank, (page, url) in enumerate(_versions(config, versions))
    ]


def _versions(config: SiteConfig, versions: list[Page]) -> list[tuple[Page, dict[str, Any]]]:
    """A page's versions in configured locale order, each with its sitemap record."""
    prefixes = {loc.code: loc.prefix for loc in config.locales}
    order = {loc.code: i for i, loc in enumerate(config.locales)}
    group = sorted(versions, key=lambda p: order.get(p.locale, len(order)))
    hrefs = [(p, config.base_url + page_url(p.url, prefixes[p.locale])) for p in group]
    alternates = []
    if len(group) > 1:
        alternates = [{"hreflang": p.locale, "href": href} for p, href in hrefs]
        if group[0].locale == config.default_locale.code:
            alternates.append({"hreflang": "x-default", "href": hrefs[0][1]})
    return [(p, {"loc": href, "lastmod": p.lastmod, "alternates": alternates}) for p, href in hrefs]


def _group(page: Page) -> PageGroup:
    return PageGroup(page.kind, page.content_type, page.uid, page.source, page.term, page.number)
