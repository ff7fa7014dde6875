"""Content as last pulled: content types, assets, entries and the references between them.

Entries are stored per content type, uid and locale asked for, with a hash of their data, a
short summary of their plain fields (:class:`LazyEntry` reads listings from it without
decoding bodies) and the uids their include tree and embedded items hold, so an incremental
build finds every entry a changed one shows.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sitegen.content import codec
from sitegen.content.order import FIELD_UID
from sitegen.store.sql import ASSET_FILES_SCHEMA, BATCH, Part

EntryKey = tuple[str, str, str]  # (content type, uid, locale)

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
    return _digest(codec.dumps_fields({**entry, "_content_type_uid": content_type}, ())[0])


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
    plain = _plain_fields(entry)
    data, spans = codec.dumps_fields(entry, plain)
    url = entry.get("url")
    row = (
        content_type,
        entry["uid"],
        locale,
        str(entry.get("locale") or locale),
        str(entry.get("updated_at") or ""),
        url if isinstance(url, str) and url.strip() else None,
        _digest(data),  # = entry_hash(content_type, entry), without a second dumps
        _summary(entry, plain, spans),
        data,
    )
    return row, references(entry, data)


class ContentTables(Part):
    """Content types, assets, downloaded asset files, entries and their references."""

    def __init__(self, db: sqlite3.Connection):
        super().__init__(db)
        # entries stored or deleted one by one since opened (an incremental build's changes)
        self.changed_entries: set[EntryKey] = set()

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

    def entry_bytes(self, key: EntryKey, start: int, end: int) -> bytes:
        """Bytes ``start:end`` of an entry's stored data in UTF-8 (one field's text)."""
        row = self.db.execute(
            "SELECT substr(CAST(data AS BLOB), ?, ?) FROM entries"
            " WHERE content_type = ? AND uid = ? AND locale = ?",
            (start + 1, end - start, *key),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def lazy_by_key(self, keys: list[EntryKey]) -> dict[EntryKey, LazyEntry]:
        """A few entries (a listing page's) as :class:`LazyEntry`, each with its data at hand:
        what a template reads of them is decoded, not the rest."""
        result: dict[EntryKey, LazyEntry] = {}
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            values = ",".join(["(?, ?, ?)"] * len(chunk))
            for ct, uid, locale, summary, data in self.db.execute(
                f"WITH wanted (ct, id, loc) AS (VALUES {values})"
                " SELECT content_type, uid, locale, summary, CAST(data AS BLOB)"
                " FROM wanted JOIN entries"
                " ON content_type = wanted.ct AND uid = wanted.id AND locale = wanted.loc",
                [v for key in chunk for v in key],
            ):
                key = (ct, uid, locale)
                result[key] = LazyEntry(summary, self, key, data)
        return result

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
        # the keys as a VALUES table joined on the primary key: OR-ed key clauses beside the
        # other conditions made SQLite scan every entry with a url (0.37 s per 300 keys at
        # 10k × 2 entries, against 2 ms for the join)
        columns = "content_type, uid, locale, url, updated_at"
        conditions = base.split(" WHERE ", 1)[1]
        for i in range(0, len(keys), BATCH):
            chunk = keys[i : i + BATCH]
            values = ",".join(["(?, ?, ?)"] * len(chunk))
            yield from self.db.execute(
                f"WITH wanted (ct, id, loc) AS (VALUES {values})"
                f" SELECT {columns} FROM wanted JOIN entries"
                " ON content_type = wanted.ct AND uid = wanted.id AND locale = wanted.loc"
                f" WHERE {conditions}",
                (*[v for k in chunk for v in k], *cts, *locs),
            ).fetchall()


SUMMARY_TEXT_LIMIT = 500


def _plain_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields a summary holds: scalars and short strings."""
    return {
        k: v
        for k, v in entry.items()
        if v is None
        or isinstance(v, bool | int | float)
        or (isinstance(v, str) and len(v) <= SUMMARY_TEXT_LIMIT)
    }


def _summary(entry: dict[str, Any], plain: dict[str, Any], spans: list[int] | None) -> str:
    """The entry's short plain fields, the names of all its fields and where the others are
    in its data (see LazyEntry)."""
    summary: dict[str, Any] = {"fields": plain, "keys": sorted(entry)}
    if spans is not None:
        summary["spans"] = spans
    return dumps(summary)


# (field names with values in the summary, all field names, spans or not) → (name → index,
# names, order, other name → span index): the entries of one content type share a handful of
# shapes, so each entry keeps only tuples
Shape = tuple[dict[str, int], frozenset[str], tuple[str, ...], dict[str, int]]
_SHAPES: dict[tuple[tuple[str, ...], tuple[str, ...], bool], Shape] = {}


class LazyEntry(Mapping[str, Any]):
    """An entry that decodes its summary first, and any other field only when it is read.

    Collections of tens of thousands of these are kept for a whole build, so the summary is
    decoded on first use and then held as a tuple of values beside a shape shared by every
    entry with the same fields, not as a dict (and its text) per entry. A field outside the
    summary is decoded alone from its span of the entry's data (UTF-8 bytes, read from the
    store, or given with ``data`` for the few entries of a listing page); an entry stored
    without spans is decoded whole.
    """

    __slots__ = (
        "_data_raw",
        "_full",
        "_key",
        "_read",
        "_shape",
        "_spans",
        "_store",
        "_text",
        "_values",
    )

    def __init__(
        self, summary: str, store: ContentTables, key: EntryKey, data: bytes | None = None
    ):
        self._text: str | None = summary  # decoded on first use: a listing may show 20 of 10,000
        self._shape: Shape | None = None
        self._values: tuple[Any, ...] = ()
        self._spans: tuple[int, ...] = ()
        self._store = store
        self._key = key
        self._data_raw = data
        self._read: dict[str, Any] | None = None  # fields outside the summary, as decoded
        self._full: dict[str, Any] | None = None

    def _parsed(self) -> Shape:
        if self._shape is None:
            data = codec.loads(self._text or '{"fields": {}, "keys": []}')
            fields: dict[str, Any] = data["fields"]
            spans = data.get("spans")
            shape_key = (tuple(fields), tuple(data["keys"]), spans is not None)
            shape = _SHAPES.get(shape_key)
            if shape is None:
                names = shape_key[0]
                others = [k for k in shape_key[1] if k not in fields] if spans is not None else []
                shape = _SHAPES[shape_key] = (
                    {name: i for i, name in enumerate(names)},
                    frozenset(shape_key[1]),
                    shape_key[1],
                    {name: 2 * i for i, name in enumerate(others)},
                )
            self._shape, self._values, self._text = shape, tuple(fields.values()), None
            self._spans = tuple(spans or ())
        return self._shape

    def _data(self) -> dict[str, Any]:
        if self._full is None:
            raw = self._data_raw
            self._full = codec.loads(raw) if raw is not None else self._store.entry_data(self._key)
            self._data_raw = self._read = None
        return self._full

    def __getitem__(self, name: str) -> Any:
        index, names, _, spanned = self._parsed()
        if self._full is None:
            position = index.get(name)
            if position is not None:
                return self._values[position]
            if name not in names:
                raise KeyError(name)
            at = spanned.get(name)
            if at is not None:
                if self._read is None:
                    self._read = {}
                elif name in self._read:
                    return self._read[name]
                start, end = self._spans[at], self._spans[at + 1]
                raw = self._data_raw
                piece = (
                    raw[start:end]
                    if raw is not None
                    else self._store.entry_bytes(self._key, start, end)
                )
                value = self._read[name] = codec.loads(piece)
                return value
        return self._data()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._parsed()[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed()[2])

    def __len__(self) -> int:
        return len(self._parsed()[2])

    def __repr__(self) -> str:
        return f"<entry {self._key[1]} of {self._key[0]} in {self._key[2]}>"
