"""Pages: which files the build writes, from what, and rendering them with what they read.

Every entry with a url, of a content type that has a template, is a page in each locale; so is
every page of a listing or feed (see listings.py), and the site files (sitemap, robots.txt,
404.html). The pages table is the single record of which file comes from what; rendering
stores, per page, what it read (templates, collections, urls, static files, term lists) so an
incremental build re-renders exactly the pages whose inputs changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from sitegen.build.listings import Listings, rebuild_members, update_members
from sitegen.build.render import Renderer
from sitegen.build.site_files import (
    SITEMAP,
    plan_fixed,
    plan_sitemaps,
    render_fixed,
    render_sitemaps,
)
from sitegen.build.taxonomies import load as load_taxonomies
from sitegen.config import SiteConfig
from sitegen.content.urls import check_url, output_file
from sitegen.errors import BuildError
from sitegen.store import EntryKey, Page, Store
from sitegen.store.pages import PAGE_KINDS

Result = tuple[str, str, list[tuple[str, str]]]  # a rendered page: (file, text, dependencies)


class Output(Protocol):
    def write(self, relative: str, data: str | bytes) -> None: ...


class Pool(Protocol):
    """Renders pages elsewhere (:class:`sitegen.build.parallel.RenderPool`): batches of
    results, in the order the files were given."""

    def render(self, files: Iterable[str]) -> Iterator[list[Result]]: ...


def rendered_types(
    config: SiteConfig, store: Store, renderer: Renderer, warn: Callable[[str], None]
) -> frozenset[str]:
    """Content types whose entries become pages: they have url values and a template."""
    result = set()
    for content_type in store.content.content_types_with_urls():
        template = config.template_for(content_type)
        if renderer.has_template(template):
            result.add(content_type)
        elif content_type in config.content_types and config.content_types[content_type].template:
            raise BuildError(
                f"{config.config_file}: content_types.{content_type}.template is {template!r}, "
                f"which is not in {config.templates}"
            )
        else:
            warn(
                f"content type {content_type!r} has entries with a url but no template "
                f"{config.templates.name}/{template}: its pages are skipped "
                f"(add the template, or set [content_types.{content_type}] template)"
            )
    return frozenset(result)


def check_listings(config: SiteConfig, store: Store, renderer: Renderer) -> None:
    """Every listing and feed names a template, a content type and a taxonomy that exist."""
    content_types = store.content.content_types()
    known_taxonomies = load_taxonomies(store)
    for item in config.listings:
        terms = item.terms or ""
        if terms.startswith("taxonomies.") and terms.split(".", 1)[1] not in known_taxonomies:
            known = ", ".join(sorted(known_taxonomies)) or "it has none"
            raise BuildError(
                f"{config.config_file}: {item.id}.terms is {terms!r}, but the stack has no "
                f"taxonomy {terms.split('.', 1)[1]!r} ({known}); fix the uid or publish the "
                "taxonomy"
            )
    for item in (*config.listings, *config.feeds):
        if not renderer.has_template(item.template):
            raise BuildError(
                f"{config.config_file}: {item.id}.template is {item.template!r}, which is not "
                f"in {config.templates}; create it or name another template"
            )
        for content_type in item.selection.types if item.selection else ():
            if content_type not in content_types:
                known = ", ".join(sorted(content_types)) or "none"
                raise BuildError(
                    f"{config.config_file}: {item.id}.content_type names {content_type!r}, "
                    f"which the stack does not have (it has: {known})"
                )


def plan_all(
    config: SiteConfig,
    store: Store,
    types: frozenset[str],
    listings: Listings,
    site_file_names: list[str],
    *,
    members_ready: bool = False,
) -> set[str]:
    """Record every page afresh; returns their files. ``members_ready``: the listings'
    members were made while the content was pulled (a full build)."""
    with store.batch():
        store.graph.clear_pages()
        # read from the cursor as pages go into their own table: at 50,000 entries × 2, a
        # list of every row was a 60 MB spike at the end of the pull
        files = _add_entry_pages(
            config, store, store.content.entries_with_urls(sorted(types), _codes(config))
        )
        if not members_ready:
            rebuild_members(config, store)
        listings.forget()
        for page in _static_listings(config):
            files.add(_add(config, store, page))
        for source in listings.sources:
            for locale in _codes(config):
                files.update(_add(config, store, page) for page in listings.plan(source, locale))
                listings.forget()  # one listing's members in memory at a time
        for page in plan_fixed(config, site_file_names):
            files.add(_add(config, store, page))
        if SITEMAP in site_file_names:
            files.update(_add(config, store, page) for page in plan_sitemaps(config, store))
        listings.forget()  # members are read again, a listing at a time, when rendered
        return files


FEW_MEMBERS = 16  # changed members of a listing whose pages are found one by one


def replan(
    config: SiteConfig,
    store: Store,
    types: frozenset[str],
    rows: Iterable[EntryKey],
    listings: Listings,
    site_file_names: list[str],
    taxonomies: Iterable[str] = (),
) -> tuple[set[str], set[str]]:
    """Pages touched by changed entry rows and taxonomies: (files to render, files no longer
    produced).

    The changed entries' own pages, the listing and feed pages whose content moved (by
    fingerprint), the pages that listed the terms of a changed listing, and the sitemap when
    any page came, went or changed.
    """
    rows = sorted(rows)
    old_pages: dict[str, Page] = {}
    for key in rows:
        old_pages.update((page.file, page) for page in store.graph.entry_pages(key))
    new_files = _add_entry_pages(
        config,
        store,
        store.content.entries_with_urls(sorted(types), _codes(config), rows),
        old_pages,
    )
    dirty, gone = set(new_files), old_pages.keys() - new_files

    members = update_members(config, store, rows)
    by_terms = listings.over_taxonomies(taxonomies)
    changed = set(members) | by_terms
    listings.forget()
    for source, locale in sorted(changed):
        old = store.graph.pages_of_source(source, locale)
        shown = members.get((source, locale))
        new = None
        if shown is not None and len(shown) <= FEW_MEMBERS and (source, locale) not in by_terms:
            # a few members kept their places: only the pages showing them can change (each
            # is found by its rank; for many, reading the listing once is cheaper)
            new = listings.plan_showing(source, locale, shown)
        if new is None:
            new = listings.plan(source, locale)
            dropped = old.keys() - {page.file for page in new}
            for file in dropped:
                store.graph.remove_page(file)
            gone |= dropped
        for page in new:
            if page.file not in old:
                _add(config, store, page)
                dirty.add(page.file)
            elif old[page.file] != page.fingerprint:
                store.graph.update_page(page)  # what it read is replaced when it is rendered
                dirty.add(page.file)
    # the members just planned stay cached: the listing pages to render read them again
    dirty |= store.graph.dependents("listing", [f"{source}/{locale}" for source, locale in changed])

    if SITEMAP in site_file_names and (dirty or gone):
        old_maps = set(store.graph.pages_of_source("sitemap"))
        for file in old_maps:
            store.graph.remove_page(file)
        maps = {_add(config, store, page) for page in plan_sitemaps(config, store)}
        dirty |= maps
        gone |= old_maps - maps
    return dirty - gone, gone


def _codes(config: SiteConfig) -> list[str]:
    return [loc.code for loc in config.locales]


def _static_listings(config: SiteConfig) -> list[Page]:
    """``[[pages]]`` without content_type: one plain page per locale."""
    pages = []
    for item in config.listings:
        if item.selection is not None:
            continue
        for loc in config.locales:
            url = check_url(item.path, f"{item.id} (path {item.path!r})")
            file = output_file(url, loc.prefix)
            pages.append(Page(file, "listing", "", "", loc.code, url, source=item.id, number=1))
    return pages


def _add_entry_pages(
    config: SiteConfig,
    store: Store,
    rows: Iterable[tuple[str, str, str, str, str]],
    recorded: dict[str, Page] | None = None,
) -> set[str]:
    """Record the pages of entry rows; ``recorded``: these entries' pages as recorded before,
    left as they are where nothing about them changed (their rows, and what they read, are
    not deleted and written again) and removed before the others are added."""
    prefixes = {loc.code: loc.prefix for loc in config.locales}
    pages = []
    for content_type, uid, locale, url, updated_at in rows:
        check_url(url, f"entry {uid!r} of content type {content_type!r} in {locale}")
        file = output_file(url, prefixes[locale])
        pages.append(Page(file, "entry", content_type, uid, locale, url, lastmod=updated_at))
    files = {page.file for page in pages}
    if recorded is not None:
        kept = {page for page in pages if recorded.get(page.file) == page}
        for file, page in recorded.items():
            if page not in kept:
                store.graph.remove_page(file)
        pages = [page for page in pages if page not in kept]
    for page in pages:
        _add(config, store, page)
    return files


def _add(config: SiteConfig, store: Store, page: Page) -> str:
    clash = store.graph.add_page(page)
    if clash is not None and clash.file != page.file:
        raise BuildError(
            f"two pages write files that differ only by case, {config.output.name}/{clash.file} "
            f"and {config.output.name}/{page.file} (one file on macOS and Windows): "
            f"{describe(clash)} and {describe(page)}; give one of them another url or path"
        )
    if clash is not None:
        raise BuildError(
            f"two pages write {config.output.name}/{page.file}: "
            f"{describe(clash)} and {describe(page)}; give one of them another url or path"
        )
    return page.file


def describe(page: Page) -> str:
    """What made a page, in words: for messages."""
    if page.kind == "entry":
        return f"entry {page.uid!r} of {page.content_type!r} ({page.locale}, url {page.url!r})"
    if page.kind == "file":
        return f"the generated {page.file}"
    term = f", term {page.term!r}" if page.term else ""
    return f"{page.source} ({page.locale}, page {page.number}{term}, url {page.url!r})"


NOINDEX = '<meta name="robots" content="noindex">'
HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
HTML_TAG = re.compile(r"<html(?:\s[^>]*)?>", re.IGNORECASE)


def noindex(html: str) -> str:
    """Mark a preview page as not to be indexed: right after <head>, else after <html>."""
    for pattern in (HEAD, HTML_TAG):
        match = pattern.search(html)
        if match:
            return html[: match.end()] + NOINDEX + html[match.end() :]
    return NOINDEX + html


def render_pages(
    config: SiteConfig,
    store: Store,
    renderer: Renderer,
    listings: Listings,
    out: Output,
    files: Iterable[str] | None,
    progress: Any,
    pool: Pool | None = None,
) -> int:
    """Render pages (all, or the given files) into ``out``, storing what each read; returns
    how many files that was. ``progress`` advances by HTML pages only (see
    :meth:`~sitegen.store.pages.PageGraph.page_count`), as the build summary counts them.

    With a ``pool``, other processes (or machines) render and this one writes the files and
    the dependencies, in the same order, so the result is the same.
    """
    count = 0
    sitemap = False
    fresh = files is None  # every page: a full build, where no page has dependencies yet
    if files is not None:
        files = set(files)
        if len(files) >= store.graph.page_total() == store.graph.page_total(files):
            # every page again (a template all pages extend changed): what each read is
            # recorded afresh, in bulk, as a full build does, not replaced page by page
            store.graph.clear_deps()
            files, fresh = None, True

    def record(rendered: list[tuple[str, Iterable[tuple[str, str]]]]) -> None:
        if fresh:
            store.graph.load_deps(
                (kind, key, file) for file, deps in rendered for kind, key in deps
            )
        else:
            store.graph.replace_deps(rendered)

    if pool is None:
        for batch in store.graph.pages(None if files is None else list(files)):
            keys = [(p.content_type, p.uid, p.locale) for p in batch if p.kind == "entry"]
            entries = store.content.entries_by_key(keys)
            done = []
            with store.batch():  # one transaction per batch of pages, not one per statement
                for page in batch:
                    if page.source == "sitemap":
                        sitemap = True
                        continue
                    html, deps = render_page(config, renderer, listings, page, entries)
                    out.write(page.file, html)
                    done.append((page.file, deps))
                record(done)
            count += len(batch)
            progress.advance(sum(page.kind in PAGE_KINDS for page in batch))
    else:
        seen = {"pages": 0, "sitemap": False}
        others: set[str] = set()  # feeds and site files: a few per locale

        def to_render() -> Iterator[str]:
            # streamed to the pool as it is read: a million file names never sit in a list
            for batch in store.graph.pages(None if files is None else list(files)):
                for page in batch:
                    if page.source == "sitemap":
                        seen["sitemap"] = True
                    else:
                        if page.kind not in PAGE_KINDS:
                            others.add(page.file)
                        yield page.file
                seen["pages"] += len(batch)

        for results in pool.render(to_render()):
            with store.batch():
                for file, html, _ in results:
                    out.write(file, html)
                record([(file, deps) for file, _, deps in results])
            progress.advance(sum(file not in others for file, _, _ in results))
        count, sitemap = seen["pages"], bool(seen["sitemap"])
    if fresh:
        store.graph.end_deps_load()
    if sitemap:
        with store.batch():
            for file, deps in render_sitemaps(config, store, renderer, out).items():
                store.graph.set_deps(file, deps)
    return count


def render_page(
    config: SiteConfig,
    renderer: Renderer,
    listings: Listings,
    page: Page,
    entries: dict[EntryKey, dict[str, Any]],
) -> tuple[str, set[tuple[str, str]]]:
    """One page's text and what it read (``entries`` holds the entries of entry pages)."""
    if page.kind == "entry":
        html, deps = renderer.render(
            config.template_for(page.content_type),
            entries[(page.content_type, page.uid, page.locale)],
            renderer.locales[page.locale],
            page.url,
        )
    elif page.kind == "file":
        html, deps = render_fixed(config, renderer, page)
    else:
        html, deps = _render_listing(config, renderer, listings, page)
    if config.preview_mode and page.file.endswith(".html"):
        html = noindex(html)
    return html, deps


def _render_listing(
    config: SiteConfig, renderer: Renderer, listings: Listings, page: Page
) -> tuple[str, set[tuple[str, str]]]:
    if page.source in listings.sources:
        source = listings.sources[page.source]
        extra = listings.context(page)
        template, title = source.template, source.title
    else:  # a [[pages]] entry without content_type
        item = next(i for i in config.listings if i.id == page.source)
        extra, template, title = {}, item.template, item.title
    extra["page"] = {"title": title, "number": page.number, "kind": page.kind}
    return renderer.render_file(template, page.locale, page.url, extra, f"{page.source}")
