"""From Sync API items to an updated store and the set of rows that really changed.

A sync item names an entry that changed in one locale, but what a site shows depends on more:
fallback makes one locale's change visible in others, and an entry's delivered data embeds the
entries and assets of its include tree and rich text. So an incremental build fetches again the
changed entry in every configured locale, every stored entry whose tree or embedded items hold
a changed uid, and (for entries appearing for the first time, to which dropped references may
point) the entries whose reference fields name them; then it repeats for whatever changed in
turn. Rows are compared by hash, so only real changes reach the render stage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sitegen.build.pull import fetch_entries, fetch_referrers
from sitegen.config import SiteConfig
from sitegen.source.cda import CDAClient
from sitegen.source.tasks import gather
from sitegen.store.content import ContentTables, EntryKey, entry_hash

ENTRY_EVENTS = ("entry_published", "entry_unpublished", "entry_deleted")
ASSET_EVENTS = ("asset_published", "asset_unpublished", "asset_deleted")


@dataclass
class ContentChanges:
    """What an incremental update changed in the store."""

    rows: set[EntryKey] = field(default_factory=set)  # changed, added or removed entry rows
    urls: set[str] = field(default_factory=set)  # "uid/locale" whose url changed
    collections: set[str] = field(default_factory=set)  # "content type/locale"
    entries: set[str] = field(default_factory=set)  # uids named by the sync items
    assets: set[str] = field(default_factory=set)
    content_types_deleted: set[str] = field(default_factory=set)
    taxonomies: set[str] = field(default_factory=set)  # uids whose terms or names moved
    taxonomy_deps: set[str] = field(default_factory=set)  # what of them moved (taxonomies.DEP)
    fetched: int = 0  # entry rows fetched again

    def note(self, key: EntryKey, url_changed: bool) -> None:
        self.rows.add(key)
        self.collections.add(f"{key[0]}/{key[2]}")
        if url_changed:
            self.urls.add(f"{key[1]}/{key[2]}")


async def apply_sync(
    config: SiteConfig, content: ContentTables, client: CDAClient, items: list[dict[str, Any]]
) -> ContentChanges:
    """Bring the store up to date with the sync items (inside the caller's transaction)."""
    locales = [loc.code for loc in config.locales]
    changes = ContentChanges()
    touched: dict[str, str] = {}  # entry uid → content type
    for item in items:
        kind = item.get("type")
        content_type = item.get("content_type_uid") or ""
        data = item.get("data") or {}
        uid = data.get("uid")
        if kind in ENTRY_EVENTS and isinstance(uid, str):
            touched[uid] = content_type
        elif kind == "asset_published" and isinstance(uid, str):
            content.put_assets([data])
            changes.assets.add(uid)
        elif kind in ASSET_EVENTS and isinstance(uid, str):
            content.delete_asset(uid)
            changes.assets.add(uid)
        elif kind == "content_type_deleted":
            changes.content_types_deleted.add(content_type)
    changes.entries = set(touched)

    content_types = content.content_types()
    if any(ct not in content_types for ct in touched.values()):
        content.put_content_types(await client.content_types())
        content_types = content.content_types()
    seeds = set(touched) | changes.assets
    for content_type in changes.content_types_deleted:
        for key in content.entry_keys_of_type(content_type):
            _remove(content, key, changes)
            seeds.add(key[1])
        content.delete_content_type(content_type)
        content_types.pop(content_type, None)
    touched = {uid: ct for uid, ct in touched.items() if ct in content_types}

    known_before = content.known_uids(touched)
    new_by_type: dict[str, set[str]] = defaultdict(set)
    for uid, content_type in touched.items():
        if uid not in known_before:
            new_by_type[content_type].add(uid)

    old_refs: dict[EntryKey, set[str]] = {}
    targets = {(ct, uid, loc) for uid, ct in touched.items() for loc in locales}
    targets |= content.referrers(seeds, locales)
    done: set[EntryKey] = set()
    first_round = True
    while targets - done:
        batch = targets - done
        referrers: dict[EntryKey, dict[str, Any]] = {}
        if first_round and new_by_type:
            for loc in locales:
                found = await fetch_referrers(client, content_types, dict(new_by_type), loc)
                for content_type, entries in found.items():
                    for entry in entries:
                        key = (content_type, entry["uid"], loc)
                        referrers[key] = entry
                        batch.add(key)
        first_round = False
        done |= batch
        changes.fetched += len(batch)
        changed_uids = set()
        # a chunk at a time, by content type and locale (whole requests of 100): an author
        # rename at 50,000 posts refetches 5,000 entries, which must not all be in memory
        ordered = sorted(batch, key=lambda k: (k[0], k[2], k[1]))
        for start in range(0, len(ordered), FETCH_CHUNK):
            chunk = ordered[start : start + FETCH_CHUNK]
            fetched = await _fetch(client, {key for key in chunk if key not in referrers})
            for key in chunk:
                old_refs.setdefault(key, content.refs_of(key))
                entry = referrers[key] if key in referrers else fetched.get(key)
                if _apply(content, key, entry, changes):
                    changed_uids.add(key[1])
        targets |= content.referrers(changed_uids, locales)

    _keep_dangling_refs(content, old_refs, changes)
    return changes


FETCH_CHUNK = 1000  # changed entries fetched and stored at a time


async def _fetch(client: CDAClient, keys: set[EntryKey]) -> dict[EntryKey, dict[str, Any]]:
    """Fetch rows grouped by content type and locale; missing rows are simply absent."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for content_type, uid, locale in keys:
        groups[(content_type, locale)].add(uid)
    order = sorted(groups)
    results = await gather([fetch_entries(client, ct, loc, groups[(ct, loc)]) for ct, loc in order])
    fetched: dict[EntryKey, dict[str, Any]] = {}
    for (content_type, locale), entries in zip(order, results, strict=True):
        for entry in entries:
            fetched[(content_type, entry["uid"], locale)] = entry
    return fetched


def _apply(
    content: ContentTables, key: EntryKey, entry: dict[str, Any] | None, changes: ContentChanges
) -> bool:
    """Store a fetched row (or its absence); True when the stored row changed."""
    old = content.entry_state(key)
    if entry is None:
        if old is None:
            return False
        _remove(content, key, changes)
        return True
    new_url = (
        entry.get("url") if isinstance(entry.get("url"), str) and entry["url"].strip() else None
    )
    if old is not None and old[0] == entry_hash(key[0], entry):
        return False
    content.put_entry(key[0], key[2], entry)
    changes.note(key, url_changed=old is None or old[1] != new_url)
    return True


def _remove(content: ContentTables, key: EntryKey, changes: ContentChanges) -> None:
    had_url = content.entry_state(key)
    content.delete_entry(key)
    changes.note(key, url_changed=bool(had_url and had_url[1]))


def _keep_dangling_refs(
    content: ContentTables, old_refs: dict[EntryKey, set[str]], changes: ContentChanges
) -> None:
    """Remember references to items that are gone, so their return re-fetches the referrer.

    Delivered data drops an unpublished reference, so without this the store would forget
    that the entry pointed at it.
    """
    for key, refs in old_refs.items():
        if key not in changes.rows or content.entry_state(key) is None:
            continue
        gone = refs - content.known_uids(refs) - content.known_assets(refs)
        if gone:
            content.add_refs(key, gone)


class NeedsFullBuild(Exception):
    """The stored content cannot be brought up to date by the Sync API's delta (a schema or
    the branch behind an alias changed); the message says what."""


# What of a content type shapes its entries as delivered and rendered
SCHEMA_KEYS = ("title", "schema", "options")


def check_content_types(stored: dict[str, dict[str, Any]], fresh: list[dict[str, Any]]) -> None:
    """Raise NeedsFullBuild when a stored content type's schema changed (a global field's
    schema is inline in it, so editing a global field counts). The Sync API reports no such
    change, so the content types are asked for on every incremental build: one request."""
    changed = sorted(
        ct["uid"]
        for ct in fresh
        if ct.get("uid") in stored
        and any(ct.get(key) != stored[ct["uid"]].get(key) for key in SCHEMA_KEYS)
    )
    if changed:
        names = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise NeedsFullBuild(
            f"the schema of content {'type' if len(changed) == 1 else 'types'} {names} changed "
            "(or a global field they use)"
        )
