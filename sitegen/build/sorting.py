"""``entries(sort=…, limit=…)``: the order of a whole collection, kept between builds.

"The 20 newest posts" needs every post's sort value. Computing them costs a scan of the
collection; an incremental build that re-renders the home page for one edited post would pay
it in every locale. So the order is kept in the store as byte keys (``content/order.py``) and
only the entries a build changed get new keys; ``ORDER BY … LIMIT`` then reads the first N.
The kept order is used only when it is known to include every change up to this build
(stamped with the build that made it); otherwise it is made again from the whole collection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sitegen.content import codec
from sitegen.content.order import order_key
from sitegen.content.query import sort_value
from sitegen.store import Store, dumps

SortFields = tuple[tuple[str, bool], ...]  # (dotted field, descending), most significant first
DEP = "sorted"  # pages record ("sorted", key) for each order they read


def dep_key(content_type: str, locale: str, order: SortFields) -> str:
    return dumps([content_type, locale, [list(item) for item in order]])


def sorted_uids(
    store: Store,
    content_type: str,
    locale: str,
    order: SortFields,
    limit: int | None,
    *,
    keep: bool,
) -> list[str]:
    """Uids of the collection in ``order``, the first ``limit``; ``keep``: the store may be
    written (the build process), so the order is kept or brought up to date there."""
    if keep:
        refresh(store, content_type, locale, order)
        return store.orders.sorted_uids(_spec(order), content_type, locale, limit)
    keyed = sorted(_keys(store, content_type, locale, order), key=lambda item: item[1])
    return [uid for uid, _ in keyed[:limit]]


def refresh(store: Store, content_type: str, locale: str, order: SortFields) -> None:
    """Bring the kept order up to this build: new keys for changed entries, or all anew."""
    spec = _spec(order)
    stamp = store.orders.sorted_stamp(spec, content_type, locale)
    now = store.build_number()
    if stamp == now + 1:
        return  # already this build's
    if stamp == now:  # the last build's: only this build's changes are missing
        changed = sorted(
            uid
            for ct, uid, loc in store.content.changed_entries
            if ct == content_type and loc == locale
        )
        keys = _keys(store, content_type, locale, order, changed) if changed else iter(())
        store.orders.keep_sorted(spec, content_type, locale, keys, replace=changed)
    else:
        store.orders.keep_sorted(
            spec, content_type, locale, _keys(store, content_type, locale, order)
        )


def refresh_read(store: Store, keys: Iterable[str]) -> None:
    """Bring up to date every order that pages read (``dep_key`` values), used or not."""
    for key in keys:
        content_type, locale, order = codec.loads(key)
        refresh(store, content_type, locale, tuple((f, bool(d)) for f, d in order))


def _spec(order: SortFields) -> str:
    return dumps([list(item) for item in order])


def _keys(
    store: Store,
    content_type: str,
    locale: str,
    order: SortFields,
    uids: list[str] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """(uid, sort key) of every entry of the collection (or of ``uids``, those stored)."""
    heads = [field.split(".", 1)[0] for field, _ in order]
    descending = [desc for _, desc in order]
    for uid, values in store.content.field_values(content_type, locale, heads, uids):
        found = [
            sort_value({head: value}, field)
            for head, value, (field, _) in zip(heads, values, order, strict=True)
        ]
        yield uid, order_key(found, descending, uid)
