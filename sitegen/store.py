"""The build state: a SQLite database in the site's state folder.

It holds the content as last pulled (entries per content type, uid and locale asked for, with a
hash of their data and the uids their include tree and embedded items hold), assets, content
types, the sync token, the pages with what each read while rendering, and fingerprints of the
templates, copied files and configuration. The pull stage streams entries into it and the
render stage streams them out in batches, so a site never has to fit in memory; an incremental
build runs in one transaction, so a crash leaves the previous state whole.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sitegen.content import codec
from sitegen.content.order import FIELD_UID
from sitegen.content.urls import case_key

SCHEMA_VERSION = "5"
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
TOUCHED_LIMIT = 2000  # pages changed beyond this: the sitemap is made again in one pass

EntryKey = tuple[str, str, str]  # (content type, uid, locale)


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


class Member(NamedTuple):
    """An entry in a listing or feed: what places it (sort key, terms) and what it shows (hash)."""

    uid: str
    sort_key: bytes  # content/order.py: members in listing order have ascending keys
    terms: list[list[str]]
    hash: str
    updated_at: str


# In an entry's canonical JSON text: JSON-RTE reference nodes' attrs, and HTML-RTE
# ``data-sys-*-uid`` attributes (their quotes escaped in JSON strings).
RTE_REFERENCE = re.compile(r'"(?:entry|asset)-uid":"([^"\\]+)"')
HTML_EMBED = re.compile(r'data-sys-(?:entry|asset)-uid=\\?["\']([^"\'\\]+)')


def references(entry: dict[str, Any], text: str | None = None) -> set[str]:
    """Every uid an entry's delivered data depends on, besides its own.

    Referenced entries and assets anywhere in its include tree (dicts carrying
    ``_content_type_uid``, asset objects), and embedded items, including those named in the
    rich text itself (JSON-RTE reference nodes, HTML-RTE ``data-sys-*-uid`` attributes), which
    stay visible even while the item is unpublished and missing from ``_embedded_items``.

    It runs once per delivered entry. Rich text is most of an entry (a JSON-RTE body is
    thousands of small dicts), so it is searched as text (``text``: the entry's canonical
    JSON) and the walk skips JSON-RTE documents; it visits containers only.
    """
    if text is None:
        text = dumps(entry)
    found = set(RTE_REFERENCE.findall(text))
    if "data-sys-" in text:
        found.update(HTML_EMBED.findall(text))
    stack: list[Any] = [entry]
    pop, push = stack.pop, stack.append
    while stack:
        value = pop()
        if type(value) is list:
            stack.extend(item for item in value if type(item) is dict or type(item) is list)
            continue
        kind = value.get("type")
        if kind == "doc" and "children" in value:
            continue  # a JSON-RTE document: its references were found in the text
        uid = value.get("uid")
        if type(uid) is str and (
            "_content_type_uid" in value or ("filename" in value and "url" in value)
        ):
            found.add(uid)
        for item in value.values():
            if type(item) is dict or type(item) is list:
                push(item)
    found.discard(entry.get("uid"))
    return found


def dumps(value: Any) -> str:
    """Canonical JSON: the same data always gives the same text (and hash)."""
    return codec.dumps(value)


def entry_hash(content_type: str, entry: dict[str, Any]) -> str:
    """The fingerprint of an entry as stored: equal hashes mean equal delivered data."""
    return _digest(dumps({**entry, "_content_type_uid": content_type}))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


INSERT_ENTRY = (
    "INSERT OR REPLACE INTO entries"
    " (content_type, uid, locale, source_locale, updated_at, url, hash, summary, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REF = (
    "INSERT OR IGNORE INTO entry_refs (ref_uid, content_type, uid, locale) VALUES (?, ?, ?, ?)"
)


def _entry_row(
    content_type: str, locale: str, entry: dict[str, Any]
) -> tuple[tuple[Any, ...], set[str]]:
    """An entries row for a delivered entry (hash at index 6), and the uids it references.

    ``entry`` gets ``_content_type_uid``, as stored (and as ``iter_entries`` reads it back).
    """
    entry["_content_type_uid"] = content_type
    data = dumps(entry)
    url = entry.get("url")
    row = (
        content_type,
        entry["uid"],
        locale,
        str(entry.get("locale") or locale),
        str(entry.get("updated_at") or ""),
        url if isinstance(url, str) and url.strip() else None,
        _digest(data),  # = entry_hash(content_type, entry), without a second dumps
        _summary(entry),
        data,
    )
    return row, references(entry, data)


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
        # files whose pages rows came or went since the last sitemap refresh; None: too many
        self.touched: set[str] | None = set()
        # entries stored or deleted one by one since opened (an incremental build's changes)
        self.changed_entries: set[EntryKey] = set()
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

    # -- transactions ------------------------------------------------------------------------

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def batch(self) -> _Transaction:
        """A transaction around a block, unless one is open already (then it is part of that)."""
        return _Transaction(self.db)

    # -- meta and fingerprints ---------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

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

    # -- content types and assets -----------------------------------------------------------

    def put_content_types(self, content_types: Iterable[dict[str, Any]]) -> None:
        with self.batch():
            self.db.executemany(
                "INSERT OR REPLACE INTO content_types (uid, data) VALUES (?, ?)",
                ((ct["uid"], dumps(ct)) for ct in content_types),
            )

    def delete_content_type(self, uid: str) -> None:
        self.db.execute("DELETE FROM content_types WHERE uid = ?", (uid,))

    def content_types(self) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT uid, data FROM content_types ORDER BY uid")
        return {uid: codec.loads(d) for uid, d in rows}

    def put_assets(self, assets: Iterable[dict[str, Any]]) -> None:
        with self.batch():
            self.db.executemany(
                "INSERT OR REPLACE INTO assets (uid, data) VALUES (?, ?)",
                ((a["uid"], dumps(a)) for a in assets),
            )

    def delete_asset(self, uid: str) -> None:
        self.db.execute("DELETE FROM assets WHERE uid = ?", (uid,))

    def assets(self) -> dict[str, dict[str, Any]]:
        """Every stored asset by uid (metadata only: a few hundred bytes each)."""
        rows = self.db.execute("SELECT uid, data FROM assets ORDER BY uid")
        return {uid: codec.loads(d) for uid, d in rows}

    # -- downloaded asset files ([assets] download) -------------------------------------------

    def asset_files(self) -> dict[str, tuple[str, str, str, str, int]]:
        """uid → (fingerprint, remote url, output path, sha256, size) of downloaded copies."""
        self.db.execute(ASSET_FILES_SCHEMA)
        rows = self.db.execute("SELECT uid, fingerprint, url, path, hash, size FROM asset_files")
        return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def set_asset_files(self, files: Mapping[str, tuple[str, str, str, str, int]]) -> None:
        with self.batch():
            self.db.execute(ASSET_FILES_SCHEMA)
            self.db.execute("DELETE FROM asset_files")
            self.db.executemany(
                "INSERT INTO asset_files (uid, fingerprint, url, path, hash, size)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((uid, *row) for uid, row in files.items()),
            )

    # -- entries -----------------------------------------------------------------------------

    def put_entries(
        self, content_type: str, locale: str, entries: Iterable[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], str]]:
        """Store entries as delivered for ``locale``, with their hash and references;
        returns (entry as stored, hash) of each, for what else is made from them.

        For a store that holds none of them yet (a full build's new one), so there are no old
        references to delete. One statement per table for the whole batch.
        """
        rows: list[tuple[Any, ...]] = []
        refs: list[tuple[str, str, str, str]] = []
        stored = []
        for entry in entries:
            row, uids = _entry_row(content_type, locale, entry)
            rows.append(row)
            stored.append((entry, row[6]))
            refs.extend((ref, content_type, row[1], locale) for ref in uids)
        with self.batch():
            self.db.executemany(INSERT_ENTRY, rows)
            self.db.executemany(INSERT_REF, refs)
        return stored

    def put_entry(
        self,
        content_type: str,
        locale: str,
        entry: dict[str, Any],
        keep_refs: Iterable[str] = (),
    ) -> str:
        """Insert or replace one entry; returns its hash. ``keep_refs`` adds remembered refs."""
        row, refs = _entry_row(content_type, locale, dict(entry))
        uid = row[1]
        refs.update(keep_refs)
        refs.discard(uid)
        self.db.execute(
            "DELETE FROM entry_refs WHERE content_type = ? AND uid = ? AND locale = ?",
            (content_type, uid, locale),
        )
        self.db.execute(INSERT_ENTRY, row)
        self.db.executemany(INSERT_REF, ((ref, content_type, uid, locale) for ref in refs))
        self.changed_entries.add((content_type, uid, locale))
        return row[6]

    def add_refs(self, key: EntryKey, uids: Iterable[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO entry_refs (ref_uid, content_type, uid, locale) VALUES (?, ?, ?, ?)",
            ((ref, *key) for ref in uids),
        )

    def delete_entry(self, key: EntryKey) -> None:
        self.db.execute(
            "DELETE FROM entries WHERE content_type = ? AND uid = ? AND locale = ?", key
        )
        self.changed_entries.add(key)
        self.db.execute(
            "DELETE FROM entry_refs WHERE content_type = ? AND uid = ? AND locale = ?", key
        )

    def entry_state(self, key: EntryKey) -> tuple[str, str | None] | None:
        """(hash, url) of a stored entry, or None."""
        row = self.db.execute(
            "SELECT hash, url FROM entries WHERE content_type = ? AND uid = ? AND locale = ?", key
        ).fetchone()
        return (row[0], row[1]) if row else None

    def refs_of(self, key: EntryKey) -> set[str]:
        rows = self.db.execute(
            "SELECT ref_uid FROM entry_refs WHERE content_type = ? AND uid = ? AND locale = ?", key
        )
        return {r for (r,) in rows}

    def referrers(self, uids: Iterable[str], locales: Iterable[str] | None = None) -> set[EntryKey]:
        """Stored entries whose include tree or embedded items hold any of ``uids``."""
        uids = list(uids)
        allowed = set(locales) if locales is not None else None
        result: set[EntryKey] = set()
        for i in range(0, len(uids), BATCH):
            chunk = uids[i : i + BATCH]
            rows = self.db.execute(
                "SELECT content_type, uid, locale FROM entry_refs"
                f" WHERE ref_uid IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            result.update(r for r in rows if allowed is None or r[2] in allowed)
        return result

    def known_uids(self, uids: Iterable[str]) -> set[str]:
        """Which of ``uids`` are stored as an entry in some locale."""
        uids = list(uids)
        found: set[str] = set()
        for i in range(0, len(uids), BATCH):
            chunk = uids[i : i + BATCH]
            rows = self.db.execute(
                f"SELECT DISTINCT uid FROM entries WHERE uid IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update(u for (u,) in rows)
        return found

    def known_assets(self, uids: Iterable[str]) -> set[str]:
        uids = list(uids)
        found: set[str] = set()
        for i in range(0, len(uids), BATCH):
            chunk = uids[i : i + BATCH]
            rows = self.db.execute(
                f"SELECT uid FROM assets WHERE uid IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update(u for (u,) in rows)
        return found

    def entry_keys_of_type(self, content_type: str) -> list[EntryKey]:
        rows = self.db.execute(
            "SELECT content_type, uid, locale FROM entries WHERE content_type = ?", (content_type,)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def entries(self, content_type: str, locale: str, limit: int | None = None) -> list[LazyEntry]:
        """All entries of a type in a locale, newest ``updated_at`` first (then by uid).

        The order depends only on the content, never on the order of requests, so an
        incremental build lists exactly what a full build lists. Entries come as
        :class:`LazyEntry`: listing, sorting and filtering on short plain fields (title, url,
        dates, flags) never decodes the whole entry, which matters for collections of
        thousands of entries with large bodies.
        """
        rows = self.db.execute(
            "SELECT uid, summary FROM entries WHERE content_type = ? AND locale = ?"
            " ORDER BY updated_at DESC, uid LIMIT ?",
            (content_type, locale, -1 if limit is None else limit),
        )
        return [LazyEntry(summary, self, (content_type, uid, locale)) for uid, summary in rows]

    def field_values(
        self, content_type: str, locale: str, names: list[str], uids: list[str] | None = None
    ) -> Iterator[tuple[str, list[Any]]]:
        """(uid, [each top-level field's value or None]) of every entry of a type in a locale.

        What sorting a whole collection needs and no more: SQLite picks the values (with their
        JSON types) out of the summaries, so none is decoded in Python; a field too long for
        the summary is read from the entry's data. ``names`` must be field uids.
        """
        columns, params = [], []
        for name in names:
            if not FIELD_UID.fullmatch(name):
                raise ValueError(f"not a field uid: {name!r}")
            path = f"$.fields.{name}"
            columns.append("json_type(summary, ?), json_extract(summary, ?), instr(summary, ?)")
            params.extend([path, path, f'"{name}"'])
        select = (
            f"SELECT uid, {', '.join(columns)} FROM entries WHERE content_type = ? AND locale = ?"
        )
        if uids is None:
            yield from self._field_rows(
                self.db.execute(select, (*params, content_type, locale)),
                content_type,
                locale,
                names,
            )
            return
        for i in range(0, len(uids), BATCH):
            chunk = uids[i : i + BATCH]
            cursor = self.db.execute(
                f"{select} AND uid IN ({','.join('?' * len(chunk))})",
                (*params, content_type, locale, *chunk),
            )
            yield from self._field_rows(cursor, content_type, locale, names)

    def _field_rows(
        self, cursor: sqlite3.Cursor, content_type: str, locale: str, names: list[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        while rows := cursor.fetchmany(BATCH):
            for uid, *found in rows:
                values: list[Any] = []
                data = None
                for index, name in enumerate(names):
                    kind, value, listed = found[3 * index : 3 * index + 3]
                    if kind is None and listed:  # named in the summary: too long to be in it
                        data = data or self.entry_data((content_type, uid, locale))
                        values.append(data.get(name))
                    elif kind in ("true", "false"):
                        values.append(kind == "true")
                    elif kind in ("object", "array"):
                        values.append(codec.loads(value))
                    else:  # null, integer, real, text (or absent: None)
                        values.append(value)
                yield uid, values

    def sorted_stamp(self, spec: str, content_type: str, locale: str) -> int | None:
        """The build whose changes the kept order of ``spec`` includes (None: not kept)."""
        stamp = self.meta(f"sorted:{spec}:{content_type}:{locale}")
        return int(stamp) if stamp else None

    def sorted_uids(
        self, spec: str, content_type: str, locale: str, limit: int | None
    ) -> list[str]:
        """Uids in the order kept for ``spec``, the first ``limit`` of them."""
        rows = self.db.execute(
            "SELECT uid FROM sorted_entries WHERE spec = ? AND content_type = ? AND locale = ?"
            " ORDER BY sort_key LIMIT ?",
            (spec, content_type, locale, -1 if limit is None else limit),
        )
        return [uid for (uid,) in rows]

    def keep_sorted(
        self,
        spec: str,
        content_type: str,
        locale: str,
        keys: Iterable[tuple[str, bytes]],
        replace: Iterable[str] | None = None,
    ) -> None:
        """Keep (uid, sort key) rows for ``spec``: all of them (``replace`` None), or those of
        the ``replace`` uids (changed or deleted entries); stamped with this build."""
        where = "spec = ? AND content_type = ? AND locale = ?"
        if replace is None:
            self.db.execute(
                f"DELETE FROM sorted_entries WHERE {where}", (spec, content_type, locale)
            )
        else:
            self.db.executemany(
                f"DELETE FROM sorted_entries WHERE {where} AND uid = ?",
                ((spec, content_type, locale, uid) for uid in replace),
            )
        self.db.executemany(
            "INSERT INTO sorted_entries VALUES (?, ?, ?, ?, ?)",
            ((spec, content_type, locale, uid, key) for uid, key in keys),
        )
        self.set_meta(f"sorted:{spec}:{content_type}:{locale}", str(self.build_number() + 1))

    def build_number(self) -> int:
        """How many builds this state has seen, this one not counted until it is saved."""
        return int(self.meta("builds") or 0)

    def count_build(self) -> None:
        self.set_meta("builds", str(self.build_number() + 1))

    def dep_keys(self, kind: str) -> list[str]:
        return [
            k for (k,) in self.db.execute("SELECT DISTINCT key FROM deps WHERE kind = ?", (kind,))
        ]

    def lazy_entries(self, content_type: str, locale: str, uids: list[str]) -> list[LazyEntry]:
        """The given entries in the given order (those that are stored)."""
        found: dict[str, str] = {}
        for i in range(0, len(uids), BATCH):
            chunk = uids[i : i + BATCH]
            found.update(
                self.db.execute(
                    "SELECT uid, summary FROM entries WHERE content_type = ? AND locale = ?"
                    f" AND uid IN ({','.join('?' * len(chunk))})",
                    (content_type, locale, *chunk),
                )
            )
        return [
            LazyEntry(found[uid], self, (content_type, uid, locale)) for uid in uids if uid in found
        ]

    def iter_entries(self, content_type: str, locale: str) -> Iterator[tuple[str, str, str, dict]]:
        """(uid, hash, updated_at, data) of every entry of a type in a locale, in batches."""
        cursor = self.db.execute(
            "SELECT uid, hash, updated_at, data FROM entries WHERE content_type = ? AND locale = ?"
            " ORDER BY uid",
            (content_type, locale),
        )
        while rows := cursor.fetchmany(BATCH):
            for uid, hash_, updated_at, data in rows:
                yield uid, hash_, updated_at, codec.loads(data)

    def entry_data(self, key: EntryKey) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT data FROM entries WHERE content_type = ? AND uid = ? AND locale = ?", key
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return codec.loads(row[0])

    def url_of(self, uid: str, locale: str, content_type: str | None = None) -> str | None:
        """The url field of an entry in a locale, or None when it has none or is not there."""
        if content_type:
            row = self.db.execute(
                "SELECT url FROM entries WHERE content_type = ? AND uid = ? AND locale = ?",
                (content_type, uid, locale),
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT url FROM entries WHERE uid = ? AND locale = ? ORDER BY content_type LIMIT 1",
                (uid, locale),
            ).fetchone()
        return row[0] if row else None

    def entries_by_key(self, keys: list[EntryKey]) -> dict[EntryKey, dict[str, Any]]:
        """Load a batch of entries at once (one query per batch, not per entry)."""
        result: dict[EntryKey, dict[str, Any]] = {}
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            where = " OR ".join(["(content_type = ? AND uid = ? AND locale = ?)"] * len(chunk))
            params = [v for key in chunk for v in key]
            for ct, uid, locale, data in self.db.execute(
                f"SELECT content_type, uid, locale, data FROM entries WHERE {where}", params
            ):
                result[(ct, uid, locale)] = codec.loads(data)
        return result

    def count_entries(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def content_types_with_urls(self) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT content_type FROM entries WHERE url IS NOT NULL ORDER BY content_type"
        )
        return [ct for (ct,) in rows]

    def entries_with_urls(
        self,
        content_types: Iterable[str],
        locales: Iterable[str],
        keys: Iterable[EntryKey] | None = None,
    ) -> Iterator[tuple[str, str, str, str, str]]:
        """(content type, uid, locale, url, updated_at) of entries with a url (all, or among ``keys``)."""
        cts, locs = list(content_types), list(locales)
        if not cts or not locs:
            return iter(())
        base = (
            "SELECT content_type, uid, locale, url, updated_at FROM entries WHERE url IS NOT NULL"
            f" AND content_type IN ({','.join('?' * len(cts))})"
            f" AND locale IN ({','.join('?' * len(locs))})"
        )
        if keys is None:
            return self.db.execute(base + " ORDER BY content_type, locale, uid", (*cts, *locs))
        return self._entries_with_urls_among(base, cts, locs, list(keys))

    def _entries_with_urls_among(
        self, base: str, cts: list[str], locs: list[str], keys: list[EntryKey]
    ) -> Iterator[tuple[str, str, str, str, str]]:
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            where = " OR ".join(["(content_type = ? AND uid = ? AND locale = ?)"] * len(chunk))
            yield from self.db.execute(
                f"{base} AND ({where})", (*cts, *locs, *[v for k in chunk for v in k])
            ).fetchall()

    # -- pages and what they read ------------------------------------------------------------

    # case_key(file) -> file of every recorded page, loaded on first use (one query)
    _cases: dict[str, str] | None = None

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

    def pages_of(self, key: EntryKey) -> list[str]:
        rows = self.db.execute(
            "SELECT file FROM pages WHERE kind = 'entry' AND content_type = ? AND uid = ?"
            " AND locale = ?",
            key,
        )
        return [f for (f,) in rows]

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

    def page_count_by_locale(self) -> dict[str, int]:
        """HTML pages (entries and listings) per locale; feeds and site files are not counted."""
        return dict(
            self.db.execute(
                "SELECT locale, COUNT(*) FROM pages WHERE kind IN ('entry', 'listing')"
                " GROUP BY locale"
            ).fetchall()
        )

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

    # -- sitemap <url> elements, kept between builds -----------------------------------------

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

    # -- members of listings and feeds -------------------------------------------------------

    def put_member(self, source: str, locale: str, member: Member) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                locale,
                member.uid,
                member.sort_key,
                dumps(member.terms),
                member.hash,
                member.updated_at,
            ),
        )

    def put_members(self, source: str, locale: str, members: Iterable[Member]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (source, locale, m.uid, m.sort_key, dumps(m.terms), m.hash, m.updated_at)
                for m in members
            ),
        )

    def member(self, source: str, locale: str, uid: str) -> Member | None:
        row = self.db.execute(
            "SELECT uid, sort_key, terms, hash, updated_at FROM members"
            " WHERE source = ? AND locale = ? AND uid = ?",
            (source, locale, uid),
        ).fetchone()
        return Member(row[0], row[1], codec.loads(row[2]), row[3], row[4]) if row else None

    def delete_member(self, source: str, locale: str, uid: str) -> None:
        self.db.execute(
            "DELETE FROM members WHERE source = ? AND locale = ? AND uid = ?", (source, locale, uid)
        )

    def members(self, source: str, locale: str) -> list[Member]:
        """A listing's members in its order (their sort keys compare as the entries sort)."""
        rows = self.db.execute(
            "SELECT uid, sort_key, terms, hash, updated_at FROM members"
            " WHERE source = ? AND locale = ? ORDER BY sort_key",
            (source, locale),
        ).fetchall()
        # one JSON document for all terms (one parse instead of one per member), if any
        has_terms = any(r[2] != "[]" for r in rows)
        terms = codec.loads("[" + ",".join(r[2] for r in rows) + "]") if has_terms else None
        return [
            Member(r[0], r[1], terms[i] if terms is not None else [], r[3], r[4])
            for i, r in enumerate(rows)
        ]

    def clear_members(self) -> None:
        self.db.execute("DELETE FROM members")

    def set_deps(self, file: str, deps: Iterable[tuple[str, str]]) -> None:
        self.db.execute("DELETE FROM deps WHERE file = ?", (file,))
        self.db.executemany(
            "INSERT OR IGNORE INTO deps (kind, key, file) VALUES (?, ?, ?)",
            ((kind, key, file) for kind, key in deps),
        )

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


SUMMARY_TEXT_LIMIT = 500


def _summary(entry: dict[str, Any]) -> str:
    """The entry's short plain fields and the names of all its fields (see LazyEntry)."""
    plain = {
        k: v
        for k, v in entry.items()
        if v is None
        or isinstance(v, bool | int | float)
        or (isinstance(v, str) and len(v) <= SUMMARY_TEXT_LIMIT)
    }
    return dumps({"fields": plain, "keys": sorted(entry)})


# (field names with values in the summary, all field names) → (name → index, names, order):
# the entries of one content type share a handful of shapes, so each entry keeps only a tuple
Shape = tuple[dict[str, int], frozenset[str], tuple[str, ...]]
_SHAPES: dict[tuple[tuple[str, ...], tuple[str, ...]], Shape] = {}


class LazyEntry(Mapping[str, Any]):
    """An entry that decodes its full data only when a field outside its summary is read.

    Collections of tens of thousands of these are kept for a whole build, so the summary is
    decoded on first use and then held as a tuple of values beside a shape shared by every
    entry with the same fields, not as a dict (and its text) per entry.
    """

    __slots__ = ("_full", "_key", "_shape", "_store", "_text", "_values")

    def __init__(self, summary: str, store: Store, key: EntryKey):
        self._text: str | None = summary  # decoded on first use: a listing may show 20 of 10,000
        self._shape: Shape | None = None
        self._values: tuple[Any, ...] = ()
        self._store = store
        self._key = key
        self._full: dict[str, Any] | None = None

    def _parsed(self) -> Shape:
        if self._shape is None:
            data = codec.loads(self._text or '{"fields": {}, "keys": []}')
            fields: dict[str, Any] = data["fields"]
            shape_key = (tuple(fields), tuple(data["keys"]))
            shape = _SHAPES.get(shape_key)
            if shape is None:
                names = shape_key[0]
                shape = _SHAPES[shape_key] = (
                    {name: i for i, name in enumerate(names)},
                    frozenset(shape_key[1]),
                    shape_key[1],
                )
            self._shape, self._values, self._text = shape, tuple(fields.values()), None
        return self._shape

    def _data(self) -> dict[str, Any]:
        if self._full is None:
            self._full = self._store.entry_data(self._key)
        return self._full

    def __getitem__(self, name: str) -> Any:
        index, names, _ = self._parsed()
        if self._full is None:
            position = index.get(name)
            if position is not None:
                return self._values[position]
            if name not in names:
                raise KeyError(name)
        return self._data()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._parsed()[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed()[2])

    def __len__(self) -> int:
        return len(self._parsed()[2])

    def __repr__(self) -> str:
        return f"<entry {self._key[1]} of {self._key[0]} in {self._key[2]}>"


class _Transaction:
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
