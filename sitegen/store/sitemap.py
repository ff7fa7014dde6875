"""Sitemap ``<url>`` elements kept between builds, one group per page (all its locale versions),
so a build makes again only those of the pages that came, went or changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from sitegen.store.pages import PAGE_COLUMNS, Page
from sitegen.store.sql import BATCH, Part

GROUP_COLUMNS = ("kind", "content_type", "uid", "source", "term", "number")


class PageGroup(NamedTuple):
    """A page whatever its locale: the versions of one page share these (see the sitemap)."""

    kind: str
    content_type: str
    uid: str
    source: str
    term: str
    number: int


class SitemapUrl(NamedTuple):
    """One version's stored <url> element, with the pages row it was made from."""

    rank: int
    locale: str
    file: str
    url: str
    lastmod: str | None
    xml: str


class SitemapUrls(Part):
    """The pages a sitemap lists, and their kept ``<url>`` elements."""

    def sitemap_pages(self) -> Iterator[Page]:
        """Entry and listing pages, each page's locale versions next to each other."""
        cursor = self.db.execute(
            f"SELECT {PAGE_COLUMNS} FROM pages WHERE kind IN ('entry', 'listing')"
            " ORDER BY kind, content_type, uid, source, term, number, locale"
        )
        while rows := cursor.fetchmany(BATCH):
            yield from (Page(*row) for row in rows)

    def count_sitemap_pages(self) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM pages WHERE kind IN ('entry', 'listing')"
        ).fetchone()[0]

    def sitemap_groups_of(self, files: Iterable[str]) -> set[PageGroup]:
        """The pages (all their versions) the given files are or were a version of."""
        files = list(files)
        columns = ", ".join(GROUP_COLUMNS)
        groups: set[PageGroup] = set()
        for i in range(0, len(files), BATCH):
            chunk = files[i : i + BATCH]
            slots = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {columns} FROM pages WHERE file IN ({slots})"
                " AND kind IN ('entry', 'listing')"
                f" UNION SELECT {columns} FROM sitemap_urls WHERE file IN ({slots})",
                (*chunk, *chunk),
            )
            groups.update(PageGroup(*row) for row in rows)
        return groups

    def has_sitemap_urls(self) -> bool:
        return self.db.execute("SELECT 1 FROM sitemap_urls LIMIT 1").fetchone() is not None

    def group_pages(self, group: PageGroup) -> list[Page]:
        where = " AND ".join(f"{c} = ?" for c in GROUP_COLUMNS)
        rows = self.db.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE {where}", group)
        return [Page(*row) for row in rows]

    def put_sitemap_group(self, group: PageGroup, urls: Iterable[SitemapUrl]) -> None:
        """Replace a group's <url> elements (none: the page is gone)."""
        where = " AND ".join(f"{c} = ?" for c in GROUP_COLUMNS)
        self.db.execute(f"DELETE FROM sitemap_urls WHERE {where}", group)
        self.db.executemany(
            "INSERT INTO sitemap_urls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((*group, *url) for url in urls),
        )

    def clear_sitemap_urls(self) -> None:
        self.db.execute("DELETE FROM sitemap_urls")

    def sitemap_urls(self) -> Iterator[tuple[str, str | None]]:
        """(<url> element, lastmod) of every page version, in sitemap order, in batches."""
        cursor = self.db.execute(
            f"SELECT xml, lastmod FROM sitemap_urls ORDER BY {', '.join(GROUP_COLUMNS)}, rank"
        )
        while rows := cursor.fetchmany(BATCH * 10):
            yield from rows
