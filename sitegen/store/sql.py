"""The state database's schema, and what every part of the store shares.

Each part (:mod:`.content`, :mod:`.pages`, :mod:`.sitemap`, :mod:`.members`, :mod:`.orders`)
works on its own tables through the one connection of :class:`sitegen.store.Store`, so a build
still runs in one transaction however many parts it touches.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = "6"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS content_types (uid TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    content_type TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    source_locale TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    url TEXT,
    hash TEXT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (content_type, uid, locale)
);
CREATE INDEX IF NOT EXISTS entries_by_uid ON entries (uid, locale);
CREATE INDEX IF NOT EXISTS entries_with_urls ON entries (content_type) WHERE url IS NOT NULL;
CREATE TABLE IF NOT EXISTS entry_refs (
    ref_uid TEXT NOT NULL,
    content_type TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    PRIMARY KEY (ref_uid, content_type, uid, locale)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entry_refs_by_entry ON entry_refs (content_type, uid, locale);
CREATE TABLE IF NOT EXISTS assets (uid TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    file TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                  -- entry, listing, feed or file (sitemap, robots, 404)
    content_type TEXT NOT NULL,          -- entry pages: the entry; '' for the others
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    url TEXT NOT NULL,                   -- the path without the locale prefix
    source TEXT NOT NULL,                -- generated pages: "pages[0]", "feeds[1]", "sitemap"…
    term TEXT NOT NULL,                  -- term pages: the term's key
    number INTEGER NOT NULL,             -- listings: the page number
    lastmod TEXT,                        -- the newest updated_at the page shows
    fingerprint TEXT NOT NULL            -- generated pages: what they show; '' for entries
);
CREATE INDEX IF NOT EXISTS pages_by_entry ON pages (content_type, uid, locale);
CREATE INDEX IF NOT EXISTS pages_by_source ON pages (source, locale);
CREATE TABLE IF NOT EXISTS members (
    source TEXT NOT NULL,                -- the listing or feed ("pages[0]")
    locale TEXT NOT NULL,
    uid TEXT NOT NULL,
    sort_key BLOB NOT NULL,              -- content/order.py: bytes in listing order
    terms TEXT NOT NULL,                 -- JSON: [[key, label], …] for term listings
    hash TEXT NOT NULL,                  -- the entry's hash: a changed entry changes its pages
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, locale, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_in_order ON members (source, locale, sort_key);
CREATE TABLE IF NOT EXISTS deps (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    file TEXT NOT NULL,
    PRIMARY KEY (kind, key, file)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deps_by_file ON deps (file);
CREATE TABLE IF NOT EXISTS sitemap_urls (
    kind TEXT NOT NULL,                  -- the page, as in pages: its locale versions
    content_type TEXT NOT NULL,          --   make one group, listed together
    uid TEXT NOT NULL,
    source TEXT NOT NULL,
    term TEXT NOT NULL,
    number INTEGER NOT NULL,
    rank INTEGER NOT NULL,               -- the version's locale, in configured order
    locale TEXT NOT NULL,                -- what it was made from: the version's pages row
    file TEXT NOT NULL,
    url TEXT NOT NULL,
    lastmod TEXT,
    xml TEXT NOT NULL,                   -- its <url> element, alternates included
    PRIMARY KEY (kind, content_type, uid, source, term, number, rank)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sitemap_urls_by_file ON sitemap_urls (file);
CREATE TABLE IF NOT EXISTS sorted_entries (
    spec TEXT NOT NULL,                  -- entries(sort=…): the sort fields, as JSON
    content_type TEXT NOT NULL,
    locale TEXT NOT NULL,
    uid TEXT NOT NULL,
    sort_key BLOB NOT NULL,              -- content/order.py: bytes that sort as the entries do
    PRIMARY KEY (spec, content_type, locale, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sorted_entries_by_key
    ON sorted_entries (spec, content_type, locale, sort_key);
CREATE TABLE IF NOT EXISTS fingerprints (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
"""
# Downloaded asset copies ([assets] download). Also created on first use, so a state database
# written before the table existed keeps working without a schema bump.
ASSET_FILES_SCHEMA = """
CREATE TABLE IF NOT EXISTS asset_files (
    uid TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    url TEXT NOT NULL,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL
);
"""
SCHEMA += ASSET_FILES_SCHEMA
BATCH = 300


class Part:
    """A part of the store: a view of some of its tables over the store's one connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def batch(self) -> Transaction:
        """A transaction around a block, unless one is open already (then it is part of that)."""
        return Transaction(self.db)


class Transaction:
    """``BEGIN``/``COMMIT`` around a block unless a transaction is already open."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.owner = False

    def __enter__(self) -> sqlite3.Connection:
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
            self.owner = True
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.owner:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
