"""The build state: one SQLite database in the site's state folder, opened as a :class:`Store`.

It holds the content as last pulled, the pages with what each read while rendering, listing
members, sitemap elements, kept orders, the sync token and fingerprints of the templates,
copied files and configuration. The pull stage streams entries into it and the render stage
streams them out in batches, so a site never has to fit in memory; an incremental build runs in
one transaction, so a crash leaves the previous state whole.

A :class:`Store` owns the connection, transactions and the meta and fingerprint tables; its
parts hold the rest, each over the same connection: ``store.content``
(:class:`~sitegen.store.content.ContentTables`), ``store.graph``
(:class:`~sitegen.store.pages.PageGraph`), ``store.listings``
(:class:`~sitegen.store.members.ListingMembers`), ``store.sitemap``
(:class:`~sitegen.store.sitemap.SitemapUrls`) and ``store.orders``
(:class:`~sitegen.store.orders.SortOrders`).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from sitegen.store.content import ContentTables
from sitegen.store.members import ListingMembers
from sitegen.store.orders import SortOrders
from sitegen.store.pages import PageGraph
from sitegen.store.sitemap import SitemapUrls
from sitegen.store.sql import SCHEMA, SCHEMA_VERSION, Transaction


class StateError(Exception):
    """The state database is missing, foreign or from another schema version."""


class DamagedState(StateError):
    """The state file is not a sitegen state database: corrupt, or some other file."""


class Store:
    """One open state database. Not shared across threads."""

    def __init__(
        self, path: Path, *, create: bool = True, readonly: bool = False, bulk: bool = False
    ):
        """Open (or create) the database; ``readonly`` for rendering workers, which only read.

        ``bulk``: a new database that one process fills and that is thrown away if the build
        fails (a full build's pull), so it is written without a journal (3× faster inserts)
        until ``end_bulk()``.
        """
        if (readonly or not create) and not path.is_file():
            raise StateError(f"{path}: no state database")
        self.path = path
        self.readonly = readonly
        try:
            if readonly:
                self.db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
                )
            else:
                self.db = sqlite3.connect(path, isolation_level=None)
                if bulk:
                    self.db.execute("PRAGMA journal_mode=OFF")
                    self.db.execute("PRAGMA synchronous=OFF")
                else:
                    self._journal()
                # 16 MB of page cache (the default is 2 MB): the index pages a full build inserts
                # into stay in memory, while peak memory stays small
                self.db.execute("PRAGMA cache_size=-16384")
            if create and not readonly:
                self.db.executescript(SCHEMA)
                self.db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (SCHEMA_VERSION,),
                )
            version = self.meta("schema_version")
        except sqlite3.DatabaseError as err:
            raise DamagedState(f"{path}: not a sitegen state database ({err})") from None
        if version != SCHEMA_VERSION:
            self.db.close()
            raise StateError(
                f"{path}: state schema {version!r}, this sitegen uses {SCHEMA_VERSION!r}"
            )
        self.content = ContentTables(self.db)
        self.graph = PageGraph(self.db)
        self.listings = ListingMembers(self.db)
        self.sitemap = SitemapUrls(self.db)
        self.orders = SortOrders(self.db, self)

    def _journal(self) -> None:
        # WAL: rendering workers read while this process writes pages and dependencies
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")

    def end_bulk(self) -> None:
        """Journal from now on (after a bulk load, before anything else reads the database)."""
        self._journal()

    def close(self) -> None:
        """Close the database (safe to call twice)."""
        self.db.close()

    def snapshot(self) -> bytes:
        """The whole database as one self-contained file's bytes (committed data only)."""
        with tempfile.TemporaryDirectory(prefix="sitegen-snapshot-") as folder:
            target = Path(folder) / "store.sqlite"
            self.db.execute("VACUUM INTO ?", (str(target),))
            return target.read_bytes()

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def batch(self) -> Transaction:
        """A transaction around a block, unless one is open already (then it is part of that)."""
        return Transaction(self.db)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def fingerprints(self, kind: str) -> dict[str, str]:
        rows = self.db.execute("SELECT name, hash FROM fingerprints WHERE kind = ?", (kind,))
        return dict(rows.fetchall())

    def set_fingerprints(self, kind: str, values: dict[str, str]) -> None:
        with self.batch():
            self.db.execute("DELETE FROM fingerprints WHERE kind = ?", (kind,))
            self.db.executemany(
                "INSERT INTO fingerprints (kind, name, hash) VALUES (?, ?, ?)",
                ((kind, name, h) for name, h in values.items()),
            )

    def build_number(self) -> int:
        """How many builds this state has seen, this one not counted until it is saved."""
        return int(self.meta("builds") or 0)

    def count_build(self) -> None:
        self.set_meta("builds", str(self.build_number() + 1))
