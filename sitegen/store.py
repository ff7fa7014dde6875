"""The content store: a SQLite database in the site's state folder.

The pull stage streams pages of entries into it; the render stage streams them back out in
batches, so a site never has to fit in memory. Rows are keyed by (content type, uid, locale
asked for); ``source_locale`` records the locale the content actually came from (fallback).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS content_types (uid TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    content_type TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    source_locale TEXT NOT NULL,
    position INTEGER NOT NULL,
    url TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (content_type, uid, locale)
);
CREATE INDEX IF NOT EXISTS entries_by_uid ON entries (uid, locale);
CREATE TABLE IF NOT EXISTS assets (uid TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
SCHEMA_VERSION = "1"
BATCH = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class Store:
    """One open store database. Not shared across threads."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )

    def close(self) -> None:
        """Close the database (safe to call twice)."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def put_content_types(self, content_types: Iterable[dict[str, Any]]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO content_types (uid, data) VALUES (?, ?)",
                ((ct["uid"], _dumps(ct)) for ct in content_types),
            )

    def put_entries(
        self, content_type: str, locale: str, entries: Iterable[dict[str, Any]], start: int
    ) -> None:
        """Store a page of entries as delivered for ``locale``; ``start`` keeps the API's order."""
        rows = []
        for offset, entry in enumerate(entries):
            entry = {**entry, "_content_type_uid": content_type}
            url = entry.get("url")
            rows.append(
                (
                    content_type,
                    entry["uid"],
                    locale,
                    str(entry.get("locale") or locale),
                    start + offset,
                    url if isinstance(url, str) and url.strip() else None,
                    _dumps(entry),
                )
            )
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO entries (content_type, uid, locale, source_locale, position, url, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def put_assets(self, assets: Iterable[dict[str, Any]]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO assets (uid, data) VALUES (?, ?)",
                ((a["uid"], _dumps(a)) for a in assets),
            )

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _transaction(self) -> sqlite3.Connection:
        return _Transaction(self.db)  # type: ignore[return-value]

    # -- reading -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def content_types(self) -> list[dict[str, Any]]:
        return [
            json.loads(d) for (d,) in self.db.execute("SELECT data FROM content_types ORDER BY uid")
        ]

    def content_type_uids_with_urls(self) -> list[str]:
        return [
            ct
            for (ct,) in self.db.execute(
                "SELECT DISTINCT content_type FROM entries WHERE url IS NOT NULL ORDER BY content_type"
            )
        ]

    def entries(self, content_type: str, locale: str) -> list[dict[str, Any]]:
        """All entries of a type in a locale, in the API's order."""
        rows = self.db.execute(
            "SELECT data FROM entries WHERE content_type = ? AND locale = ? ORDER BY position, uid",
            (content_type, locale),
        )
        return [json.loads(d) for (d,) in rows]

    def entry(self, content_type: str, uid: str, locale: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM entries WHERE content_type = ? AND uid = ? AND locale = ?",
            (content_type, uid, locale),
        ).fetchone()
        return json.loads(row[0]) if row else None

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

    def pages(
        self, content_types: Iterable[str], locales: Iterable[str]
    ) -> Iterator[tuple[str, str, str, str]]:
        """(content type, uid, locale, url) of every entry with a url, ordered for rendering."""
        cts, locs = list(content_types), list(locales)
        if not cts or not locs:
            return
        q = (
            "SELECT content_type, uid, locale, url FROM entries WHERE url IS NOT NULL"
            f" AND content_type IN ({','.join('?' * len(cts))}) AND locale IN ({','.join('?' * len(locs))})"
            " ORDER BY content_type, locale, position, uid"
        )
        return self.db.execute(q, (*cts, *locs))

    def page_entries(
        self, keys: list[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Load the entries of a batch of pages at once (one query per batch, not per page)."""
        result: dict[tuple[str, str, str], dict[str, Any]] = {}
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            where = " OR ".join(["(content_type = ? AND uid = ? AND locale = ?)"] * len(chunk))
            params = [v for key in chunk for v in key]
            for ct, uid, locale, data in self.db.execute(
                f"SELECT content_type, uid, locale, data FROM entries WHERE {where}", params
            ):
                result[(ct, uid, locale)] = json.loads(data)
        return result

    def count_entries(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def assets(self) -> list[dict[str, Any]]:
        return [json.loads(d) for (d,) in self.db.execute("SELECT data FROM assets ORDER BY uid")]


class _Transaction:
    """``BEGIN``/``COMMIT`` around a block, ``ROLLBACK`` on error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
