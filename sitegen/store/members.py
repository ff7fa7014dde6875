"""Members of listings and feeds: which entries each shows, in its order, kept between builds.

Their sort keys are bytes that compare as the entries sort (:mod:`sitegen.content.order`), so a
listing is read in order with one ``ORDER BY``: no JSON decoding and no sort in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sitegen.content import codec
from sitegen.store.content import dumps
from sitegen.store.sql import Part


class Member(NamedTuple):
    """An entry in a listing or feed: what places it (sort key, terms) and what it shows (hash)."""

    uid: str
    sort_key: bytes  # content/order.py: members in listing order have ascending keys
    terms: list[list[str]]
    hash: str
    updated_at: str


class ListingMembers(Part):
    """The members table."""

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

    def count(self, source: str, locale: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM members WHERE source = ? AND locale = ?", (source, locale)
        ).fetchone()[0]

    def rank(self, source: str, locale: str, sort_key: bytes) -> int:
        """How many members come before one with this sort key (sort keys are unique: each
        ends with the uid)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM members WHERE source = ? AND locale = ? AND sort_key < ?",
            (source, locale, sort_key),
        ).fetchone()[0]

    def members_slice(self, source: str, locale: str, offset: int, limit: int) -> list[Member]:
        """``limit`` members from position ``offset`` in listing order (what one page shows)."""
        rows = self.db.execute(
            "SELECT uid, sort_key, terms, hash, updated_at FROM members"
            " WHERE source = ? AND locale = ? ORDER BY sort_key LIMIT ? OFFSET ?",
            (source, locale, limit, offset),
        ).fetchall()
        return [Member(r[0], r[1], codec.loads(r[2]), r[3], r[4]) for r in rows]

    def clear_members(self) -> None:
        self.db.execute("DELETE FROM members")
