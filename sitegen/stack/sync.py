"""The Sync API over the folder's history.

An initial sync reports the latest published state of every item as of the newest event (S),
a subsequent sync the latest event of every item changed after the token's sequence number, up
to S. Either is served in pages of 100 in sequence order; the window (lo, S] is fixed when the
sync starts and events are append-only, so pages stay consistent even if the folder changes
while a client pages through. The last page carries a sync token for S.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sitegen.stack.history import Event, History, SyncFilter
from sitegen.stack.tokens import TokenError, decode_token, encode_token

JsonDict = dict[str, Any]
RenderItem = Callable[[Event, str], JsonDict]

PAGE_SIZE = 100


def _filter_payload(filt: SyncFilter) -> list[Any]:
    return [list(filt.types), filt.content_type_uid, filt.locale, filt.start_from]


def _filter_from(payload: Any) -> SyncFilter:
    types, ct, locale, start_from = payload
    return SyncFilter(tuple(types), ct, locale, start_from)


def start_sync(
    history: History, render: RenderItem, environment: str, filt: SyncFilter
) -> JsonDict:
    """First page of an initial sync (init=true)."""
    hi = history.max_seq()
    total = history.sync_count(0, hi, init=True, filt=filt)
    return _page(
        history, render, environment, filt, lo=0, hi=hi, after=0, skip=0, total=total, init=True
    )


def continue_sync(history: History, render: RenderItem, sync_token: str) -> JsonDict:
    """First page of the changes since a sync token; TokenError if the token is not ours."""
    payload = decode_token(history.secret, "sync", sync_token)
    try:
        lo, environment, filt = int(payload["s"]), str(payload["e"]), _filter_from(payload["f"])
    except (KeyError, TypeError, ValueError) as err:
        raise TokenError("bad payload") from err
    hi = max(history.max_seq(), lo)
    filt = SyncFilter(filt.types, filt.content_type_uid, filt.locale, None)
    total = history.sync_count(lo, hi, init=False, filt=filt)
    return _page(
        history, render, environment, filt, lo=lo, hi=hi, after=lo, skip=0, total=total, init=False
    )


def next_page(history: History, render: RenderItem, pagination_token: str) -> JsonDict:
    """The page a pagination token points at; TokenError if the token is not ours."""
    payload = decode_token(history.secret, "page", pagination_token)
    try:
        args = {
            "lo": int(payload["lo"]),
            "hi": int(payload["hi"]),
            "after": int(payload["a"]),
            "skip": int(payload["n"]),
            "total": int(payload["t"]),
            "init": bool(payload["i"]),
        }
        environment, filt = str(payload["e"]), _filter_from(payload["f"])
    except (KeyError, TypeError, ValueError) as err:
        raise TokenError("bad payload") from err
    return _page(history, render, environment, filt, **args)


def _page(
    history: History,
    render: RenderItem,
    environment: str,
    filt: SyncFilter,
    *,
    lo: int,
    hi: int,
    after: int,
    skip: int,
    total: int,
    init: bool,
) -> JsonDict:
    events = history.sync_events(lo, hi, after=after, init=init, filt=filt, limit=PAGE_SIZE)
    response: JsonDict = {
        "items": [render(event, environment) for event in events],
        "skip": skip,
        "limit": PAGE_SIZE,
        "total_count": total,
    }
    returned = skip + len(events)
    if len(events) < PAGE_SIZE or returned >= total:
        payload = {"s": hi, "e": environment, "f": _filter_payload(filt)}
        response["sync_token"] = encode_token(history.secret, "sync", payload)
    else:
        payload = {
            "lo": lo,
            "hi": hi,
            "a": events[-1].seq,
            "n": returned,
            "t": total,
            "i": init,
            "e": environment,
            "f": _filter_payload(filt),
        }
        response["pagination_token"] = encode_token(history.secret, "page", payload)
    return response
