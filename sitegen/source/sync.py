"""Walking the Sync API: an initial sync or a delta, through every pagination page.

Pages are yielded as they arrive so a large initial sync never has to sit in memory; the
final sync token is available once the walk has ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from sitegen.errors import APIError
from sitegen.source.cda import CDAClient

SYNC_PATH = "/stacks/sync"
INVALID_SYNC_TOKEN = 141
MAX_RESTARTS = 2  # walks begun again after a pagination token stopped being valid


@dataclass
class SyncWalk:
    """One walk of the Sync API; iterate :meth:`pages`, then read :attr:`sync_token`."""

    client: CDAClient
    sync_token: str | None = None  # the token to start from (None: an initial sync)
    start_from: str | None = None  # ISO time, initial sync only
    content_type_uid: str | None = None
    locale: str | None = None
    types: tuple[str, ...] = ()
    requests: int = 0
    # Called when the walk begins again (an expired pagination token): the pages yielded so far
    # come again, and an item of theirs that is gone since will not be reported as deleted, so
    # whoever kept them must drop them. None: the caller keeps nothing (it wants the token).
    on_restart: Callable[[], None] | None = None
    restarts: int = field(default=0, init=False)
    next_token: str | None = field(default=None, init=False)

    async def pages(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of the walk. An expired pagination token begins the walk again (up to
        MAX_RESTARTS times: its pages then repeat what came before, see :attr:`on_restart`), and
        a page delivered twice is skipped, so no item is lost and none is counted twice."""
        start = self._start_params()
        params = start
        repeats = 0
        while True:
            try:
                body = await self.client.get(SYNC_PATH, params)
            except APIError as err:
                if params is start or not is_invalid_token(err):
                    raise
                if self.restarts >= MAX_RESTARTS:
                    raise APIError(
                        f"GET /v3{SYNC_PATH}: the pagination token expired before the walk "
                        f"ended, {self.restarts + 1} times in a row ({err}); build again later",
                        status=err.status,
                    ) from None
                self.restarts += 1
                if self.on_restart is not None:
                    self.on_restart()
                params = start
                continue
            self.requests += 1
            items = body.get("items")
            if not isinstance(items, list):
                raise APIError(f"GET /v3{SYNC_PATH}: the response has no list of items")
            followed = dict(params).get("pagination_token")
            if followed is not None and body.get("pagination_token") == followed:
                # the page before, delivered again: its items were yielded already
                repeats += 1
                if repeats >= self.client.stack.max_tries:
                    raise APIError(
                        f"GET /v3{SYNC_PATH}: the same sync page came {repeats + 1} times in a "
                        "row instead of the next one; build again later"
                    )
                continue
            repeats = 0
            yield items
            if body.get("pagination_token"):
                params = [("pagination_token", str(body["pagination_token"]))]
            elif body.get("sync_token"):
                self.next_token = str(body["sync_token"])
                return
            else:
                raise APIError(
                    f"GET /v3{SYNC_PATH}: the response has neither a pagination_token nor a "
                    "sync_token; is [stack] host a Content Delivery API?"
                )

    def _start_params(self) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]]
        if self.sync_token:
            params = [("sync_token", self.sync_token)]
        else:
            params = [("init", "true")]
            if self.start_from:
                params.append(("start_from", self.start_from))
            if self.content_type_uid:
                params.append(("content_type_uid", self.content_type_uid))
            if self.locale:
                params.append(("locale", self.locale))
            if self.types:
                params.append(("type", ",".join(self.types)))
        return params


def is_invalid_token(err: APIError) -> bool:
    """True when Contentstack says the stored sync token can no longer be used."""
    return err.error_code == INVALID_SYNC_TOKEN and err.status in (400, 404, 409, 412, 422)
