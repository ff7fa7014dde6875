"""What the Content Delivery API does to an entry on its way out.

A :class:`Catalog` holds the published entries and assets of the history and answers, per
locale, which version of each entry is served (the locale itself, or with ``include_fallback``
the first published locale along the fallback chain). Rendering an entry expands file fields into
asset objects, replaces references by entries for ``include_all`` / ``include[]`` (depth-limited;
an entry is not expanded inside itself, so cycles end), adds ``_embedded_items`` for RTE fields
and applies only/except projections.

Entries are read from the history per uid when that is all a request needs (a query pinning
uids, a reference, an embedded item) and per content type when a request lists one. Lists per
content type, locale and query are cached, so paging through a large content type costs a slice
per page; after a rescan :meth:`Catalog.catch_up` forgets only the items that changed and the
lists built from them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, overload

from sitegen.content.query import MatchContext, filter_docs, pinned_uids, project, sort_docs
from sitegen.stack.folder import LocalStack
from sitegen.stack.history import Event, History, ItemRow, asset_key, entry_key
from sitegen.stack.records import (
    ASSET_CONTENT_TYPE_UID,
    entry_record,
    environment_uid,
    publish_details,
    user_uid,
)
from sitegen.stack.schema import as_list, is_html_rte, is_json_rte, iter_leaves, map_leaves

JsonDict = dict[str, Any]
Sort = tuple[str, bool] | None  # (field, descending)

MAX_INCLUDE_DEPTH = 5


@dataclass(frozen=True)
class DeliveryOptions:
    """How entries are to be delivered, from the request's parameters."""

    environment: str
    locale: str
    fallback: bool = False
    include_all_depth: int = 0
    include: tuple[str, ...] = ()
    embedded_items: bool = False
    only: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class EmbeddedRef:
    """An entry or asset embedded in a rich text field."""

    kind: str  # "entry" or "asset"
    uid: str
    content_type_uid: str


def default_order(docs: Iterable[JsonDict]) -> list[JsonDict]:
    """The CDA's order when no asc/desc is given: newest updated_at first, then uid."""
    by_uid = sorted(docs, key=lambda d: d.get("uid", ""))
    return sorted(by_uid, key=lambda d: d.get("updated_at", ""), reverse=True)


