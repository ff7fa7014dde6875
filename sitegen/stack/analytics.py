"""The local stack's request log and its stand-in for Contentstack's Analytics API (v2).

Every CDA request the local server answers is counted by UTC day, service and HTTP status
(count and response bytes) in the table ``request_log`` of the stack's history database, so
the numbers survive restarts. The analytics endpoints answer from that log the way Contentstack
does: creating a report (``GET /analytics/v2/<report>``) answers ``{"jobId", "paginated"}``;
``GET /analytics/v2/job/<jobId>/data?page=N`` answers ``{"message": "Job active"}`` for the
first poll(s) and then pages of ``PAGE_SIZE`` rows, each saying whether another page follows
(``paginated``). Any ``authtoken`` is accepted, but one must be sent, as on Contentstack.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sitegen.stack.responses import JSONResponse

PAGE_SIZE = 30
ACTIVE_POLLS = 1  # "Job active" answers before a job's data is ready

SCHEMA = """
CREATE TABLE IF NOT EXISTS request_log (
    day TEXT NOT NULL,
    service TEXT NOT NULL,
    status INTEGER NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (day, service, status)
)
"""


class UsageLog:
    """Request counts and bytes by (UTC day, service, status), in the history database."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 30.0):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            Path(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, service: str, status: int, size: int, *, when: datetime | None = None) -> None:
        day = (when or datetime.now(UTC)).date().isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO request_log (day, service, status, count, bytes) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (day, service, status) DO UPDATE SET "
                "count = count + 1, bytes = bytes + excluded.bytes",
                (day, service, status, size),
            )

    def rows(self, start: date, end: date) -> list[tuple[str, str, int, int, int]]:
        """(day, service, status, count, bytes) from start to end, both included."""
        with self._lock:
            return list(
                self._db.execute(
                    "SELECT day, service, status, count, bytes FROM request_log "
                    "WHERE day >= ? AND day <= ? ORDER BY day, service, status",
                    (start.isoformat(), end.isoformat()),
                )
            )


def response_size(response: Response) -> int:
    body = getattr(response, "body", None)
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else 0


# -- the Analytics API stand-in -------------------------------------------------------------


@dataclass
class _Job:
    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    polls_left: int = ACTIVE_POLLS
    uid: str = field(default_factory=lambda: secrets.token_hex(8))


def _error(status: int, message: str, code: int) -> JSONResponse:
    return JSONResponse(
        {"error_message": message, "error_code": code, "errors": {}}, status_code=status
    )


def _period(day: date, duration: str) -> date:
    if duration == "week":
        return day - timedelta(days=day.weekday())
    if duration == "month":
        return day.replace(day=1)
    return day


def _usage_rows(
    log: UsageLog, start: date, end: date, duration: str, services: list[str] | None
) -> list[dict[str, Any]]:
    periods: dict[date, dict[str, Any]] = {}
    day = start
    while day <= end:
        key = _period(day, duration)
        periods.setdefault(
            key,
            {
                "date": key.isoformat(),
                "total_cdn_count": 0,
                "total_cdn_bandwidth": 0,
                "total_api_count": 0,
                "total_api_bandwidth": 0,
            },
        )
        day += timedelta(days=1)
    for day_text, service, _status, count, size in log.rows(start, end):
        if services and service not in services:
            continue
        row = periods[_period(date.fromisoformat(day_text), duration)]
        kind = "cdn" if service == "cdn" else "api"
        row[f"total_{kind}_count"] += count
        row[f"total_{kind}_bandwidth"] += size
    return list(periods.values())


def _status_rows(log: UsageLog, start: date, end: date) -> list[dict[str, Any]]:
    totals: dict[int, int] = {}
    for _day, _service, status, count, _size in log.rows(start, end):
        totals[status] = totals.get(status, 0) + count
    return [{"status": str(s), "count": c} for s, c in sorted(totals.items())]


class AnalyticsService:
    """Jobs of the local Analytics API (kept in memory: a restarted server forgets them)."""

    def __init__(self, log: UsageLog):
        self.log = log
        self.jobs: dict[str, _Job] = {}
        self.lock = threading.Lock()

    def create(self, request: Request) -> Response:
        report = request.path_params["report"]
        qp = request.query_params
        meta = {k: v for k, v in qp.items()}
        if report == "subscription":
            rows: list[dict[str, Any]] = [
                {"total_launch_project": 0, "total_launch_env": 0, "total_launch_domain": 0}
            ]
        elif report in ("usage", "http-statuses"):
            try:
                start = date.fromisoformat(qp.get("from", ""))
                end = date.fromisoformat(qp.get("to", ""))
            except ValueError:
                return _error(422, "from and to must be dates (YYYY-MM-DD).", 422)
            if start > end or (end - start).days > 90:
                return _error(422, "from must not be after to, at most 90 days apart.", 422)
            if report == "usage":
                duration = qp.get("duration", "day")
                if duration not in ("day", "week", "month"):
                    return _error(422, "duration must be day, week or month.", 422)
                services = None
                if "services" in qp:
                    try:
                        services = json.loads(qp["services"])
                    except ValueError:
                        services = None
                    if not isinstance(services, list):
                        return _error(422, 'services must be a JSON array like ["cdn"].', 422)
                rows = _usage_rows(self.log, start, end, duration, services)
            else:
                rows = _status_rows(self.log, start, end)
        elif report in ("devices", "url", "hit-miss-ratio", "sdk"):
            rows = []  # the local stack has no CDN edge, devices or SDK headers to report on
        else:
            return _error(404, f"There is no report named {report!r}.", 404)
        job_id = f"job_{secrets.token_hex(12)}"
        with self.lock:
            self.jobs[job_id] = _Job(rows=rows, meta=meta)
        return JSONResponse({"jobId": job_id, "paginated": len(rows) > PAGE_SIZE})

    def data(self, request: Request) -> Response:
        with self.lock:
            job = self.jobs.get(request.path_params["job_id"])
            if job is None:
                return _error(404, "There is no job with this id.", 404)
            if job.polls_left > 0:
                job.polls_left -= 1
                return JSONResponse({"message": "Job active"})
        page_text = request.query_params.get("page", "0")
        pages = max(1, -(-len(job.rows) // PAGE_SIZE))
        if not page_text.isdigit() or int(page_text) >= pages:
            return _error(422, f"page must be a number from 0 to {pages - 1}.", 422)
        page = int(page_text)
        return JSONResponse(
            {
                "data": job.rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE],
                "meta": job.meta,
                "uid": job.uid,
                "page": page,
                "paginated": page + 1 < pages,
            }
        )


def analytics_routes(service: AnalyticsService) -> list[Route]:
    def guarded(
        handler: Callable[[Request], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not request.headers.get("authtoken"):
                return _error(401, "You're not logged in: send an authtoken header.", 105)
            if not request.query_params.get("orgUid"):
                return _error(422, "orgUid is required.", 422)
            return handler(request)

        return endpoint

    return [
        Route("/analytics/v2/job/{job_id}/data", guarded(service.data)),
        Route("/analytics/v2/{report}", guarded(service.create)),
    ]
