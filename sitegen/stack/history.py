"""The publishing history of a local stack folder, kept in SQLite beside the folder.

A folder has no history of its own, yet the CDA reports versions and dates and the Sync API
reports what changed since a token. A scan compares every file with what was recorded last time
(size and mtime first, a SHA-256 only for files whose stat moved) and appends events for what
changed: entry_published / entry_unpublished / entry_deleted, asset_published / asset_deleted,
content_type_deleted. Events get increasing sequence numbers, which is what sync tokens point at
(and what a delivery cache follows, see `History.changed_since`). Beside each entry's data it
keeps the uids the entry references (table entry_refs), so "who refers to X" is an index lookup.

The file lives at ``<parent>/.<folder>.history.sqlite`` so the folder itself stays clean. A
server and a build may scan at the same time: writes happen in ``BEGIN IMMEDIATE`` transactions
that re-read the recorded state first if another connection changed it, so a change is recorded
exactly once (WAL mode and a busy
timeout let readers and the waiting writer proceed).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.content import codec
from sitegen.content.timestamps import now_iso
from sitegen.errors import StackFolderError
from sitegen.stack.folder import (
    ASSETS_DIR,
    CONTENT_TYPES_DIR,
    STACK_FILE,
    FileStat,
    Listing,
    LocalStack,
)
from sitegen.stack.records import ASSET_CONTENT_TYPE_UID, asset_record, entry_record

JsonDict = dict[str, Any]

EVENT_TYPES = (
    "entry_published",
    "entry_unpublished",
    "entry_deleted",
    "asset_published",
    "asset_unpublished",
    "asset_deleted",
    "content_type_deleted",
)
PUBLISHED_TYPES = ("entry_published", "asset_published")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    item_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_item ON files (item_key);
CREATE TABLE IF NOT EXISTS items (
    item_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content_type_uid TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    published INTEGER NOT NULL,
    version INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_type ON items (kind, content_type_uid);
CREATE TABLE IF NOT EXISTS asset_refs (
    item_key TEXT NOT NULL,
    asset_uid TEXT NOT NULL,
    PRIMARY KEY (item_key, asset_uid)
);
CREATE INDEX IF NOT EXISTS asset_refs_by_asset ON asset_refs (asset_uid);
CREATE TABLE IF NOT EXISTS entry_refs (
    item_key TEXT NOT NULL,
    ref_uid TEXT NOT NULL,
    PRIMARY KEY (item_key, ref_uid)
);
CREATE INDEX IF NOT EXISTS entry_refs_by_uid ON entry_refs (ref_uid);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    item_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type_uid TEXT NOT NULL,
    uid TEXT NOT NULL,
    locale TEXT NOT NULL,
    event_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_item ON events (item_key, seq);
"""
SCHEMA_VERSION = "1"
# SQLite's default limit on host parameters is 999 before 3.32; stay well below it.
MAX_PARAMS = 500


def default_history_path(stack_dir: Path | str) -> Path:
    """Where the history of a folder lives: beside it, never inside it."""
    folder = Path(stack_dir).resolve()
    return folder.parent / f".{folder.name}.history.sqlite"


def entry_key(content_type_uid: str, uid: str, locale: str) -> str:
    """History key of one entry in one locale."""
    return f"entry/{content_type_uid}/{uid}/{locale}"


def asset_key(uid: str) -> str:
    """History key of an asset."""
    return f"asset/{uid}"


def content_type_key(uid: str) -> str:
    """History key of a content type."""
    return f"content_type/{uid}"


@dataclass(frozen=True)
class ItemRow:
    """The recorded state of an entry (in one locale), asset or content type."""

    item_key: str
    kind: str
    content_type_uid: str
    uid: str
    locale: str
    published: bool
    version: int
    created_at: str
    updated_at: str
    published_at: str | None
    data: JsonDict


@dataclass(frozen=True)
class Event:
    """One recorded change, as the Sync API reports it (data without publish_details)."""

    seq: int
    type: str
    content_type_uid: str
    uid: str
    locale: str
    event_at: str
    data: JsonDict


