"""Collection orders kept between builds: ``entries(type, sort=…, limit=…)`` in templates.

A build gives new sort keys only to the entries it changed, then reads the first N with
``ORDER BY … LIMIT`` (see :mod:`sitegen.build.sorting`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Protocol

from sitegen.store.sql import Part


class Meta(Protocol):
    """The store's meta table, where each order records the build that made it."""

    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def build_number(self) -> int: ...


class SortOrders(Part):
    """The sorted_entries table."""

    def __init__(self, db: sqlite3.Connection, meta: Meta):
        super().__init__(db)
        self._meta = meta

    def sorted_stamp(self, spec: str, content_type: str, locale: str) -> int | None:
        """The build whose changes the kept order of ``spec`` includes (None: not kept)."""
        stamp = self._meta.meta(f"sorted:{spec}:{content_type}:{locale}")
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
        self._meta.set_meta(
            f"sorted:{spec}:{content_type}:{locale}", str(self._meta.build_number() + 1)
        )
