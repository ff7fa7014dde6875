"""Fault injection for the local stack, so tests can see how builds survive a bad network.

A :class:`Faults` object says which requests go wrong and how: 429 with Retry-After,
500/502/503/504, slow answers, dropped connections, truncated bodies, an expired pagination
token (answered as Contentstack answers a token it no longer accepts: 422, error 141,
``errors: {"pagination_token": ["is not valid."]}``) and a sync page delivered twice (the
previous sync page answered again, in place of the one its pagination token asks for). Each
kind has a :class:`Schedule` (a rate, drawn from a seeded RNG so runs repeat, and/or the Nth
eligible requests); what was injected is recorded in :attr:`Faults.injected`, so a test can
check that its fault really happened.

``create_app(..., faults=Faults(...))`` wraps the app in :class:`FaultInjector`, outermost, so a
dropped connection is real: over a loopback port (uvicorn) the socket is closed without an
answer, or after part of the body; in-process (``httpx.ASGITransport``) there is no socket, so
the injector raises the transport error httpx would have raised. Without faults nothing changes.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx

from sitegen.stack.responses import bad_token

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any
Send = Any
App = Any

Kind = Literal[
    "rate_limit",
    "server_error",
    "slow",
    "drop",
    "truncate",
    "expired_pagination",
    "duplicate_sync_page",
]
# Checked in this order; one request gets at most one fault. The last two apply only to sync
# requests that follow a pagination_token (the only ones that can expire or repeat a page).
KINDS: tuple[Kind, ...] = (
    "expired_pagination",
    "duplicate_sync_page",
    "rate_limit",
    "server_error",
    "drop",
    "truncate",
    "slow",
)
SYNC_PATH = "/v3/stacks/sync"


@dataclass(frozen=True)
class Schedule:
    """When a fault fires: each eligible request with chance ``rate``, and the ``nth`` ones.

    ``nth`` counts eligible requests from 1, per kind; ``Schedule(rate=1.0)`` is "always".
    """

    rate: float = 0.0
    nth: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return self.rate > 0 or bool(self.nth)


NEVER = Schedule()


@dataclass
class Faults:
    """Which requests fail and how (all off by default). Shared by every request of an app."""

    rate_limit: Schedule = NEVER  # 429 with Retry-After: retry_after seconds
    server_error: Schedule = NEVER  # one of statuses, in turn
    slow: Schedule = NEVER  # answered after delay seconds
    drop: Schedule = NEVER  # connection closed without an answer
    truncate: Schedule = NEVER  # the body stops half way
    expired_pagination: Schedule = NEVER  # pagination_token answered with error 141
    duplicate_sync_page: Schedule = NEVER  # the previous sync page answered again
    retry_after: float = 0.0
    statuses: tuple[int, ...] = (500, 502, 503, 504)
    delay: float = 0.5
    # "length": Content-Length promises the whole body; "json": it matches the cut body.
    truncate_mode: Literal["length", "json"] = "length"
    paths: str = "/v3/"  # only requests whose path starts with this are eligible
    seed: int = 0
    injected: list[tuple[Kind, str]] = field(default_factory=list)  # (kind, path?query)
    seen: list[str] = field(default_factory=list)  # every eligible request, path?query
    _rng: random.Random = field(init=False, repr=False)
    _counts: dict[Kind, int] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)
    # the last sync page served: (the pagination_token it hands out, headers, body)
    _last_sync_page: tuple[str, list[tuple[bytes, bytes]], bytes] | None = field(
        init=False, default=None, repr=False
    )

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._counts = dict.fromkeys(KINDS, 0)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any(getattr(self, kind).active for kind in KINDS)

    def stop(self) -> None:
        """No more faults from now on (what was injected stays recorded)."""
        for kind in KINDS:
            setattr(self, kind, NEVER)

    def count(self, kind: Kind) -> int:
        """How many times ``kind`` was injected."""
        return sum(1 for k, _ in self.injected if k == kind)

    def pick(self, path: str, query: str) -> Kind | None:
        """The fault for this request, if any (decided under a lock: requests run in threads)."""
        if not path.startswith(self.paths):
            return None
        following = (
            parse_qs(query).get("pagination_token", [None])[0] if path == SYNC_PATH else None
        )
        paginating = following is not None
        # a duplicate is the page just before the one asked for: the one whose token this is
        last = self._last_sync_page  # read once: another request may replace it meanwhile
        previous = last is not None and last[0] == following
        with self._lock:
            self.seen.append(f"{path}?{query}" if query else path)
            for kind in KINDS:
                schedule: Schedule = getattr(self, kind)
                if not schedule.active:
                    continue
                if kind in ("expired_pagination", "duplicate_sync_page") and not paginating:
                    continue
                if kind == "duplicate_sync_page" and not previous:
                    continue
                self._counts[kind] += 1
                hit = self._counts[kind] in schedule.nth
                if schedule.rate > 0 and self._rng.random() < schedule.rate:
                    hit = True
                if hit:
                    self.injected.append((kind, self.seen[-1]))
                    return kind
        return None

    def next_status(self) -> int:
        return self.statuses[(self.count("server_error") - 1) % len(self.statuses)]


class FaultInjector:
    """ASGI middleware that answers some requests with a fault instead of the app's answer."""

    def __init__(self, app: App, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.active:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        kind = self.faults.pick(path, query)
        if kind is None or kind == "slow":
            if kind == "slow":
                await asyncio.sleep(self.faults.delay)
            if path == SYNC_PATH:  # remember the page, to deliver it twice later
                await self._record_sync_page(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        elif kind == "rate_limit":
            await _json(
                send,
                429,
                {"error_message": "Too many requests.", "error_code": 429, "errors": {}},
                [(b"retry-after", _seconds(self.faults.retry_after))],
            )
        elif kind == "server_error":
            status = self.faults.next_status()
            body = {"error_message": "The server is unavailable.", "error_code": status}
            await _json(send, status, {**body, "errors": {}})
        elif kind == "expired_pagination":
            await bad_token("pagination_token").response()(scope, receive, send)
        elif kind == "duplicate_sync_page":
            assert self.faults._last_sync_page is not None
            _, headers, body = self.faults._last_sync_page
            await _send(send, 200, headers, body)
        elif kind == "drop":
            await _drop(send)
        elif kind == "truncate":
            await self._truncate(scope, receive, send)

    async def _record_sync_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, body = await _capture(self.app, scope, receive)
        token = json.loads(body).get("pagination_token") if status == 200 else None
        self.faults._last_sync_page = (token, headers, body) if token else None
        await _send(send, status, headers, body)

    async def _truncate(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send half of the app's body: over a socket the connection then ends."""
        status, headers, body = await _capture(self.app, scope, receive)
        cut = body[: len(body) // 2]
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        declared = len(body) if self.faults.truncate_mode == "length" else len(cut)
        headers.append((b"content-length", str(declared).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if declared == len(cut) or _transport(send) is None:
            # in-process nothing checks Content-Length: the client has to notice the shortfall
            await send({"type": "http.response.body", "body": cut, "more_body": False})
            return
        await send({"type": "http.response.body", "body": cut, "more_body": True})
        await _drop(send, after_partial=True)


async def _capture(
    app: App, scope: Scope, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app and collect its answer instead of sending it."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def collect(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return status, headers, b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _json(
    send: Send, status: int, body: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    raw = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
        *extra,
    ]
    await _send(send, status, headers, raw)


def _seconds(value: float) -> bytes:
    return (str(int(value)) if float(value).is_integer() else f"{value:g}").encode()


async def _drop(send: Send, *, after_partial: bool = False) -> None:
    """Close the connection. uvicorn's ``send`` belongs to the request's cycle, which holds the
    socket's transport; without one (in-process) raise what httpx raises for a dropped peer."""
    cycle = getattr(send, "__self__", None)
    transport = _transport(send)
    if transport is not None:
        if after_partial:
            transport.close()  # flush what was sent, then end: a body cut short
        else:
            transport.abort()
        for _ in range(100):  # let uvicorn see the disconnect, so it sends no 500 of its own
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0.001)
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


def _transport(send: Send) -> asyncio.Transport | None:
    """The socket behind uvicorn's ``send`` (a bound method of the request cycle), if any."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if isinstance(transport, asyncio.Transport) else None