class _FigureParser(HTMLParser):
    """Collects embedded entries/assets from HTML RTE markup (figures, links, images)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[EmbeddedRef] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        entry_uid = values.get("data-sys-entry-uid")
        if entry_uid and values.get("data-sys-content-type-uid"):
            self.refs.append(EmbeddedRef("entry", entry_uid, values["data-sys-content-type-uid"]))
        asset_uid = values.get("data-sys-asset-uid")
        if asset_uid:
            self.refs.append(EmbeddedRef("asset", asset_uid, ASSET_CONTENT_TYPE_UID))


def html_embedded_refs(html: str) -> list[EmbeddedRef]:
    """Entries and assets embedded in an HTML RTE value, in document order."""
    parser = _FigureParser()
    parser.feed(html)
    parser.close()
    return parser.refs


def json_embedded_refs(node: Any) -> list[EmbeddedRef]:
    """Entries and assets embedded in a JSON RTE document (its `reference` nodes)."""
    refs: list[EmbeddedRef] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(reversed(current))
            continue
        if not isinstance(current, dict):
            continue
        if current.get("type") == "reference":
            attrs = current.get("attrs") or {}
            if attrs.get("type") == "asset" and attrs.get("asset-uid"):
                refs.append(EmbeddedRef("asset", attrs["asset-uid"], ASSET_CONTENT_TYPE_UID))
            elif attrs.get("type") == "entry" and attrs.get("entry-uid"):
                ct = attrs.get("content-type-uid")
                if ct:
                    refs.append(EmbeddedRef("entry", attrs["entry-uid"], ct))
        stack.extend(reversed(current.get("children") or []))
    return refs


def embedded_refs(schema: list[JsonDict], data: JsonDict) -> dict[str, list[EmbeddedRef]]:
    """Embedded items of every RTE field, keyed by field path, duplicates removed."""
    found: dict[str, list[EmbeddedRef]] = {}
    for fdef, value, path in iter_leaves(schema, data):
        if is_json_rte(fdef):
            refs = [r for doc in as_list(value) for r in json_embedded_refs(doc)]
        elif is_html_rte(fdef):
            refs = [
                r
                for html in as_list(value)
                if isinstance(html, str)
                for r in html_embedded_refs(html)
            ]
        else:
            continue
        bucket = found.setdefault(path, [])
        for ref in refs:
            if ref not in bucket:
                bucket.append(ref)
    return {path: refs for path, refs in found.items() if refs}


class _Published:
    """Published items of one content type (or the assets), loaded per uid or all at once.

    `versions` maps a uid to its published versions by locale (assets use the locale "");
    a uid present there is loaded, with ``{}`` when nothing of it is published. When
    `complete`, every published uid is in `versions` except those in `stale`, which changed
    since and are read again before they are used.
    """

    __slots__ = ("complete", "stale", "versions")

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, JsonDict]] = {}
        self.complete = False
        self.stale: set[str] = set()

    def missing(self, uids: Iterable[str]) -> list[str]:
        """The uids that must be read before they can be answered for."""
        if self.complete:
            return [u for u in uids if u in self.stale]
        return [u for u in uids if u not in self.versions]

    def forget(self, uid: str) -> None:
        """Drop a uid that changed; a complete bucket reads it again when it is next used."""
        self.versions.pop(uid, None)
        if self.complete:
            self.stale.add(uid)


class _LazyListing(Sequence[JsonDict]):
    """A content type's entries for one locale, in default order, whose data is read per slice.

    What the default order needs (uid, locale served, updated_at) comes from the history
    without the entries' data; a page asks for a slice, and only that slice is read.
    """

    def __init__(self, catalog: Catalog, ct: str, order: list[tuple[str, str]]):
        self._catalog = catalog
        self._ct = ct
        self._order = order  # (uid, locale served)

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> JsonDict: ...

    @overload
    def __getitem__(self, index: slice) -> list[JsonDict]: ...

    def __getitem__(self, index: int | slice) -> JsonDict | list[JsonDict]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        picked = self._order[index]
        self._catalog._load(self._ct, [uid for uid, _ in picked])
        versions = self._catalog._bucket(self._ct).versions
        found = []
        for uid, code in picked:
            entry = versions.get(uid, {}).get(code)
            if entry is not None:  # None only if another process changed it meanwhile
                found.append(entry)
        return found


class RenderMemo:
    """Referenced entries rendered once per request, not once per entry that references them.

    A page of 100 posts names the same few authors and categories again and again; with
    ``include_all`` each was rendered (with its own references) for every post. A rendering
    is reused where it cannot differ: same entry, depth left and includes, and none of the
    entries it reached is an ancestor of the new place (an ancestor is left as a stub, so
    a rendering that met one is not kept at all). Reused renderings are shallow copies; no
    one changes a delivered entry's nested values.
    """

    def __init__(self) -> None:
        self._done: dict[tuple[Any, ...], tuple[JsonDict, frozenset]] = {}
        self._open: list[tuple[set, list[bool]]] = []  # (entries reached, [no cycle met])

    def touch(self, key: tuple[Any, Any]) -> None:
        for reached, _ in self._open:
            reached.add(key)

    def cycle(self) -> None:
        for _, clean in self._open:
            clean[0] = False

    def reuse(self, key: tuple[Any, ...], ancestors: set[tuple[str, str]]) -> JsonDict | None:
        found = self._done.get(key)
        if found is None or not found[1].isdisjoint(ancestors):
            return None
        self.touch_all(found[1])
        return dict(found[0])

    def touch_all(self, keys: frozenset) -> None:
        for reached, _ in self._open:
            reached.update(keys)

    def enter(self) -> None:
        self._open.append((set(), [True]))

    def leave(self, key: tuple[Any, ...], rendered: JsonDict) -> None:
        reached, clean = self._open.pop()
        if clean[0]:
            self._done[key] = (rendered, frozenset(reached))
        else:
            self.cycle()
        self.touch_all(frozenset(reached))


class Catalog:
    """Published content of the folder's history, read on demand, indexed and cached.

    Entries and assets are read from the history per uid when a request names them (a query
    that pins uids, a reference, an embedded item) and per content type when a request
    lists one, then kept. :meth:`catch_up` makes the catalog follow a rescan: it forgets the
    items that events recorded since changed, and the lists derived from them, and keeps the
    rest.
    """

    def __init__(self, stack: LocalStack, history: History):
        self.stack = stack
        self.history = history
        self._user = user_uid(stack.name)
        self._seq = history.max_seq()  # taken before anything is read: later reads are newer
        self._published: dict[str, _Published] = {}  # by content type uid, or sys_assets
        self._lists: dict[tuple, Sequence[JsonDict]] = {}
        # content type -> uid -> locale -> updated_at of its published entries, without data
        self._index: dict[str, dict[str, dict[str, str]]] = {}
        self._content_types: list[JsonDict] | None = None

    # -- following the history ----------------------------------------------------------------

    def catch_up(self) -> set[tuple[str, str, str]]:
        """Forget what changed since the last look; returns the (kind, type, uid) forgotten."""
        hi, changed = self.history.changed_since(self._seq)
        if hi < self._seq:  # the history was replaced: nothing cached can be trusted
            self._published.clear()
            self._lists.clear()
            self._index.clear()
            changed = set()
        self._seq = hi
        if not changed:
            return changed
        types = set()
        for _, ct, uid in changed:
            types.add(ct)
            bucket = self._published.get(ct)
            if bucket is not None:
                bucket.forget(uid)
            self._index.pop(ct, None)
        # Listings of a changed type go; query results all go, as $in_query makes a query's
        # answer depend on other content types. Both are rebuilt from memory when next asked.
        self._lists = {
            key: found
            for key, found in self._lists.items()
            if key[0] == "entries" and key[1] not in types
        }
        return changed

    # -- where items come from (what the draft view, drafts.DraftCatalog, replaces) ----------

    def _rows_by_key(self, keys: Sequence[str]) -> list[ItemRow]:
        """The served items among these history keys (published ones here)."""
        return self.history.items_by_key(keys, published_only=True)

    def _rows_of(self, kind: str, ct: str) -> list[ItemRow]:
        """Every served item of a content type (or the assets): published ones here."""
        return self.history.items(kind, ct, published_only=True)

    def _referrers(self, ct: str, uids: Collection[str]) -> frozenset[str]:
        """Uids of the entries of `ct` that may hold a reference to one of `uids` (a superset)."""
        return self.history.referrers(ct, uids)

    # -- loading --------------------------------------------------------------------------

    def _bucket(self, ct: str) -> _Published:
        bucket = self._published.get(ct)
        if bucket is None:
            bucket = self._published[ct] = _Published()
        return bucket

    def _record(self, row: ItemRow) -> JsonDict:
        if row.kind == "asset":
            record = dict(row.data)
            locale = None
        else:
            record = entry_record(
                row.data,
                uid=row.uid,
                locale=row.locale,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                stack_name=self.stack.name,
            )
            locale = row.locale
        record["publish_details"] = {
            "environment": None,  # filled in per request
            "locale": locale,
            "time": row.published_at,
            "user": self._user,
        }
        return record

    def _load(self, ct: str, uids: Iterable[str]) -> None:
        """Read these uids of a content type (or of the assets) from the history."""
        bucket = self._bucket(ct)
        wanted = sorted(set(bucket.missing(uids)))
        if not wanted:
            return
        if ct == ASSET_CONTENT_TYPE_UID:
            keys = [asset_key(uid) for uid in wanted]
        else:
            codes = self.stack.locale_codes
            keys = [entry_key(ct, uid, code) for uid in wanted for code in codes]
        rows = self._rows_by_key(keys)  # first: a read that fails leaves the bucket as it was
        for uid in wanted:
            bucket.versions[uid] = {}
            bucket.stale.discard(uid)
        for row in rows:
            bucket.versions[row.uid][row.locale] = self._record(row)

    def _load_all(self, ct: str) -> _Published:
        """Every published item of a content type (or the assets), read once."""
        bucket = self._bucket(ct)
        if bucket.complete:
            if bucket.stale:
                self._load(ct, list(bucket.stale))
            return bucket
        index = self._index.get(ct)
        if index is not None:  # a listing read part of it already: read the rest by key
            self._load(ct, index)
            found = {uid: bucket.versions.get(uid) or {} for uid in index}
        else:
            kind = "asset" if ct == ASSET_CONTENT_TYPE_UID else "entry"
            found = {}
            for row in self._rows_of(kind, ct):
                found.setdefault(row.uid, {})[row.locale] = self._record(row)
        bucket.versions = found
        bucket.complete = True
        bucket.stale.clear()
        return bucket

    def _versions(self, ct: str, uid: str) -> dict[str, JsonDict]:
        bucket = self._bucket(ct)
        if bucket.missing((uid,)):
            self._load(ct, (uid,))
        return bucket.versions.get(uid) or {}

    def _served(self, versions: dict[str, JsonDict], chain: list[str]) -> JsonDict | None:
        for code in chain:
            found = versions.get(code)
            if found is not None:
                return found
        return None

    # -- lookups --------------------------------------------------------------------------

    def has_content_type(self, ct: str) -> bool:
        """Whether the stack has this content type."""
        return ct in self.stack.content_types

    def find_entry(self, ct: str, uid: str, locale: str, fallback: bool) -> JsonDict | None:
        """The published version of an entry served for `locale`, or None."""
        if ct not in self.stack.content_types:
            return None
        versions = self._versions(ct, uid)
        if not versions:
            return None
        return self._served(versions, self.stack.fallback_chain(locale) if fallback else [locale])

    def _listing(self, ct: str, locale: str, fallback: bool) -> Sequence[JsonDict]:
        """Every entry served for the locale in default order, read a slice at a time."""
        if self._bucket(ct).complete:
            return self.entries(ct, locale, fallback)
        key = ("listing", ct, locale, fallback)
        found = self._lists.get(key)
        if found is None:
            index = self._index.get(ct)
            if index is None:
                index = {}
                for uid, code, updated_at in self.history.published_entries(ct):
                    index.setdefault(uid, {})[code] = updated_at
                self._index[ct] = index
            chain = self.stack.fallback_chain(locale) if fallback else [locale]
            served = []
            for uid, versions in index.items():
                code = next((c for c in chain if c in versions), None)
                if code is not None:
                    served.append((versions[code], uid, code))
            served.sort(key=lambda s: s[1])
            served.sort(key=lambda s: s[0], reverse=True)  # default_order: stable, two passes
            found = self._lists[key] = _LazyListing(self, ct, [(u, c) for _, u, c in served])
        return found

    def entries(self, ct: str, locale: str, fallback: bool) -> list[JsonDict]:
        """Every entry served for the locale, in the CDA's default order (cached)."""
        key = ("entries", ct, locale, fallback)
        found = self._lists.get(key)
        if found is None:
            chain = self.stack.fallback_chain(locale) if fallback else [locale]
            served = []
            for versions in self._load_all(ct).versions.values():
                entry = self._served(versions, chain)
                if entry is not None:
                    served.append(entry)
            found = default_order(served)
            self._lists[key] = found
        return found

    def term_sets(self, taxonomy: str, operator: str, term: str, levels: int) -> frozenset[str]:
        """The terms a hierarchy operator names (none for an unknown taxonomy or term)."""
        found = self.stack.taxonomies.get(taxonomy)
        return found.hierarchy(operator, term, levels) if found else frozenset()

    def query_entries(
        self, ct: str, locale: str, fallback: bool, query: JsonDict, sort: Sort
    ) -> Sequence[JsonDict]:
        """Entries matching the query in the requested order (cached per query and order).

        Without a query or sort, a content type not read whole yet is listed from its
        (uid, locale, updated_at) rows and only the slices asked for are read.

        A query that pins uids (``{"uid": {"$in": [...]}}``, or ``$in_query`` over a reference
        field with such an inner query, see `pinned_uids` and `History.referrers`) is matched
        against those entries only, read by key, instead of the whole content type: since
        the default order is total (updated_at, then uid) and filtering and sorting keep it,
        the answer is the same.
        """
        key = ("query", ct, locale, fallback, json.dumps(query, sort_keys=True), sort)
        found = self._lists.get(key)
        if found is None:
            ctx = MatchContext(ct, lambda stubs: self._lookup_refs(stubs, locale), self.term_sets)
            if not query and sort is None:
                return self._listing(ct, locale, fallback)  # not cached twice
            pins = pinned_uids(query, lambda uids: self._referrers(ct, uids)) if query else None
            if pins is None:
                docs = self.entries(ct, locale, fallback)
            else:
                self._load(ct, pins)
                chain = self.stack.fallback_chain(locale) if fallback else [locale]
                docs = default_order(
                    entry
                    for uid in pins
                    if (entry := self._served(self._versions(ct, uid), chain)) is not None
                )
            found = filter_docs(docs, query, ctx)
            if sort is not None:
                found = sort_docs(found, sort[0], descending=sort[1])
            self._lists[key] = found
        return found

    def _lookup_refs(self, stubs: list[Any], locale: str) -> list[tuple[str, JsonDict]]:
        wanted: dict[str, list[str]] = {}
        for stub in stubs:
            ct, uid = stub.get("_content_type_uid"), stub.get("uid")
            if isinstance(ct, str) and isinstance(uid, str) and ct in self.stack.content_types:
                wanted.setdefault(ct, []).append(uid)
        for ct, uids in wanted.items():  # one read per content type, not one per stub
            self._load(ct, uids)
        found = []
        for stub in stubs:
            ct, uid = stub.get("_content_type_uid"), stub.get("uid")
            if isinstance(ct, str) and isinstance(uid, str):
                entry = self.find_entry(ct, uid, locale, fallback=True)
                if entry is not None:
                    found.append((ct, entry))
        return found

    def asset(self, uid: str) -> JsonDict | None:
        """A published asset (system fields included), or None."""
        return self._versions(ASSET_CONTENT_TYPE_UID, uid).get("")

    def query_assets(self, query: JsonDict, sort: Sort) -> list[JsonDict]:
        """Assets matching the query in the requested order (cached)."""
        key = ("assets", json.dumps(query, sort_keys=True), sort)
        found = self._lists.get(key)
        if found is None:
            assets = self._load_all(ASSET_CONTENT_TYPE_UID).versions.values()
            found = filter_docs(
                default_order(v[""] for v in assets if "" in v),
                query,
                MatchContext(ASSET_CONTENT_TYPE_UID),
            )
            if sort is not None:
                found = sort_docs(found, sort[0], descending=sort[1])
            self._lists[key] = found
        return found

    def content_types(self) -> list[JsonDict]:
        """Content types with their system fields, in default order."""
        if self._content_types is None:
            rows = {row.uid: row for row in self.history.items("content_type")}
            found = []
            for uid, ct in self.stack.content_types.items():
                row = rows.get(uid)
                record = dict(ct)
                record.setdefault("description", "")
                record.setdefault("options", {})
                record["created_at"] = row.created_at if row else None
                record["updated_at"] = row.updated_at if row else None
                record["_version"] = row.version if row else 1
                found.append(record)
            self._content_types = default_order(found)
        return self._content_types

    def content_type(self, uid: str) -> JsonDict | None:
        """One content type with its system fields, or None."""
        return next((ct for ct in self.content_types() if ct["uid"] == uid), None)

    # -- rendering ------------------------------------------------------------------------

    def render_asset(self, asset: JsonDict, opts: DeliveryOptions) -> JsonDict:
        """An asset as delivered in the request's environment and locale."""
        out = dict(asset)
        out["publish_details"] = {
            **asset["publish_details"],
            "environment": environment_uid(self.stack.name, opts.environment),
            "locale": opts.locale,
        }
        return out

    def render_entry(
        self, entry: JsonDict, ct: str, opts: DeliveryOptions, memo: RenderMemo | None = None
    ) -> JsonDict:
        """An entry as the CDA delivers it for these options; ``memo`` (one per request)
        renders each referenced entry once for all the entries of a page."""
        out = self._render(
            entry, ct, opts, opts.include_all_depth, opts.include, {(ct, entry["uid"])}, memo
        )
        base_only, base_except = opts.only.get("BASE", []), opts.exclude.get("BASE", [])
        out = self._project_references(out, opts)
        if base_only or base_except:
            out = project(out, base_only, base_except)
        if opts.embedded_items:
            out["_embedded_items"] = self._embedded_items(entry, ct, opts)
        return out

    def _render(
        self,
        entry: JsonDict,
        ct: str,
        opts: DeliveryOptions,
        depth_left: int,
        include: tuple[str, ...],
        ancestors: set[tuple[str, str]],
        memo: RenderMemo | None = None,
    ) -> JsonDict:
        ct_def = self.stack.content_types.get(ct)
        schema = ct_def["schema"] if ct_def else []

        def leaf(fdef: JsonDict, value: Any, path: str) -> Any:
            data_type = fdef.get("data_type")
            if data_type == "file":
                return self._render_file(fdef, value, opts)
            if data_type == "reference" and isinstance(value, list):
                wanted = depth_left > 0 or any(
                    i == path or i.startswith(path + ".") for i in include
                )
                if wanted:
                    sub = tuple(i[len(path) + 1 :] for i in include if i.startswith(path + "."))
                    return self._expand(value, opts, depth_left - 1, sub, ancestors, memo)
            return value

        out = map_leaves(schema, entry, leaf)
        details = entry.get("publish_details")
        if isinstance(details, dict):
            out["publish_details"] = {
                **details,
                "environment": environment_uid(self.stack.name, opts.environment),
            }
        return out

    def _render_file(self, fdef: JsonDict, value: Any, opts: DeliveryOptions) -> Any:
        assets = []
        for uid in as_list(value):
            asset = self.asset(uid) if isinstance(uid, str) else None
            if asset is not None:
                assets.append(self.render_asset(asset, opts))
        if isinstance(value, list) or fdef.get("multiple"):
            return assets
        return assets[0] if assets else None

    def _expand(
        self,
        stubs: list[Any],
        opts: DeliveryOptions,
        depth_left: int,
        include: tuple[str, ...],
        ancestors: set[tuple[str, str]],
        memo: RenderMemo | None = None,
    ) -> list[Any]:
        out: list[Any] = []
        for stub in stubs:
            if not isinstance(stub, dict):
                continue
            ct, uid = stub.get("_content_type_uid"), stub.get("uid")
            if memo is not None:
                memo.touch((ct, uid))
            if (ct, uid) in ancestors:
                if memo is not None:
                    memo.cycle()
                out.append(stub)  # an entry is not expanded inside itself
                continue
            key = (ct, uid, depth_left, include)
            done = memo.reuse(key, ancestors) if memo is not None else None
            if done is not None:
                out.append(done)
                continue
            target = self.find_entry(ct, uid, opts.locale, fallback=True) if ct and uid else None
            if target is None:
                continue  # unresolvable references are dropped, as Contentstack does
            if memo is not None:
                memo.enter()
            rendered = self._render(
                target, ct, opts, depth_left, include, ancestors | {(ct, uid)}, memo
            )
            rendered["_content_type_uid"] = ct
            if memo is not None:
                memo.leave(key, rendered)
            out.append(rendered)
        return out

    def _project_references(self, out: JsonDict, opts: DeliveryOptions) -> JsonDict:
        fields = (set(opts.only) | set(opts.exclude)) - {"BASE"}
        if not fields:
            return out
        for name in fields:
            refs = out.get(name)
            if not isinstance(refs, list):
                continue
            out[name] = [
                project(
                    ref,
                    opts.only.get(name, []),
                    opts.exclude.get(name, []),
                    keep=("uid", "_content_type_uid"),
                )
                if isinstance(ref, dict) and "_version" in ref
                else ref
                for ref in refs
            ]
        return out

    def _embedded_items(self, entry: JsonDict, ct: str, opts: DeliveryOptions) -> JsonDict:
        ct_def = self.stack.content_types.get(ct)
        if ct_def is None:
            return {}
        plain = DeliveryOptions(
            environment=opts.environment, locale=opts.locale, fallback=opts.fallback
        )
        items: JsonDict = {}
        for path, refs in embedded_refs(ct_def["schema"], entry).items():
            rendered = []
            for ref in refs:
                if ref.kind == "asset":
                    asset = self.asset(ref.uid)
                    if asset is not None:
                        rendered.append(
                            {
                                **self.render_asset(asset, opts),
                                "_content_type_uid": ASSET_CONTENT_TYPE_UID,
                            }
                        )
                else:
                    target = self.find_entry(
                        ref.content_type_uid, ref.uid, opts.locale, fallback=True
                    )
                    if target is not None:
                        item = self._render(target, ref.content_type_uid, plain, 0, (), set())
                        item["_content_type_uid"] = ref.content_type_uid
                        rendered.append(item)
            if rendered:
                items[path] = rendered
        return items

    # -- sync -----------------------------------------------------------------------------

    def sync_item(self, event: Event, environment: str) -> JsonDict:
        """A Sync API item: published entries raw (references unresolved, files as assets)."""
        data = event.data
        if event.type == "entry_published":
            ct_def = self.stack.content_types.get(event.content_type_uid)
            if ct_def is not None:
                opts = DeliveryOptions(environment=environment, locale=event.locale)

                def leaf(fdef: JsonDict, value: Any, path: str) -> Any:
                    if fdef.get("data_type") == "file":
                        return self._render_file(fdef, value, opts)
                    return value

                data = map_leaves(ct_def["schema"], data, leaf)
            data = {
                **data,
                "publish_details": publish_details(
                    self.stack.name, environment, event.locale, event.event_at
                ),
            }
        elif event.type == "asset_published":
            data = {
                **data,
                "publish_details": publish_details(
                    self.stack.name, environment, self.stack.master_locale, event.event_at
                ),
            }
        return {
            "type": event.type,
            "event_at": event.event_at,
            "content_type_uid": event.content_type_uid,
            "data": data,
        }
