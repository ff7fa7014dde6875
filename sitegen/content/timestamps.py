"""Timestamps the way Contentstack writes them: UTC, millisecond precision, a trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """The current time the way Contentstack writes timestamps (UTC, milliseconds, Z)."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    """A datetime in Contentstack's timestamp format."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 date or date-time (a missing zone means UTC); None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
