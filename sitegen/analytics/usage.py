"""Running Analytics API jobs for a site: the `analytics` commands and `build --usage-days`.

The organization comes from ``[analytics] org_uid`` and the authtoken from
CONTENTSTACK_AUTHTOKEN (never from a file, never printed). A site with ``[stack] local`` and no
``[analytics] host`` asks its local stack in-process, which reports the CDA requests it served
and needs no token or organization.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sitegen.config import SiteConfig
from sitegen.errors import ConfigError

LOCAL_TOKEN = "local"
LOCAL_ORG = "local"


def run_analytics(
    config: SiteConfig,
    work: Callable[[Any], Awaitable[Any]],
    *,
    timeout: float | None = None,
    progress: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> Any:
    """Configure an Analytics client for the site and run ``work(client)``; errors raise."""
    import httpx

    from sitegen.analytics.client import AnalyticsClient
    from sitegen.config.regions import analytics_base_url

    env = os.environ if env is None else env
    settings = config.analytics
    token = env.get("CONTENTSTACK_AUTHTOKEN", "").strip()
    transport: httpx.AsyncBaseTransport | None = None
    org_uid = settings.org_uid
    app = None
    if settings.host is None and config.stack.local is not None:
        from sitegen.stack.app import create_app

        app = create_app(config.stack.local)
        transport = httpx.ASGITransport(app=app)
        base_url = "http://local-stack"
        token, org_uid = token or LOCAL_TOKEN, org_uid or LOCAL_ORG
    else:
        base_url = settings.host or analytics_base_url(config.stack.region)
        if not token:
            raise ConfigError(
                "no authtoken: set CONTENTSTACK_AUTHTOKEN in the environment (the token of "
                "an owner or admin of the organization)"
            )
        if not org_uid:
            raise ConfigError(
                f'{config.config_file}: [analytics] org_uid is missing; set it (org_uid = "…")'
            )

    async def main() -> Any:
        options: dict[str, Any] = {
            "transport": transport,
            "timeout": timeout or settings.timeout,
            "progress": progress,
            **(client_options or {}),
        }
        async with AnalyticsClient(base_url, org_uid, token, **options) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    finally:
        if app is not None:
            app.state.usage.close()
            app.state.service.close()


def cdn_usage_line(config: SiteConfig, days: int, **options: Any) -> str:
    """One line for the build summary: CDN requests and bandwidth over the last ``days``."""
    from sitegen.analytics.client import usage_params
    from sitegen.analytics.report import human_bytes

    today = datetime.now(UTC).date()
    start = (today - timedelta(days=days - 1)).isoformat()
    params = usage_params(start, today.isoformat(), "day", ["cdn"])
    report = run_analytics(config, lambda client: client.run("usage", params), **options)
    count = sum(_number(row.get("total_cdn_count")) for row in report.rows)
    size = sum(_number(row.get("total_cdn_bandwidth")) for row in report.rows)
    return (
        f"CDN usage, last {days} day{'s' if days != 1 else ''} ({start} to {today}): "
        f"{int(count):,} requests, {human_bytes(size)}."
    )


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0
