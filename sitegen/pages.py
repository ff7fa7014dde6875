"""Pages: which entries become which files, and rendering them with what they read.

Every entry with a url, of a content type that has a template, is a page in each locale. The
pages table is the single record of which file belongs to which entry; rendering stores, per
page, what it read (templates, collections, urls, static files) for incremental builds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sitegen.config import SiteConfig
from sitegen.content.urls import check_url, output_file
from sitegen.errors import BuildError
from sitegen.render import Renderer
from sitegen.store import EntryKey, Store


class Output(Protocol):
    def write(self, relative: str, data: str | bytes) -> None: ...


def rendered_types(
    config: SiteConfig, store: Store, renderer: Renderer, warn: Callable[[str], None]
) -> frozenset[str]:
    """Content types whose entries become pages: they have url values and a template."""
    result = set()
    for content_type in store.content_types_with_urls():
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


def plan_all(config: SiteConfig, store: Store, types: frozenset[str]) -> set[str]:
    """Record every page afresh; returns their files."""
    with store.batch():
        store.db.execute("DELETE FROM pages")
        store.db.execute("DELETE FROM deps")
        rows = list(store.entries_with_urls(sorted(types), _codes(config)))
        return _add_pages(config, store, rows)


def replan(
    config: SiteConfig, store: Store, types: frozenset[str], rows: Iterable[EntryKey]
) -> tuple[set[str], set[str]]:
    """Pages of changed entry rows: (files to render, files no longer produced)."""
    rows = sorted(rows)
    old_files: set[str] = set()
    for key in rows:
        for file in store.pages_of(key):
            old_files.add(file)
            store.remove_page(file)
    new_files = _add_pages(
        config, store, store.entries_with_urls(sorted(types), _codes(config), rows)
    )
    return new_files, old_files - new_files


def _codes(config: SiteConfig) -> list[str]:
    return [loc.code for loc in config.locales]


def _add_pages(
    config: SiteConfig, store: Store, rows: Iterable[tuple[str, str, str, str]]
) -> set[str]:
    prefixes = {loc.code: loc.prefix for loc in config.locales}
    files: set[str] = set()
    for content_type, uid, locale, url in rows:
        check_url(url, f"entry {uid!r} of content type {content_type!r} in {locale}")
        file = output_file(url, prefixes[locale])
        clash = store.add_page(file, (content_type, uid, locale), url)
        if clash is not None:
            other_ct, other_uid, other_locale, other_url = clash
            raise BuildError(
                f"two entries write {config.output.name}/{file}: "
                f"entry {other_uid!r} of {other_ct!r} ({other_locale}, url {other_url!r}) and "
                f"entry {uid!r} of {content_type!r} ({locale}, url {url!r}); give one of them another url"
            )
        files.add(file)
    return files


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
    out: Output,
    files: Iterable[str] | None,
    progress: Any,
) -> int:
    """Render pages (all, or the given files) into ``out``, storing what each read."""
    locales = {loc.code: loc for loc in config.locales}
    count = 0
    for batch in store.pages(None if files is None else list(files)):
        entries = store.entries_by_key([(ct, uid, loc) for _, ct, uid, loc, _ in batch])
        with store.batch():  # one transaction per batch of pages, not one per statement
            for file, content_type, uid, locale, url in batch:
                entry = entries[(content_type, uid, locale)]
                html, deps = renderer.render(
                    config.template_for(content_type), entry, locales[locale], url
                )
                if config.preview_mode and file.endswith(".html"):
                    html = noindex(html)
                out.write(file, html)
                store.set_deps(file, deps)
        count += len(batch)
        progress.advance(len(batch))
    return count