@dataclass(frozen=True)
class SyncFilter:
    """What a sync asks for; fixed at init and carried by its tokens."""

    types: tuple[str, ...] = ()
    content_type_uid: str | None = None
    locale: str | None = None
    start_from: str | None = None


def _item_key_for(path: str, listing: Listing) -> str | None:
    if path in listing.entries:
        where = listing.entries[path]
        return entry_key(where.content_type_uid, where.uid, where.locale)
    parts = path.split("/")
    if parts[0] == ASSETS_DIR and len(parts) == 2 and parts[1].endswith(".json"):
        return asset_key(parts[1][: -len(".json")])
    if parts[0] == ASSETS_DIR and len(parts) == 3:
        return asset_key(parts[1])
    if parts[0] == CONTENT_TYPES_DIR and len(parts) == 2 and parts[1].endswith(".json"):
        return content_type_key(parts[1][: -len(".json")])
    return None


_ITEM_COLUMNS = (
    "item_key, kind, content_type_uid, uid, locale, published, version, created_at, updated_at,"
    " published_at, data"
)


def _item_row(r: Sequence[Any]) -> ItemRow:
    return ItemRow(
        r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9], codec.loads(r[10])
    )


def reference_uids(fields: Any) -> set[str]:
    """The uids of every reference stub in an entry's fields, at any depth.

    A stub is any object with a string "uid" and a string "_content_type_uid": whatever path a
    query's ``$in_query`` walks, the references it can resolve are among these.
    """
    found: set[str] = set()
    stack = [fields]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            uid = node.get("uid")
            if isinstance(uid, str) and isinstance(node.get("_content_type_uid"), str):
                found.add(uid)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class History:
    """Recorded versions and events of one stack folder (one SQLite connection)."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 30.0):
        self.path = Path(path)
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        with self._write():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (SCHEMA_VERSION,),
            )
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)",
                (secrets.token_hex(32),),
            )
            if (
                self._db.execute("SELECT 1 FROM items WHERE kind = 'entry' LIMIT 1").fetchone()
                is None
            ):
                # Nothing recorded yet, so entry_refs is complete from the start; a history
                # written before the table existed fills it in on first use (_ensure_entry_refs).
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('entry_refs', '1')"
                )
        self.secret = bytes.fromhex(self._meta("secret"))
        self._entry_refs_ready = False
        # The recorded (size, mtime) of every file, as of data version _data_version: what a
        # rescan compares the folder's stat pass with. Hashes and item keys stay in SQLite and
        # are read only for the files whose stat moved.
        self._stats: dict[str, FileStat] = {}
        self._data_version: int | None = None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0]

    @contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction that takes the lock up front, so check-then-write is atomic."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- scanning -------------------------------------------------------------------------

    def _load_stats(self) -> None:
        self._stats = {
            path: (size, mtime)
            for path, size, mtime in self._db.execute("SELECT path, size, mtime_ns FROM files")
        }

    def _refresh_view(self) -> bool:
        """Reload the recorded stats if another connection changed the database (or on first use).

        PRAGMA data_version only moves for commits made by *other* connections, so this
        connection's own writes keep `_stats` current without a reload.
        """
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return False
        self._load_stats()
        self._data_version = version
        return True

    def scan(self, stack: LocalStack, listing: Listing | None = None) -> bool:
        """Record what changed in the folder; True if the recorded state differs from last call.

        When no file's size or mtime moved this costs one stat per file and no hashing; when
        some did, only those files are hashed (and read, if their content changed).
        Raises StackFolderError (recording nothing) if a changed file is invalid.
        """
        listing = listing if listing is not None else stack.list_files()
        current = {p: s for p, s in listing.files.items() if p != STACK_FILE}
        changed = self._refresh_view()
        if current == self._stats:
            return changed
        with self._write():
            self._refresh_view()  # another process may have recorded these changes meanwhile
            stats = self._record(stack, listing, current)
        self._stats = stats  # only once committed: a failed scan leaves the view as it was
        return True

    def _file_rows(self, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """path -> (item_key, sha256) of the recorded files among `paths`."""
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(paths), MAX_PARAMS):
            chunk = paths[start : start + MAX_PARAMS]
            marks = ", ".join("?" for _ in chunk)
            for path, key, sha in self._db.execute(
                f"SELECT path, item_key, sha256 FROM files WHERE path IN ({marks})", chunk
            ):
                found[path] = (key, sha)
        return found

    def _item_files(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """item_key -> ["path\0sha256\n", ...] of the recorded files of those items."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(keys), MAX_PARAMS):
            chunk = keys[start : start + MAX_PARAMS]
            marks = ", ".join("?" for _ in chunk)
            for key, path, sha in self._db.execute(
                f"SELECT item_key, path, sha256 FROM files WHERE item_key IN ({marks})", chunk
            ):
                found.setdefault(key, []).append(f"{path}\0{sha}\n")
        return found

    def _record(
        self, stack: LocalStack, listing: Listing, current: dict[str, FileStat]
    ) -> dict[str, FileStat]:
        """Record the files whose stat differs from `_stats`; returns the new recorded stats."""
        recorded = self._stats
        moved = [path for path, stat in current.items() if recorded.get(path) != stat]
        removed = sorted(recorded.keys() - current.keys())
        old = self._file_rows(moved + removed)
        stats = dict(recorded)
        dirty: set[str] = set()
        written: list[tuple[str, str, int, int, str]] = []
        for path in moved:
            key = _item_key_for(path, listing)
            if key is None:
                continue
            stat = current[path]
            try:
                sha = _sha256(stack.root / path)
            except FileNotFoundError:
                raise StackFolderError(
                    f"{stack.shown(path)}: disappeared while being read; run the command again."
                ) from None
            stats[path] = stat
            written.append((path, key, stat[0], stat[1], sha))
            row = old.get(path)
            if row is None or row[1] != sha:
                dirty.add(key)
        for path in removed:
            del stats[path]
            row = old.get(path)
            if row is not None:
                dirty.add(row[0])
        self._db.executemany(
            "INSERT OR REPLACE INTO files (path, item_key, size, mtime_ns, sha256) "
            "VALUES (?, ?, ?, ?, ?)",
            written,
        )
        self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in removed])
        if not dirty:
            return stats
        hashes = {
            key: hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()
            for key, lines in self._item_files(sorted(dirty)).items()
        }
        now = now_iso()
        order = {"asset": 0, "entry": 1, "content_type": 2}
        deleted_assets: list[str] = []
        for key in sorted(dirty, key=lambda k: (order[k.split("/", 1)[0]], k)):
            kind = key.split("/", 1)[0]
            item_hash = hashes.get(key)
            if kind == "entry":
                self._apply_entry(key, item_hash, stack, listing, now)
            elif kind == "asset":
                if self._apply_asset(key, item_hash, stack, listing, now):
                    deleted_assets.append(key.split("/", 1)[1])
            else:
                self._apply_content_type(key, item_hash, stack, now)
        self._check_dangling_assets(stack, listing, deleted_assets)
        return stats

    def _raw_item(self, key: str) -> tuple[int, int, str, str] | None:
        cursor = self._db.execute(
            "SELECT published, version, first_seen, item_hash FROM items WHERE item_key = ?",
            (key,),
        )
        return cursor.fetchone()

    def _event(
        self,
        kind: str,
        type_: str,
        key: str,
        ct: str,
        uid: str,
        locale: str,
        at: str,
        data: JsonDict,
    ) -> None:
        self._db.execute(
            "INSERT INTO events (type, item_key, kind, content_type_uid, uid, locale, event_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (type_, key, kind, ct, uid, locale, at, json.dumps(data, separators=(",", ":"))),
        )

    def _store_item(self, row: ItemRow, item_hash: str, first_seen: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO items (item_key, kind, content_type_uid, uid, locale, item_hash,"
            " published, version, first_seen, created_at, updated_at, published_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.item_key,
                row.kind,
                row.content_type_uid,
                row.uid,
                row.locale,
                item_hash,
                int(row.published),
                row.version,
                first_seen,
                row.created_at,
                row.updated_at,
                row.published_at,
                json.dumps(row.data, separators=(",", ":")),
            ),
        )

    def _forget_item(self, key: str) -> None:
        self._db.execute("DELETE FROM items WHERE item_key = ?", (key,))
        self._db.execute("DELETE FROM asset_refs WHERE item_key = ?", (key,))
        self._db.execute("DELETE FROM entry_refs WHERE item_key = ?", (key,))

    def _apply_entry(
        self, key: str, item_hash: str | None, stack: LocalStack, listing: Listing, now: str
    ) -> None:
        _, ct, uid, locale = key.split("/")
        old = self._raw_item(key)
        if item_hash is None:
            if old is not None:
                if old[0]:
                    self._event(
                        "entry",
                        "entry_deleted",
                        key,
                        ct,
                        uid,
                        locale,
                        now,
                        {"uid": uid, "locale": locale},
                    )
                self._forget_item(key)
            return
        if old is not None and old[3] == item_hash:
            return
        rel = listing.entry_file(ct, uid, locale)
        entry = stack.read_entry(rel, listing.entries[rel], listing.asset_uids)
        version = old[1] + 1 if old is not None else 1
        first_seen = old[2] if old is not None else now
        created_at = entry.created_at or first_seen
        updated_at = entry.updated_at or now
        published_at = None
        if entry.published:
            published_at = now
            record = entry_record(
                entry.fields,
                uid=uid,
                locale=locale,
                version=version,
                created_at=created_at,
                updated_at=updated_at,
                stack_name=stack.name,
            )
            self._event("entry", "entry_published", key, ct, uid, locale, now, record)
        elif old is not None and old[0]:
            self._event(
                "entry",
                "entry_unpublished",
                key,
                ct,
                uid,
                locale,
                now,
                {"uid": uid, "locale": locale},
            )
        row = ItemRow(
            item_key=key,
            kind="entry",
            content_type_uid=ct,
            uid=uid,
            locale=locale,
            published=entry.published,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            published_at=published_at,
            data=entry.fields,
        )
        self._store_item(row, item_hash, first_seen)
        self._db.execute("DELETE FROM asset_refs WHERE item_key = ?", (key,))
        self._db.executemany(
            "INSERT INTO asset_refs (item_key, asset_uid) VALUES (?, ?)",
            [(key, ref) for ref in sorted(entry.asset_refs)],
        )
        self._store_entry_refs(key, entry.fields)

    def _store_entry_refs(self, key: str, fields: JsonDict) -> None:
        self._db.execute("DELETE FROM entry_refs WHERE item_key = ?", (key,))
        self._db.executemany(
            "INSERT INTO entry_refs (item_key, ref_uid) VALUES (?, ?)",
            [(key, uid) for uid in sorted(reference_uids(fields))],
        )

    def _ensure_entry_refs(self) -> None:
        """Fill entry_refs for entries recorded before it existed (once per history file)."""
        if self._entry_refs_ready:
            return
        if self._db.execute("SELECT 1 FROM meta WHERE key = 'entry_refs'").fetchone() is None:
            with self._write():
                if (
                    self._db.execute("SELECT 1 FROM meta WHERE key = 'entry_refs'").fetchone()
                    is None
                ):
                    self._db.execute("DELETE FROM entry_refs")
                    rows = self._db.execute(
                        "SELECT item_key, data FROM items WHERE kind = 'entry'"
                    ).fetchall()
                    for key, data in rows:
                        self._store_entry_refs(key, codec.loads(data))
                    self._db.execute("INSERT INTO meta (key, value) VALUES ('entry_refs', '1')")
        self._entry_refs_ready = True

    def _apply_asset(
        self, key: str, item_hash: str | None, stack: LocalStack, listing: Listing, now: str
    ) -> bool:
        """Record an asset change; True if the asset was deleted."""
        uid = key.split("/", 1)[1]
        old = self._raw_item(key)
        master = stack.master_locale
        if item_hash is None or f"{ASSETS_DIR}/{uid}.json" not in listing.files:
            if old is not None:
                self._event(
                    "asset",
                    "asset_deleted",
                    key,
                    ASSET_CONTENT_TYPE_UID,
                    uid,
                    "",
                    now,
                    {"uid": uid, "locale": master},
                )
                self._forget_item(key)
                return True
            return False
        if old is not None and old[3] == item_hash:
            return False
        asset = stack.read_asset(uid, listing)
        version = old[1] + 1 if old is not None else 1
        first_seen = old[2] if old is not None else now
        record = asset_record(
            asset, version=version, created_at=first_seen, updated_at=now, stack_name=stack.name
        )
        self._event("asset", "asset_published", key, ASSET_CONTENT_TYPE_UID, uid, "", now, record)
        row = ItemRow(
            item_key=key,
            kind="asset",
            content_type_uid=ASSET_CONTENT_TYPE_UID,
            uid=uid,
            locale="",
            published=True,
            version=version,
            created_at=first_seen,
            updated_at=now,
            published_at=now,
            data=record,
        )
        self._store_item(row, item_hash, first_seen)
        return False

    def _apply_content_type(
        self, key: str, item_hash: str | None, stack: LocalStack, now: str
    ) -> None:
        uid = key.split("/", 1)[1]
        old = self._raw_item(key)
        if item_hash is None:
            if old is not None:
                self._event("content_type", "content_type_deleted", key, uid, uid, "", now, {})
                self._forget_item(key)
            return
        if (old is not None and old[3] == item_hash) or uid not in stack.content_types:
            return
        version = old[1] + 1 if old is not None else 1
        first_seen = old[2] if old is not None else now
        row = ItemRow(
            item_key=key,
            kind="content_type",
            content_type_uid=uid,
            uid=uid,
            locale="",
            published=True,
            version=version,
            created_at=first_seen,
            updated_at=now,
            published_at=None,
            data=stack.content_types[uid],
        )
        self._store_item(row, item_hash, first_seen)

    def _check_dangling_assets(
        self, stack: LocalStack, listing: Listing, deleted: Sequence[str]
    ) -> None:
        for uid in deleted:
            row = self._db.execute(
                "SELECT item_key FROM asset_refs WHERE asset_uid = ? ORDER BY item_key LIMIT 1",
                (uid,),
            ).fetchone()
            if row is not None:
                _, ct, entry_uid, locale = row[0].split("/")
                rel = listing.entry_file(ct, entry_uid, locale)
                raise StackFolderError(
                    f'{stack.shown(rel)}: a file field points at asset "{uid}", whose '
                    f"{ASSETS_DIR}/{uid}.json was removed; restore the asset or change the entry."
                )

    # -- reading --------------------------------------------------------------------------

    def items(
        self, kind: str, content_type_uid: str | None = None, *, published_only: bool = False
    ) -> list[ItemRow]:
        """Recorded items of a kind ("entry", "asset", "content_type"), published or not."""
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE kind = ?"
        params: list[Any] = [kind]
        if content_type_uid is not None:
            sql += " AND content_type_uid = ?"
            params.append(content_type_uid)
        if published_only:
            sql += " AND published = 1"
        return [_item_row(r) for r in self._db.execute(sql + " ORDER BY item_key", params)]

    def published_entries(self, content_type_uid: str) -> list[tuple[str, str, str]]:
        """(uid, locale, updated_at) of the published entries of a content type, data left out."""
        return self._db.execute(
            "SELECT uid, locale, updated_at FROM items"
            " WHERE kind = 'entry' AND content_type_uid = ? AND published = 1",
            (content_type_uid,),
        ).fetchall()

    def items_by_key(self, keys: Sequence[str], *, published_only: bool = False) -> list[ItemRow]:
        """The recorded items among these keys (see entry_key / asset_key), in key order."""
        found: list[ItemRow] = []
        extra = " AND published = 1" if published_only else ""
        for start in range(0, len(keys), MAX_PARAMS):
            chunk = keys[start : start + MAX_PARAMS]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE item_key IN ({marks}){extra}"
            found.extend(_item_row(r) for r in self._db.execute(sql, chunk))
        found.sort(key=lambda row: row.item_key)
        return found

    def referrers(self, content_type_uid: str, uids: Collection[str]) -> frozenset[str]:
        """Uids of the entries of a content type (in any locale, published or not) whose fields
        hold a reference to one of `uids`: a dict with that "uid" and a "_content_type_uid",
        wherever it sits (see `reference_uids`)."""
        self._ensure_entry_refs()
        wanted = sorted(uids)
        found: set[str] = set()
        for start in range(0, len(wanted), MAX_PARAMS):
            chunk = wanted[start : start + MAX_PARAMS]
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(
                "SELECT DISTINCT i.uid FROM entry_refs r JOIN items i ON i.item_key = r.item_key"
                f" WHERE r.ref_uid IN ({marks}) AND i.kind = 'entry' AND i.content_type_uid = ?",
                [*chunk, content_type_uid],
            )
            found.update(uid for (uid,) in rows)
        return frozenset(found)

    def changed_since(self, seq: int) -> tuple[int, set[tuple[str, str, str]]]:
        """The latest sequence number and the (kind, content_type_uid, uid) of every item with
        an event after `seq`: what a delivery cache taken at `seq` must forget.

        Every change to what is delivered (an entry or asset published, unpublished or deleted)
        is an event; edits of unpublished entries, which deliver nothing, are not.
        """
        hi = self.max_seq()
        rows = self._db.execute(
            "SELECT DISTINCT kind, content_type_uid, uid FROM events WHERE seq > ? AND seq <= ?",
            (seq, hi),
        )
        return hi, {(kind, ct, uid) for kind, ct, uid in rows}

    def max_seq(self) -> int:
        """The sequence number of the latest event (0 when nothing was recorded)."""
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def _sync_where(self, lo: int, hi: int, init: bool, filt: SyncFilter) -> tuple[str, list[Any]]:
        # The latest event of each item inside (lo, hi]: earlier ones are superseded.
        clauses = [
            "e.seq > ? AND e.seq <= ?",
            "NOT EXISTS (SELECT 1 FROM events l WHERE l.item_key = e.item_key"
            " AND l.seq > e.seq AND l.seq <= ?)",
        ]
        params: list[Any] = [lo, hi, hi]
        types = list(filt.types) if filt.types else list(EVENT_TYPES)
        if init:
            types = [t for t in types if t in PUBLISHED_TYPES]
        clauses.append(f"e.type IN ({', '.join('?' for _ in types)})" if types else "0")
        params.extend(types)
        if filt.content_type_uid is not None:
            clauses.append("e.content_type_uid = ?")
            params.append(filt.content_type_uid)
        if filt.locale is not None:
            clauses.append("(e.kind != 'entry' OR e.locale = ?)")
            params.append(filt.locale)
        if init and filt.start_from is not None:
            clauses.append("e.event_at >= ?")
            params.append(filt.start_from)
        return " AND ".join(clauses), params

    def sync_count(self, lo: int, hi: int, *, init: bool, filt: SyncFilter) -> int:
        """How many items a sync over the events (lo, hi] reports in total."""
        where, params = self._sync_where(lo, hi, init, filt)
        return self._db.execute(f"SELECT COUNT(*) FROM events e WHERE {where}", params).fetchone()[
            0
        ]

    def sync_events(
        self, lo: int, hi: int, *, after: int, init: bool, filt: SyncFilter, limit: int
    ) -> list[Event]:
        """The next `limit` sync items after sequence `after`, in sequence order."""
        where, params = self._sync_where(lo, hi, init, filt)
        sql = (
            "SELECT e.seq, e.type, e.content_type_uid, e.uid, e.locale, e.event_at, e.data"
            f" FROM events e WHERE {where} AND e.seq > ? ORDER BY e.seq LIMIT ?"
        )
        rows = self._db.execute(sql, [*params, after, limit]).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], codec.loads(r[6])) for r in rows]

    def events(self) -> list[Event]:
        """Every recorded event in order (for tests and debugging)."""
        rows = self._db.execute(
            "SELECT seq, type, content_type_uid, uid, locale, event_at, data FROM events ORDER BY seq"
        ).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], codec.loads(r[6])) for r in rows]
