"""The Analytics API (v2) client: create a report job, wait for it, fetch and merge its pages.

A report is a GET that answers ``{"jobId", "paginated"}``; its rows come from
``GET /analytics/v2/job/{jobId}/data?orgUid=&page=N``. While the job runs, that answers HTTP 200
with a "Job active" body (``{"message": "Job active"}``, a bare string, or any object without
``data`` whose message or status says active/pending/processing); the client polls with backoff
until ``timeout`` and then raises :class:`JobTimeout`, naming the job so it can be resumed.
Pages are fetched while an answer says ``paginated: true`` (or, when it does not say, while
the job said so and pages keep coming).

Requests are rate limited (10 per second, Contentstack's limit per organization), 429 and 5xx
are retried with backoff (Retry-After honoured), and 401/403/412/422 end in a one-line
:class:`AnalyticsError`. The authtoken travels only in the ``authtoken`` header and is masked
out of every message.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from sitegen import __version__
from sitegen.errors import APIError, SitegenError
from sitegen.source.cda import (
    RETRY_STATUSES,
    _describe_transport_error,
    _retry_after,
    credentials_stay_home,
)

REPORTS = ("usage", "subscription", "devices", "url", "http-statuses", "hit-miss-ratio", "sdk")
SERVICES = ("cdn", "cma", "cda", "graphql", "launch", "automate")
DURATIONS = ("day", "week", "month")
MAX_DAYS = 90
RATE = 10.0  # requests per second
MAX_PAGES = 1000
ACTIVE_WORDS = ("active", "pending", "processing", "queued", "running", "in progress")
Params = Sequence[tuple[str, str]]


class AnalyticsError(APIError):
    """The Analytics API refused a request, a job failed, or the input is invalid."""


class JobTimeout(SitegenError):
    """The job did not finish in time; ``job_id`` resumes it with ``sitegen analytics job``."""

    def __init__(self, job_id: str, waited: float):
        super().__init__(
            f"job {job_id} is still running after {waited:.0f}s; resume waiting with: "
            f"sitegen analytics job {job_id}"
        )
        self.job_id = job_id


@dataclass
class Report:
    job_id: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    pages: int = 0


# -- validation ------------------------------------------------------------------------------


def parse_date(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise AnalyticsError(f"--{name} {value!r} is not a date (YYYY-MM-DD)") from None


def check_range(start: str, end: str) -> None:
    a, b = parse_date(start, "from"), parse_date(end, "to")
    if a > b:
        raise AnalyticsError(f"--from {start} is after --to {end}")
    if (b - a).days > MAX_DAYS:
        raise AnalyticsError(
            f"--from {start} to --to {end} is {(b - a).days} days; the API allows at most "
            f"{MAX_DAYS}: split the range"
        )


def parse_services(value: str) -> list[str]:
    names = [s.strip().lower() for s in value.split(",") if s.strip()]
    if not names:
        raise AnalyticsError(f"--services is empty; give some of {', '.join(SERVICES)}")
    for name in names:
        if name not in SERVICES:
            raise AnalyticsError(
                f"--services: {name!r} is not a known service; use {', '.join(SERVICES)}"
            )
    return list(dict.fromkeys(names))


def check_report(name: str) -> None:
    if name not in REPORTS:
        raise AnalyticsError(f"{name!r} is not a known report; use one of {', '.join(REPORTS)}")


def usage_params(
    start: str, end: str, duration: str | None = None, services: list[str] | None = None
) -> list[tuple[str, str]]:
    check_range(start, end)
    params = [("from", start), ("to", end)]
    if duration:
        if duration not in DURATIONS:
            raise AnalyticsError(f"--duration {duration!r}: use one of {', '.join(DURATIONS)}")
        params.append(("duration", duration))
    if services:
        params.append(("services", json.dumps(services, separators=(",", ":"))))
    return params


def report_params(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``--param key=value`` pairs, checked where the key is known (dates, services...)."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AnalyticsError(f"--param {pair!r} is not KEY=VALUE")
        if key.strip() == "orgUid":
            raise AnalyticsError("--param orgUid: the organization comes from [analytics] org_uid")
        params[key.strip()] = value.strip()
    for key in ("from", "to"):
        if key in params:
            parse_date(params[key], key)
    if "from" in params and "to" in params:
        check_range(params["from"], params["to"])
    if "duration" in params and params["duration"] not in DURATIONS:
        raise AnalyticsError(f"--param duration: use one of {', '.join(DURATIONS)}")
    if "services" in params:
        value = params["services"]
        try:
            names = json.loads(value) if value.startswith("[") else None
        except ValueError:
            names = None
        listed = ",".join(map(str, names)) if isinstance(names, list) else value
        params["services"] = json.dumps(parse_services(listed), separators=(",", ":"))
    return list(params.items())


# -- the client ------------------------------------------------------------------------------


class RateLimiter:
    """At most ``rate`` request starts per second (evenly spaced)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ):
        self.interval = 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self.next_at = float("-inf")

    async def wait(self) -> None:
        now = self.clock()
        if now < self.next_at:
            await self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


