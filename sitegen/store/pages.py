"""The page graph: every file the build writes, what it is made from, and what it read.

The pages table is the single record of which file comes from what; the deps table holds, per
page, what rendering it read (templates, collections, urls, static files), so an incremental
build re-renders exactly the pages whose inputs changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from sitegen.content.urls import case_key
from sitegen.store.content import EntryKey
from sitegen.store.sql import BATCH, Part

TOUCHED_LIMIT = 2000  # pages changed beyond this: the sitemap is made again in one pass
# the kinds of row that are HTML pages of the site, the "pages" of every count a person reads
# (progress, summary): feeds and site files (sitemaps, robots.txt, 404.html) are other files
PAGE_KINDS = ("entry", "listing")


class Page(NamedTuple):
    """One file the build writes, and what it is made from (a row of the pages table)."""

    file: str
    kind: str  # "entry", "listing", "feed" or "file"
    content_type: str
    uid: str
    locale: str
    url: str
    source: str = ""
    term: str = ""
    number: int = 0
    lastmod: str | None = None
    fingerprint: str = ""


PAGE_COLUMNS = ", ".join(Page._fields)
PAGE_SLOTS = ", ".join("?" * len(Page._fields))


class PageGraph(Part):
    """Pages and their dependencies."""

    def __init__(self, db: sqlite3.Connection):
        super().__init__(db)
        # files whose pages rows came or went since the last sitemap refresh; None: too many
        self.touched: set[str] | None = set()
        # case_key(file) -> file of every recorded page, loaded on first use (one query)
        self._cases: dict[str, str] | None = None

    def add_page(self, page: Page) -> Page | None:
        """Record a page; returns the page already writing that file, or a file that differs
        only by case (one file on macOS and Windows), if any (a clash)."""
        if self._cases is None:
            self._cases = {case_key(f): f for (f,) in self.db.execute("SELECT file FROM pages")}
        folded = case_key(page.file)
        known = self._cases.get(folded)
        if known is not None and known != page.file:
            row = self.db.execute(
                f"SELECT {PAGE_COLUMNS} FROM pages WHERE file = ?", (known,)
            ).fetchone()
            if row is not None:
                return Page(*row)
        try:
            self.db.execute(f"INSERT INTO pages ({PAGE_COLUMNS}) VALUES ({PAGE_SLOTS})", page)
        except sqlite3.IntegrityError:
            row = self.db.execute(
                f"SELECT {PAGE_COLUMNS} FROM pages WHERE file = ?", (page.file,)
            ).fetchone()
            return Page(*row)
        self._cases[folded] = page.file
        self._touch(page.file)
        return None

    def update_page(self, page: Page) -> None:
        """Record a new version of a page that writes the same file (its dependencies stay
        until it is rendered again)."""
        self.db.execute(
            f"UPDATE pages SET ({PAGE_COLUMNS}) = ({PAGE_SLOTS}) WHERE file = ?", (*page, page.file)
        )
        self._touch(page.file)

    def remove_page(self, file: str) -> None:
        if self._cases is not None and self._cases.get(case_key(file)) == file:
            del self._cases[case_key(file)]
        self.db.execute("DELETE FROM pages WHERE file = ?", (file,))
        self.db.execute("DELETE FROM deps WHERE file = ?", (file,))
        self._touch(file)

    def clear_pages(self) -> None:
        """Forget every page and what it read (all pages are about to be planned again)."""
        self.db.execute("DELETE FROM pages")
        self._cases = {}
        self.db.execute("DELETE FROM deps")
        self.touched = None

    def _touch(self, file: str) -> None:
        if self.touched is not None:
            self.touched.add(file)
            if len(self.touched) > TOUCHED_LIMIT:
                self.touched = None  # as good as all of them: not worth listing

    def entry_pages(self, key: EntryKey) -> list[Page]:
        """The pages an entry (content type, uid, locale) writes, as recorded."""
        rows = self.db.execute(
            f"SELECT {PAGE_COLUMNS} FROM pages WHERE kind = 'entry' AND content_type = ?"
            " AND uid = ? AND locale = ? ORDER BY file",
            key,
        )
        return [Page(*row) for row in rows]

    def pages_of_source(self, source: str, locale: str | None = None) -> dict[str, str]:
        """file → fingerprint of the pages a listing, feed or site file wrote (in a locale)."""
        if locale is None:
            rows = self.db.execute(
                "SELECT file, fingerprint FROM pages WHERE source = ?", (source,)
            )
        else:
            rows = self.db.execute(
                "SELECT file, fingerprint FROM pages WHERE source = ? AND locale = ?",
                (source, locale),
            )
        return dict(rows.fetchall())

    def all_page_files(self) -> set[str]:
        return {f for (f,) in self.db.execute("SELECT file FROM pages")}

    def page_total(self, files: Iterable[str] | None = None) -> int:
        """Files that page rows write (HTML pages, feeds and site files), all or among
        ``files``."""
        return self._count("1", files)

    def page_count_by_locale(self) -> dict[str, int]:
        """HTML pages (entries and listings) per locale; feeds and site files are not counted."""
        return dict(
            self.db.execute(
                "SELECT locale, COUNT(*) FROM pages WHERE kind IN ('entry', 'listing')"
                " GROUP BY locale"
            ).fetchall()
        )

    def page_count(self, files: Iterable[str] | None = None) -> int:
        """HTML pages (entries and listings) among ``files`` (all pages when None): what
        rendering them counts as pages, as :meth:`page_count_by_locale` does."""
        return self._count("kind IN ('entry', 'listing')", files)

    def _count(self, condition: str, files: Iterable[str] | None) -> int:
        """Page rows meeting ``condition``, all or among ``files`` (in batches of them)."""
        if files is None:
            return self.db.execute(f"SELECT COUNT(*) FROM pages WHERE {condition}").fetchone()[0]
        ordered = sorted(files)
        total = 0
        for i in range(0, len(ordered), BATCH):
            chunk = ordered[i : i + BATCH]
            total += self.db.execute(
                f"SELECT COUNT(*) FROM pages WHERE {condition}"
                f" AND file IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchone()[0]
        return total

    def pages(self, files: Iterable[str] | None = None) -> Iterator[list[Page]]:
        """Batches of pages, all of them (in render order) or the given files."""
        if files is None:
            cursor = self.db.execute(
                f"SELECT {PAGE_COLUMNS} FROM pages ORDER BY kind, content_type, source, locale, file"
            )
            while rows := cursor.fetchmany(BATCH):
                yield [Page(*row) for row in rows]
            return
        ordered = sorted(files)
        for i in range(0, len(ordered), BATCH):
            chunk = ordered[i : i + BATCH]
            yield [
                Page(*row)
                for row in self.db.execute(
                    f"SELECT {PAGE_COLUMNS} FROM pages"
                    f" WHERE file IN ({','.join('?' * len(chunk))}) ORDER BY file",
                    chunk,
                )
            ]

    def set_deps(self, file: str, deps: Iterable[tuple[str, str]]) -> None:
        self.db.execute("DELETE FROM deps WHERE file = ?", (file,))
        self.db.executemany(
            "INSERT OR IGNORE INTO deps (kind, key, file) VALUES (?, ?, ?)",
            ((kind, key, file) for kind, key in deps),
        )

    def replace_deps(self, rendered: list[tuple[str, Iterable[tuple[str, str]]]]) -> None:
        """:meth:`set_deps` for a batch of pages, writing only the rows that differ.

        A page rendered again mostly reads what it read before (an author renamed: the same
        posts, the same listing members), and reading its rows costs far less than deleting
        and inserting them into two indexes (and writing those pages at the commit).
        """
        new = {(kind, key, file) for file, deps in rendered for kind, key in deps}
        files = [file for file, _ in rendered]
        old: set[tuple[str, str, str]] = set()
        for i in range(0, len(files), BATCH):
            chunk = files[i : i + BATCH]
            old.update(
                self.db.execute(
                    "SELECT kind, key, file FROM deps INDEXED BY deps_by_file"
                    f" WHERE file IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        if old - new:
            self.db.executemany(
                "DELETE FROM deps WHERE kind = ? AND key = ? AND file = ?", sorted(old - new)
            )
        if new - old:
            self.db.executemany(
                "INSERT OR IGNORE INTO deps (kind, key, file) VALUES (?, ?, ?)", sorted(new - old)
            )

    def clear_deps(self) -> None:
        """Forget what every page read (all pages are about to be rendered again)."""
        self.db.execute("DELETE FROM deps")

    def load_deps(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Append (kind, key, file) rows of pages rendered for the first time in this store.

        A full build records hundreds of thousands of them: appended to a plain table and
        sorted into ``deps`` once by :meth:`end_deps_load`, that is 5× faster than inserting
        each into the indexed table as it comes.
        """
        self.db.execute("CREATE TABLE IF NOT EXISTS deps_load (kind TEXT, key TEXT, file TEXT)")
        self.db.executemany("INSERT INTO deps_load VALUES (?, ?, ?)", rows)

    def end_deps_load(self) -> None:
        """Move the rows of :meth:`load_deps` into ``deps``, in key order, index built after."""
        if not self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deps_load'"
        ).fetchone():
            return
        with self.batch():
            self.db.execute("DROP INDEX IF EXISTS deps_by_file")
            self.db.execute(
                "INSERT OR IGNORE INTO deps SELECT kind, key, file FROM deps_load"
                " ORDER BY kind, key, file"
            )
            self.db.execute("DROP TABLE deps_load")
            self.db.execute("CREATE INDEX deps_by_file ON deps (file)")

    def dependents(self, kind: str, keys: Iterable[str]) -> set[str]:
        """Pages that read any of ``keys`` of ``kind`` while rendering."""
        keys = list(keys)
        result: set[str] = set()
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            rows = self.db.execute(
                f"SELECT file FROM deps WHERE kind = ? AND key IN ({','.join('?' * len(chunk))})",
                (kind, *chunk),
            )
            result.update(f for (f,) in rows)
        return result

    def dep_rows(self, kind: str) -> list[tuple[str, str]]:
        """(key, file) of every dependency of ``kind``, by key, each key's pages in the order
        they are rendered."""
        return self.db.execute(
            "SELECT deps.key, deps.file FROM deps LEFT JOIN pages ON pages.file = deps.file"
            " WHERE deps.kind = ? ORDER BY deps.key, pages.kind, pages.content_type,"
            " pages.source, pages.locale, deps.file",
            (kind,),
        ).fetchall()

    def dep_keys(self, kind: str) -> list[str]:
        return [
            k for (k,) in self.db.execute("SELECT DISTINCT key FROM deps WHERE kind = ?", (kind,))
        ]
