"""The Content Delivery API client: the only code that speaks HTTP to a stack.

Requests run concurrently but bounded (``concurrency`` in flight), retry with exponential
backoff and full jitter on what is worth retrying (connection errors, timeouts, 408, 429 with
Retry-After, 5xx), and end in an :class:`APIError` that names the request path and status but
never a credential: credentials travel only in headers and are masked out of every message.

A connection refused before the host has answered anything (a wrong [stack] host, no network)
is not retried: it ends at once in :class:`StackUnavailable`, as retries exhausted do.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from sitegen import __version__
from sitegen.config import StackConfig
from sitegen.content import codec
from sitegen.errors import APIError

PAGE_SIZE = 100
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504}) | frozenset(range(520, 530))
# headers that carry a credential (CDA, preview, Analytics): never sent to another host
CREDENTIAL_HEADERS = ("api_key", "access_token", "preview_token", "live_preview", "authtoken")
MAX_BACKOFF = 20.0
Params = Sequence[tuple[str, str | int]]


class StackUnavailable(APIError):
    """No usable answer from the host: it cannot be reached, or every try of a request failed
    (connection errors, timeouts, 429, 5xx). Not a refusal of one request: whatever is asked
    next fails the same way, so callers that carry on after a refusal must stop on this."""


def _tls_for(base_url: str) -> ssl.SSLContext | bool:
    """Certificate checks for a stack's host: the default (the CA bundle, loaded in about
    50 ms, a tenth of a one-post incremental build) for any host that may speak TLS; for plain
    HTTP on the loopback interface (``sitegen stack serve``), a context without CAs, which
    refuses any certificate should a redirect lead to TLS."""
    url = httpx.URL(base_url)
    if url.scheme == "http" and url.host in ("127.0.0.1", "localhost", "::1"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


@dataclass
class RequestStats:
    """What the client did, for the build summary and the request-count invariants."""

    requests: int = 0
    retries: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


class CDAClient:
    """An async client for one stack and environment.

    Use as ``async with CDAClient(config) as cda: ...``. ``transport`` lets the bundled local
    stack be served in-process (an ``httpx.ASGITransport``) with the same code path as a real
    stack over the network.
    """

    def __init__(
        self,
        stack: StackConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.stack = stack
        self.stats = RequestStats()
        self.branch_uid: str | None = None  # the branch the last content type list came from
        self._backoff = backoff
        self._sleep = sleep
        self._answered = False  # the host has answered a request (it is there: retry on)
        self._limit = asyncio.Semaphore(stack.concurrency)
        headers = {"user-agent": f"sitegen/{__version__}", "accept": "application/json"}
        if stack.api_key:
            headers["api_key"] = stack.api_key
        if stack.preview_token:  # drafts through the preview host: no delivery token
            headers["preview_token"] = stack.preview_token
            if stack.live_preview:
                headers["live_preview"] = stack.live_preview
        elif stack.delivery_token:
            headers["access_token"] = stack.delivery_token
        if stack.branch:
            headers["branch"] = stack.branch
        self._http = httpx.AsyncClient(
            base_url=stack.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(stack.timeout, connect=min(10.0, stack.timeout)),
            limits=httpx.Limits(max_connections=stack.concurrency),
            follow_redirects=True,
            event_hooks={"request": [credentials_stay_home(stack.base_url)]},
            verify=_tls_for(stack.base_url),
        )
        home = httpx.URL(stack.base_url)
        # a local stack (sitegen stack serve, or in-process) answers its own assets' URLs on its
        # own origin, as the CDA answers absolute URLs; the build wants them site-relative, the
        # form it copies the files for. Contentstack's asset hosts are never the CDA's.
        self._own_assets = f'"{home.scheme}://{home.netloc.decode()}/assets/'.encode()

    async def __aenter__(self) -> CDAClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (same transport and limits), e.g. for asset downloads."""
        return self._http

    def redact(self, text: str) -> str:
        """Mask credentials in text that may reach a terminal or a log."""
        for secret in self.stack.secrets:
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    async def get(
        self, path: str, params: Params = (), *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET ``/v3{path}`` with the environment added, retried, and parsed as a JSON object;
        ``headers`` are added to this request's (e.g. ``x-cs-variant-uid``)."""
        query = [("environment", self.stack.environment), *params]
        url = f"/v3{path}"
        attempt = 0
        while True:
            attempt += 1
            async with self._limit:
                self.stats.requests += 1
                self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
                try:
                    response = await self._http.get(url, params=query, headers=headers)
                    body = response.content
                    if self._own_assets in body:
                        body = body.replace(self._own_assets, b'"/assets/')
                except (httpx.TimeoutException, httpx.TransportError) as err:
                    if isinstance(err, httpx.ConnectError) and not self._answered:
                        raise self._unreachable(url, err) from None
                    problem: str | None = _describe_transport_error(err)
                    response = None
                    delay = None
                else:
                    self._answered = True
                    problem, delay = self._retryable(response)
            if problem is None and response is not None:
                try:
                    return self._parse(url, response, body)
                except _CutShort as err:  # a transient failure like a dropped connection
                    problem = str(err)
            if attempt >= self.stack.max_tries:
                raise StackUnavailable(
                    self.redact(
                        f"GET {url} failed after {attempt} tries: {problem} "
                        f"(host {self.stack.base_url}; check [stack] host/region and your network)"
                    ),
                    status=response.status_code if response is not None else None,
                )
            self.stats.retries += 1
            await self._sleep(self._delay(attempt, delay))

    def _unreachable(self, url: str, err: httpx.ConnectError) -> StackUnavailable:
        """The first request could not connect: say so once, without retrying, since a wrong
        host or no network does not mend itself in the seconds retries would take."""
        return StackUnavailable(
            self.redact(
                f"cannot reach the stack at {self.stack.base_url}: {_connect_failure(err)} "
                f"(GET {url}); check [stack] host or region in sitegen.toml, and your network"
            )
        )

    def _retryable(self, response: httpx.Response) -> tuple[str | None, float | None]:
        """Return (problem, Retry-After) when the response is worth another try."""
        if response.status_code not in RETRY_STATUSES:
            return None, None
        retry_after = _retry_after(response.headers.get("retry-after"))
        return f"HTTP {response.status_code}", retry_after

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, 60.0)
        return random.uniform(0, min(MAX_BACKOFF, self._backoff * 2 ** (attempt - 1)))

    def _parse(self, url: str, response: httpx.Response, body: bytes) -> dict[str, Any]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and response.num_bytes_downloaded < int(declared):
            raise _CutShort(
                f"the body was cut short ({response.num_bytes_downloaded} of {declared} bytes)"
            )
        try:
            data = codec.loads(body) if body else None
        except codec.TooDeep as err:
            raise APIError(
                f"GET {url}: the answer is {err}, more than any real content needs; an entry "
                "it lists holds malformed or hostile rich text: fix or unpublish that entry",
                status=response.status_code,
            ) from None
        except ValueError:
            data = None
            if response.is_success and body.lstrip()[:1] in (b"{", b"["):
                raise _CutShort("the JSON body was cut short") from None
            if response.is_success:
                snippet = self.redact(body[:80].decode("utf-8", "replace"))
                raise APIError(
                    f"GET {url}: HTTP {response.status_code} with a body that is not JSON "
                    f"(starts {snippet!r}); is [stack] host a Content Delivery API?",
                    status=response.status_code,
                ) from None
        if response.is_success:
            if not isinstance(data, dict):
                raise APIError(
                    f"GET {url}: HTTP {response.status_code} with a JSON body that is not an "
                    "object; is [stack] host a Content Delivery API?",
                    status=response.status_code,
                )
            return data
        raise self._refusal(url, response.status_code, data if isinstance(data, dict) else {})

    def _refusal(self, url: str, status: int, body: dict[str, Any]) -> APIError:
        code = body.get("error_code")
        message = str(body.get("error_message") or "").strip() or httpx.codes.get_reason_phrase(
            status
        )
        errors = body.get("errors")
        fields = frozenset(map(str, errors)) if isinstance(errors, dict) else frozenset()
        if isinstance(errors, dict) and errors:
            details = "; ".join(
                f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in errors.items()
            )
            message = f"{message} ({details})"
        token_hint = (
            "check the preview token (CONTENTSTACK_PREVIEW_TOKEN or [preview] preview_token)"
            if self.stack.preview_token
            else "check the delivery token (CONTENTSTACK_DELIVERY_TOKEN or [stack] delivery_token) "
            "and that it belongs to this environment"
        )
        hint = {
            401: token_hint,
            412: "check the stack API key (CONTENTSTACK_API_KEY or [stack] api_key)",
            422: "check the content type or entry uid in this path",
            404: "check [stack] host: this path does not exist there",
        }.get(status, "")
        if "environment" in fields:  # {"environment": ["is not valid."]}: named, but unknown
            hint = (
                f"check the environment ({self.stack.environment!r}: CONTENTSTACK_ENVIRONMENT or "
                "[stack] environment): it must be one the stack publishes to"
            )
        code_text = f", error {code}" if code is not None else ""
        text = f"GET {url}: Contentstack refused it (HTTP {status}{code_text}): {message}"
        if hint:
            text += f"; {hint}"
        return APIError(
            self.redact(text),
            status=status,
            error_code=code if isinstance(code, int) else None,
            fields=fields,
        )

    # -- endpoints ---------------------------------------------------------------------------

    async def content_types(self) -> list[dict[str, Any]]:
        """Every content type of the stack (their schemas tell where references and RTE live).

        Global fields come with their schema only when asked (CDA reference, "All Content
        Types": ``include_global_field_schema``); without it a field inside one is invisible.
        ``include_branch`` tells which branch answered (``_branch``, kept in ``branch_uid``):
        through an alias that is how a build sees the alias move to another branch.
        """
        params = [("include_global_field_schema", "true"), ("include_branch", "true")]
        found = [
            item
            async for page in self.pages("/content_types", "content_types", params)
            for item in page
        ]
        for item in found:  # the branch read (an alias names another branch over time)
            branch = item.pop("_branch", None)
            if isinstance(branch, str):
                self.branch_uid = branch
        return found

    async def assets(self, locale: str | None = None) -> list[dict[str, Any]]:
        params: list[tuple[str, str | int]] = [("include_fallback", "true")]
        if locale:
            params.append(("locale", locale))
        return [item async for page in self.pages("/assets", "assets", params) for item in page]

    async def taxonomies(self) -> list[dict[str, Any]]:
        """The stack's published taxonomies (``/v3/taxonomies``); none from a host that has no
        taxonomy endpoints (it answers 404 or 422)."""
        try:
            return [item async for page in self.pages("/taxonomies", "taxonomies") for item in page]
        except APIError as err:
            if err.status in (404, 422):
                return []
            raise

    async def terms(self, taxonomy: str, locale: str) -> list[dict[str, Any]]:
        """Every term of a taxonomy with its name in ``locale`` (or its fallback), flat, each
        with ``uid``, ``name``, ``parent_uid`` and ``order`` (CDA "Get all terms"). ``depth``
        10 asks for every level: the hierarchy operators stop at 10 too."""
        params = [("locale", locale), ("include_fallback", "true"), ("depth", 10)]
        path = f"/taxonomies/{taxonomy}/terms"
        return [item async for page in self.pages(path, "terms", params) for item in page]

    def entry_params(self, locale: str) -> list[tuple[str, str | int]]:
        """The include parameters of every entry request, so incremental refetches match."""
        return [
            ("locale", locale),
            ("include_fallback", "true"),
            ("include_all", "true"),
            ("include_all_depth", self.stack.include_depth),
            ("include_embedded_items[]", "BASE"),
        ]

    def entry_pages(
        self, content_type: str, locale: str, variant: str | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of published entries of a content type in a locale, fallback included; with
        ``variant``, as that entry variant shows them (header ``x-cs-variant-uid``)."""
        path = f"/content_types/{content_type}/entries"
        headers = {"x-cs-variant-uid": variant} if variant else None
        return self.pages(path, "entries", self.entry_params(locale), headers)

    async def pages(
        self, path: str, key: str, params: Params = (), headers: dict[str, str] | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield list pages: the first asks for the count, the rest are fetched concurrently.

        Pages arrive in order of ``skip`` so that callers can keep the API's order.
        """
        first = await self.get(
            path,
            [*params, ("include_count", "true"), ("skip", 0), ("limit", PAGE_SIZE)],
            headers=headers,
        )
        items = _items(first, key, path)
        yield items
        count = first.get("count")
        if not isinstance(count, int) or count <= len(items):
            if count is None and len(items) == PAGE_SIZE:
                # No count: walk page by page until a short page.
                skip = PAGE_SIZE
                while True:
                    page = _items(
                        await self.get(
                            path, [*params, ("skip", skip), ("limit", PAGE_SIZE)], headers=headers
                        ),
                        key,
                        path,
                    )
                    yield page
                    if len(page) < PAGE_SIZE:
                        return
                    skip += PAGE_SIZE
            return
        # A window of pages in flight, not all of them: pages that arrive faster than the
        # caller stores them must not pile up in memory (a 50,000-entry type is 500 pages, and
        # a decoded page of 100 entries with their includes is several MB). One page per
        # request the client may have open: twice that held 190 MB of decoded pages at 50k
        # × 2 (two such types pulled at once) for no gain in speed.
        skips = iter(range(PAGE_SIZE, count, PAGE_SIZE))
        window = self.stack.concurrency
        tasks: deque[asyncio.Future[dict[str, Any]]] = deque()

        def schedule() -> None:
            for skip in skips:
                tasks.append(
                    asyncio.ensure_future(
                        self.get(
                            path, [*params, ("skip", skip), ("limit", PAGE_SIZE)], headers=headers
                        )
                    )
                )
                if len(tasks) >= window:
                    return

        schedule()
        try:
            while tasks:
                body = await tasks.popleft()
                schedule()
                yield _items(body, key, path)
        finally:
            for task in tasks:
                task.cancel()


class _CutShort(Exception):
    """A body that ended early (fewer bytes than Content-Length, or JSON cut mid-way)."""


def _items(body: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise APIError(
            f"GET /v3{path}: the response has no list of {key!r}; is [stack] host a Content Delivery API?"
        )
    return items


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe_transport_error(err: Exception) -> str:
    if isinstance(err, httpx.TimeoutException):
        return f"timed out ({type(err).__name__})"
    if isinstance(err, httpx.ConnectError):
        return f"cannot connect ({err or 'connection refused'})"
    return f"connection failed ({type(err).__name__}: {err or 'dropped'})"


def _connect_failure(err: httpx.ConnectError) -> str:
    """Why a connection failed, in words: the OS error under httpx's (anyio says only "All
    connection attempts failed" for a refused connection)."""
    cause: BaseException | None = err
    for _ in range(10):  # a chain, not a loop: bounded all the same
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused, nothing listens there"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        cause = cause.__cause__ or cause.__context__
    return str(err) or "cannot connect"


def credentials_stay_home(base_url: str) -> Callable[[httpx.Request], Awaitable[None]]:
    """A request hook that drops :data:`CREDENTIAL_HEADERS` from any request leaving
    ``base_url``'s origin: httpx follows a redirect to another host with every custom header
    (it strips only ``Authorization``), and an API key or token must not go with it."""
    home = httpx.URL(base_url)
    origin = (home.scheme, home.host, home.port)

    async def hook(request: httpx.Request) -> None:
        if (request.url.scheme, request.url.host, request.url.port) != origin:
            for name in CREDENTIAL_HEADERS:
                request.headers.pop(name, None)

    return hook
