"""Checking a built site's internal links and asset references (``sitegen build --check-links``).

A broken link is found after the build, in the files a visitor gets, so it catches what the
incremental build cannot see: a removed page breaks links in pages that were not re-rendered.
Every HTML file is therefore checked on every run, streamed through ``html.parser`` one file at
a time (memory stays flat on 100,000 pages); targets are looked up in one set of the output's
paths, built by a single walk. Targets resolve the way a static host serves them: ``/x/`` is
``x/index.html``; ``/x`` is ``x``, ``x/index.html`` or ``x.html``; percent-encoding decoded,
query strings and fragments ignored (``page#frag`` still needs ``page``).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from sitegen.build.pages import describe as describe_page
from sitegen.store import StateError, Store

HTML_SUFFIXES = (".html", ".htm")
CSS_SUFFIXES = (".css",)
URL_ATTRIBUTES = ("href", "src", "poster")  # plus srcset, which holds several
CHUNK = 1 << 16
CACHE_SIZE = 100_000
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')"""
)
STRIP = re.compile(r"[\t\n\r]")  # browsers drop these inside URLs
SPACE = " \t\n\r\f"


@dataclass(frozen=True)
class BrokenLink:
    """One target a page references that no file in the output serves."""

    page: str  # the file containing the link, relative to the output, '/'-separated
    target: str  # the URL as written
    resolved: str  # the site path it resolves to, e.g. "/nowhere/"
    line: int  # where it first occurs in the page


@dataclass
class LinkReport:
    """What a link check found: counts for the summary, broken links in a stable order."""

    files: int = 0
    links: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def pages(self) -> list[str]:
        """The files with at least one broken link, in checking order."""
        return list(dict.fromkeys(b.page for b in self.broken))

    def summary(self) -> str:
        """``N broken links in M pages``, the line a person (or a CI grep) reads."""
        n, m = len(self.broken), len(self.pages)
        return f"{n} broken link{'s' * (n != 1)} in {m} page{'s' * (m != 1)}"


@dataclass
class LinkCheck:
    """``BuildResult.check_links()``: the report and each broken link in words, or why the
    output could not be checked (``error``; the site is built all the same)."""

    report: LinkReport | None = None
    lines: list[str] = field(default_factory=list)
    error: str | None = None


def check_site(output: Path, base_url: str, store_path: Path | None) -> LinkCheck:
    """Check a built site and name what made each page with a broken link (from the state
    database at ``store_path``, when there is one)."""
    try:
        report = check_links(output, base_url)
    except OSError as err:  # the site is built; the check could not read it
        return LinkCheck(error=str(err))
    page_owners = owners(store_path, report.pages) if store_path else {}
    return LinkCheck(report, list(describe(report, page_owners.get)))


def check_links(output: Path, base_url: str = "") -> LinkReport:
    """Check every HTML (and CSS) file in ``output``; report each broken (page, target) once.

    ``base_url`` (the site's ``base_url``) makes absolute links to the site itself count as
    internal; links to other hosts and non-web schemes are never checked.
    """
    existing, to_check = _walk(output)
    site = urlsplit(base_url) if base_url else None
    base_host = site.netloc.lower() if site else None
    base_path = site.path.rstrip("/") if site else ""
    report = LinkReport()
    # (folder, URL) → (site path, exists): navigation repeats the same links on every page
    cache: dict[tuple[str | None, str], tuple[str | None, bool]] = {}
    for page in to_check:
        resolver = _Resolver(page, base_host, base_path)
        seen: set[str] = set()
        for target, line in _references(output / page, page):
            if target.startswith("\0base:"):
                resolver.resolve(target)
                continue
            key = (resolver.folder if _is_relative(target) else "\0", target)
            hit = cache.get(key)
            if hit is None:
                resolved = resolver.resolve(target)
                hit = resolved, resolved is None or resolved == "" or _exists(resolved, existing)
                if len(cache) >= CACHE_SIZE:
                    cache.clear()
                cache[key] = hit
            resolved, ok = hit
            if resolved is None:
                continue
            report.links += 1
            if ok or resolved in seen:  # "" (external after <base href>) counts as ok
                continue
            seen.add(resolved)
            report.broken.append(BrokenLink(page, target, resolved, line))
        report.files += 1
    return report


def owners(store_path: Path, files: Iterable[str]) -> dict[str, str]:
    """What each of ``files`` was rendered from, in words ("entry 'x' of 'post' (en-us…)").

    Read from the state database's pages table; files that are no page (static files) are
    absent, and so is everything when there is no readable state database.
    """
    files = list(files)
    if not files:
        return {}
    try:
        store = Store(store_path, create=False)
    except StateError:
        return {}
    try:
        return {
            page.file: describe_page(page) for batch in store.graph.pages(files) for page in batch
        }
    except sqlite3.Error:
        return {}
    finally:
        store.close()


def describe(report: LinkReport, owner_of: Callable[[str], str | None]) -> Iterator[str]:
    """One line per broken link: the page file, what made it, the target and its resolution."""
    for b in report.broken:
        owner = owner_of(b.page) or "static file"
        shown = b.target if b.target == b.resolved else f"{b.target} (= {b.resolved})"
        yield f"{b.page}:{b.line} [{owner}] links to {shown}, which is not in the output"


# -- walking the output ----------------------------------------------------------------------


def _walk(output: Path) -> tuple[set[str], list[str]]:
    """Every file in ``output`` ('/'-separated, relative) and the HTML/CSS ones, sorted."""
    existing: set[str] = set()
    for folder, dirs, names in os.walk(output):
        dirs.sort()
        rel = os.path.relpath(folder, output).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        existing.update(prefix + name for name in names)
    to_check = sorted(f for f in existing if f.lower().endswith(HTML_SUFFIXES + CSS_SUFFIXES))
    return existing, to_check


