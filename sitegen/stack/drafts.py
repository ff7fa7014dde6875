"""The draft view of a local stack: what preview requests (header ``preview_token``) see.

Contentstack's preview host answers with the latest draft of every entry, published or not;
the delivery API only ever with published content. The local stack does the same: for every
entry and locale the draft view holds the draft file (``<uid>.<locale>.draft.json``) if there
is one, else the recorded entry file, published or not (``"_published": false`` is a draft of an
entry never published). Assets and content types have no drafts and are the same in both views.

:class:`DraftCatalog` is a :class:`~sitegen.stack.resolve.Catalog` that takes its rows from that
view, so fallback, references, file fields, embedded items, queries, order and projections work
exactly as for delivery. It never changes the history: draft files are not recorded, produce no
Sync API events and leave ``_version`` and ``updated_at`` of published entries alone. A draft
reports:

- ``_version``: the recorded version of the entry file plus one (1 for a draft-only entry);
- ``updated_at``: its own pin, else the draft file's modification time, never older than the
  recorded entry's ``updated_at``;
- ``created_at``: its own pin, else the recorded entry's, else the same as ``updated_at``;
- ``publish_details.time``: when the entry was published, or its ``updated_at`` if it is not.

The same folder state therefore always gives the same answer. A draft catalog is built for one
state of the folder and thrown away (by the service) as soon as anything changes, so it needs no
catch-up logic; its caches are its own, and the delivery catalog's are never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sitegen.content.timestamps import format_time
from sitegen.stack.folder import Listing, LocalStack
from sitegen.stack.history import History, ItemRow, entry_key, reference_uids
from sitegen.stack.resolve import Catalog

JsonDict = dict[str, Any]


def mtime_iso(mtime_ns: int) -> str:
    """A file's modification time (nanoseconds since the epoch) as a Contentstack timestamp."""
    seconds, rest = divmod(mtime_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=rest // 1000)
    return format_time(moment)


class DraftCatalog(Catalog):
    """The draft view of one state of the folder: recorded entries overlaid with draft files."""

    def __init__(self, stack: LocalStack, history: History, listing: Listing):
        super().__init__(stack, history)
        self._listing_files = listing
        # history key -> path of its draft file, also grouped by content type
        self._drafts: dict[str, str] = {}
        self._drafts_by_type: dict[str, dict[str, str]] = {}
        for rel, where in listing.drafts.items():
            key = entry_key(where.content_type_uid, where.uid, where.locale)
            self._drafts[key] = rel
            self._drafts_by_type.setdefault(where.content_type_uid, {})[key] = rel
        self._draft_rows: dict[str, ItemRow] = {}  # each draft file is read once
        self._refs: dict[str, dict[str, set[str]]] = {}  # ct -> referenced uid -> referrers

    def catch_up(self) -> set[tuple[str, str, str]]:
        """Not supported: the service replaces a draft catalog when the folder changes."""
        raise NotImplementedError("a draft catalog is replaced, not caught up")

    # -- the draft view -------------------------------------------------------------------

    def _draft_row(self, key: str, rel: str, recorded: ItemRow | None) -> ItemRow:
        row = self._draft_rows.get(key)
        if row is not None:
            return row
        listing = self._listing_files
        entry = self.stack.read_entry(rel, listing.drafts[rel], listing.asset_uids)
        changed = mtime_iso(listing.draft_files[rel][1])
        if recorded is not None:
            changed = max(changed, recorded.updated_at)
        updated_at = entry.updated_at or changed
        created_at = entry.created_at or (recorded.created_at if recorded else updated_at)
        published_at = recorded.published_at if recorded and recorded.published else None
        row = ItemRow(
            key,
            "entry",
            entry.content_type_uid,
            entry.uid,
            entry.locale,
            True,
            recorded.version + 1 if recorded else 1,
            created_at,
            updated_at,
            published_at,
            entry.fields,
        )
        self._draft_rows[key] = row
        return row

    def _rows_by_key(self, keys: Sequence[str]) -> list[ItemRow]:
        if not keys or not keys[0].startswith("entry/"):
            return super()._rows_by_key(keys)  # assets: the same in both views
        rows = {row.item_key: row for row in self.history.items_by_key(keys)}
        for key in keys:
            rel = self._drafts.get(key)
            if rel is not None:
                rows[key] = self._draft_row(key, rel, rows.get(key))
        return [rows[key] for key in sorted(rows)]

    def _rows_of(self, kind: str, ct: str) -> list[ItemRow]:
        if kind != "entry":
            return super()._rows_of(kind, ct)
        rows = {row.item_key: row for row in self.history.items("entry", ct)}
        for key, rel in self._drafts_by_type.get(ct, {}).items():
            rows[key] = self._draft_row(key, rel, rows.get(key))
        return [rows[key] for key in sorted(rows)]

    def _record(self, row: ItemRow) -> JsonDict:
        record = super()._record(row)
        if row.kind == "entry" and record["publish_details"]["time"] is None:
            record["publish_details"]["time"] = row.updated_at  # never published
        return record

    def _listing(self, ct: str, locale: str, fallback: bool) -> Sequence[JsonDict]:
        # Preview builds are full builds, which read every entry anyway: no lazy listing.
        return self.entries(ct, locale, fallback)

    def _referrers(self, ct: str, uids: Collection[str]) -> frozenset[str]:
        index = self._refs.get(ct)
        if index is None:
            index = {}
            for uid, versions in self._load_all(ct).versions.items():
                for record in versions.values():
                    for ref in reference_uids(record):
                        index.setdefault(ref, set()).add(uid)
            self._refs[ct] = index
        found: set[str] = set()
        for uid in uids:
            found |= index.get(uid, set())
        return frozenset(found)
