"""Converted rich text and Markdown kept between builds (``.sitegen/fragments.sqlite``).

Turning a JSON-RTE document, an HTML-RTE string or a Markdown text into HTML depends on the
value and a few settings only, so the HTML is stored under a hash of both. A template change
or a forced full build re-renders every page, but converts no field it has converted before;
an author rename re-renders hundreds of posts whose bodies did not change.

It is a cache, not state: a missing, locked or damaged file only means converting again
(the first error turns the cache off for the rest of the build), and deleting it is always
safe. Worker processes on this machine share it (WAL, a busy timeout); each buffers its new
fragments and writes them in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path

FILE_NAME = "fragments.sqlite"
SCHEMA = "CREATE TABLE IF NOT EXISTS fragments (key BLOB PRIMARY KEY, html TEXT NOT NULL)"
FLUSH_EVERY = 500


def fragment_key(*parts: bytes) -> bytes:
    """The key of a fragment: a hash of what its HTML depends on."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


class FragmentCache:
    """Fragments by key; ``get`` reads through to the file, ``put`` buffers until ``flush``."""

    def __init__(self, path: Path):
        self.path = path
        self.hits = 0
        self.misses = 0
        self._pending: dict[bytes, str] = {}
        self._db: sqlite3.Connection | None = None
        self._disabled = False

    def _connect(self) -> sqlite3.Connection | None:
        """The open connection, opened on first use (and again after each flush closed it,
        so that no file stays open between builds)."""
        if self._db is None and not self._disabled:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.execute(SCHEMA)
            except (sqlite3.Error, OSError):
                self._off()
        return self._db

    def get(self, key: bytes) -> str | None:
        html = self._pending.get(key)
        db = self._connect() if html is None else None
        if db is not None:
            try:
                row = db.execute("SELECT html FROM fragments WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                self._off()
                row = None
            html = row[0] if row else None
        if html is None:
            self.misses += 1
        else:
            self.hits += 1
        return html

    def put(self, key: bytes, html: str) -> None:
        if self._disabled:
            return
        self._pending[key] = html
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the buffered fragments in one transaction, and close the file."""
        rows, self._pending = list(self._pending.items()), {}
        db = self._connect() if rows else self._db
        if db is None:
            return
        try:
            if rows:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(
                        "INSERT OR IGNORE INTO fragments (key, html) VALUES (?, ?)", rows
                    )
            db.close()
            self._db = None
        except sqlite3.Error:
            self._off()

    close = flush

    def _off(self) -> None:
        """The file cannot be used (locked too long, damaged): convert without it."""
        self._disabled = True
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._pending.clear()