def _is_relative(url: str) -> bool:
    """Whether ``url`` depends on the page it is in (not '/…', '//…' or 'scheme:…')."""
    return not (url.startswith(("/", "\\", "#")) or SCHEME.match(url))


def _exists(path: str, existing: set[str]) -> bool:
    """Whether a static host serves a file at site path ``path`` (decoded, leading '/')."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        return rel + "index.html" in existing
    return rel in existing or rel + "/index.html" in existing or rel + ".html" in existing


# -- extracting references -------------------------------------------------------------------


def _references(path: Path, page: str) -> Iterator[tuple[str, int]]:
    """(URL as written, line) for each reference in an HTML or CSS file, in document order."""
    if page.lower().endswith(CSS_SUFFIXES):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CSS_URL.finditer(text):
            url = next(g for g in match.groups() if g is not None)
            if url:
                yield url, text.count("\n", 0, match.start()) + 1
        return
    parser = _LinkParser()
    with path.open(encoding="utf-8", errors="replace") as f:
        while chunk := f.read(CHUNK):
            parser.feed(chunk)
            yield from parser.drain()
    parser.close()
    yield from parser.drain()


class _LinkParser(HTMLParser):
    """Collects href/src/srcset/poster values (and the first ``<base href>``) as it streams."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, int]] = []

    def drain(self) -> list[tuple[str, int]]:
        found, self.found = self.found, []
        return found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if value is None:
                continue
            if name in URL_ATTRIBUTES:
                url = value.strip(SPACE)
                if url:
                    # <base href> is marked so the resolver can change the page's base
                    self.found.append(("\0base:" + url if tag == "base" else url, line))
            elif name == "srcset":
                self.found.extend((url, line) for url in srcset_urls(value))

    handle_startendtag = handle_starttag


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` attribute, split as the HTML standard does.

    A URL may contain commas (only trailing ones end it), and descriptors may hold
    parentheses, so a plain ``split(",")`` gets it wrong.
    """
    urls: list[str] = []
    pos, n = 0, len(value)
    while True:
        while pos < n and (value[pos] in SPACE or value[pos] == ","):
            pos += 1
        if pos >= n:
            return urls
        start = pos
        while pos < n and value[pos] not in SPACE:
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # skip the descriptors up to the next comma outside parentheses
            depth = 0
            while pos < n:
                c = value[pos]
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth = max(0, depth - 1)
                elif c == "," and depth == 0:
                    break
                pos += 1
        if url:
            urls.append(url)


# -- resolving -------------------------------------------------------------------------------


class _Resolver:
    """Turns the URLs written in one page into site paths, or None when not site-internal."""

    def __init__(self, page: str, base_host: str | None, base_path: str):
        self.base_host = base_host
        self.base_path = base_path
        self.folder: str | None = quote(page.rsplit("/", 1)[0] + "/" if "/" in page else "")
        self.had_base = False

    def resolve(self, url: str) -> str | None:
        """The decoded site path ('/…') ``url`` points at; None if not checked; "" if external."""
        if url.startswith("\0base:"):
            return self._set_base(url[len("\0base:") :])
        url = STRIP.sub("", url)
        if url.startswith("#"):
            return None
        raw = url.split("#", 1)[0].split("?", 1)[0]
        path = self._site_raw_path(raw)
        if path is None:
            return None
        if not path.startswith("/"):
            if self.folder is None:
                return ""
            path = "/" + self.folder + path
        return unquote(_remove_dot_segments(path))

    def _set_base(self, href: str) -> str | None:
        if self.had_base:  # only the first <base href> counts
            return None
        self.had_base = True
        raw = STRIP.sub("", href).split("#", 1)[0].split("?", 1)[0]
        path = self._site_raw_path(raw)
        if path is None:  # another host: relative links are not ours to check
            self.folder = None
            return None
        if not path.startswith("/"):
            if self.folder is None:
                return None
            path = "/" + self.folder + path
        path = _remove_dot_segments(path)
        self.folder = path[1:].rsplit("/", 1)[0] + "/" if "/" in path[1:] else ""
        return None

    def _site_raw_path(self, url: str) -> str | None:
        """The still-encoded path of ``url`` within the site: '/…' rooted, relative, or None."""
        scheme = SCHEME.match(url)
        if scheme:
            if scheme.group(1).lower() not in ("http", "https"):
                return None  # mailto:, tel:, javascript:, data:, ftp:, …
            url = url[len(scheme.group(0)) :]
            if not url.startswith("//"):
                return None
        if url.startswith("//"):  # absolute: internal only under the site's base URL
            host, _, rest = url[2:].partition("/")
            if self.base_host is None or host.lower() != self.base_host:
                return None
            path = "/" + rest
            if self.base_path:
                if path != self.base_path and not path.startswith(self.base_path + "/"):
                    return None
                path = path[len(self.base_path) :] or "/"
            return path
        if url.startswith("\\"):
            return None  # browsers read backslashes as '//host'; not a site path
        return url  # root-relative ('/…', from the output's root) or relative to the page


def _remove_dot_segments(path: str) -> str:
    """``/a/b/../c`` → ``/a/c``; never above the root (as browsers do); keeps the last '/'."""
    out: list[str] = []
    parts = path.split("/")[1:]
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        low = seg.lower()
        if low in (".", "%2e"):
            if last:
                out.append("")
        elif low in ("..", ".%2e", "%2e.", "%2e%2e"):
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)