class AnalyticsClient:
    """``async with AnalyticsClient(base_url, org_uid, token) as client: await client.run(...)``."""

    def __init__(
        self,
        base_url: str,
        org_uid: str,
        authtoken: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 300.0,
        request_timeout: float = 30.0,
        max_tries: int = 6,
        backoff: float = 0.5,
        poll_interval: float = 1.0,
        max_poll_interval: float = 15.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        progress: Callable[[str], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.org_uid = org_uid
        self._token = authtoken
        self.timeout = timeout
        self.max_tries = max_tries
        self._backoff = backoff
        self._poll = poll_interval
        self._max_poll = max_poll_interval
        self._sleep, self._clock = sleep, clock
        self._progress = progress or (lambda _text: None)
        self.limiter = RateLimiter(RATE, clock, sleep)
        self.requests = 0
        headers = {
            "user-agent": f"sitegen/{__version__}",
            "accept": "application/json",
            "authtoken": authtoken,
        }
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(request_timeout, connect=min(10.0, request_timeout)),
            follow_redirects=True,
            event_hooks={"request": [credentials_stay_home(self.base_url)]},
        )

    async def __aenter__(self) -> AnalyticsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    def redact(self, text: str) -> str:
        if self._token and len(self._token) >= 4:
            text = text.replace(self._token, "***")
        return text

    async def get(self, path: str, params: Params = ()) -> tuple[int, Any]:
        """GET path with orgUid, retried on 429/5xx/transport errors: (status, parsed body)."""
        query = [("orgUid", self.org_uid), *params]
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.wait()
            self.requests += 1
            retry_after = None
            try:
                response = await self._http.get(path, params=query)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                problem = _describe_transport_error(err)
                status = None
            else:
                status = response.status_code
                if status not in RETRY_STATUSES:
                    return status, _json(response)
                problem = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("retry-after"))
            if attempt >= self.max_tries:
                raise AnalyticsError(
                    self.redact(
                        f"GET {path} failed after {attempt} tries: {problem} "
                        f"(host {self.base_url}; check [analytics] host and your network)"
                    ),
                    status=status,
                )
            delay = (
                min(retry_after, 60.0)
                if retry_after is not None
                else random.uniform(0, min(20.0, self._backoff * 2 ** (attempt - 1)))
            )
            await self._sleep(delay)

    def _refusal(self, path: str, status: int, body: Any) -> AnalyticsError:
        message = ""
        if isinstance(body, dict):
            message = str(
                body.get("error_message") or body.get("message") or body.get("error") or ""
            )
        elif isinstance(body, str):
            message = body
        message = message.strip() or httpx.codes.get_reason_phrase(status)
        hint = {
            401: "the authtoken was refused: check CONTENTSTACK_AUTHTOKEN",
            403: "not allowed: analytics needs an owner or admin of the organization "
            "([analytics] org_uid)",
            412: "analytics is not enabled for this organization (ask Contentstack to enable it)",
            422: "a parameter was refused",
            404: "not found: check the report name, the job id and [analytics] host",
        }.get(status, "the request was refused")
        return AnalyticsError(
            self.redact(f"{hint} (HTTP {status} for GET {path}: {message})"), status=status
        )

    async def create(self, report: str, params: Params) -> tuple[str, bool]:
        """Start a report job: (jobId, paginated)."""
        check_report(report)
        path = f"/analytics/v2/{report}"
        status, body = await self.get(path, params)
        if status >= 400:
            raise self._refusal(path, status, body)
        if not isinstance(body, dict) or not isinstance(body.get("jobId"), str):
            raise AnalyticsError(
                f"GET {path}: the answer has no jobId; is [analytics] host the Analytics API?",
                status=status,
            )
        return body["jobId"], bool(body.get("paginated"))

    async def fetch(self, job_id: str, paginated: bool | None = None) -> Report:
        """Wait for the job and fetch all its pages (``paginated`` from the creation answer)."""
        path = f"/analytics/v2/job/{job_id}/data"
        report = Report(job_id)
        started = self._clock()
        wait = self._poll
        page = 0
        while page < MAX_PAGES:
            status, body = await self.get(path, [("page", str(page))])
            if status >= 400:
                if page > 0 and paginated and status in (400, 404, 422):
                    break  # past the last page of a job that did not say how many there are
                raise self._refusal(path, status, body)
            if _is_active(body):
                waited = self._clock() - started
                if waited + wait > self.timeout:
                    raise JobTimeout(job_id, waited)
                self._progress(f"job {job_id}: still running ({waited:.0f}s)")
                await self._sleep(wait)
                wait = min(self._max_poll, wait * 1.5)
                continue
            failure = _failure(body)
            if failure is not None:
                raise AnalyticsError(self.redact(f"job {job_id} failed: {failure}"))
            rows = body.get("data")
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise AnalyticsError(f"GET {path}: the answer has no list of rows in data")
            report.rows.extend(rows)
            report.pages += 1
            if isinstance(body.get("meta"), dict) and not report.meta:
                report.meta = body["meta"]
            more = body.get("paginated", paginated)
            if not more or (not rows and "paginated" not in body):
                break
            if page + 1 < MAX_PAGES:
                self._progress(f"job {job_id}: page {page + 1} ({len(report.rows)} rows)")
            page += 1
        return report

    async def run(self, report: str, params: Params) -> Report:
        job_id, paginated = await self.create(report, params)
        self._progress(f"job {job_id} created")
        return await self.fetch(job_id, paginated)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return response.content[:200].decode("utf-8", "replace")


def _is_active(body: Any) -> bool:
    """A "Job active" answer: the job is still being processed."""
    if isinstance(body, str):
        return "job active" in body.lower() or body.strip().lower() in ACTIVE_WORDS
    if not isinstance(body, dict) or "data" in body:
        return False
    for key in ("message", "status", "notice", "state", "jobStatus"):
        value = body.get(key)
        if isinstance(value, str) and any(w in value.lower() for w in ACTIVE_WORDS):
            return True
    return False


def _failure(body: Any) -> str | None:
    """Why the job failed, when the answer says it did (None for a data answer)."""
    if isinstance(body, dict) and "data" in body:
        return None
    if isinstance(body, dict):
        status = str(body.get("status") or body.get("jobStatus") or "").lower()
        message = body.get("error_message") or body.get("message") or body.get("error")
        if status in ("failed", "error") or message:
            return str(message or status)
    return f"unexpected answer {str(body)[:120]!r}"
