"""``sitegen analytics``: usage and other reports from Contentstack's Analytics API (v2).

The organization comes from ``[analytics] org_uid`` and the authtoken from
CONTENTSTACK_AUTHTOKEN (never from a file, never printed). A site with ``[stack] local`` and no
``[analytics] host`` asks its local stack in-process, which reports the CDA requests it served
and needs no token or organization.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from sitegen.errors import ConfigError, SitegenError

# Extra keyword arguments for AnalyticsClient (tests inject a fake sleep and clock here).
CLIENT_OPTIONS: dict[str, Any] = {}
TIMEOUT_EXIT = 3
LOCAL_TOKEN = "local"
LOCAL_ORG = "local"

site_option = click.option(
    "--site",
    "site_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Site folder whose sitegen.toml holds [analytics] (and [stack] for the region).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people; json (rows and meta) or csv (rows) for machines.",
)
out_option = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of the terminal.",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to wait for the job (default: [analytics] timeout, else 300).",
)


def _fail(err: SitegenError, code: int = 1) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + str(err), err=True)
    sys.exit(code)


@click.group()
def analytics() -> None:
    """Usage reports (CDN bandwidth, request counts…) from the Analytics API."""


def _run(
    site_dir: Path,
    timeout: float | None,
    work: Callable[[Any], Awaitable[Any]],
) -> Any:
    """Configure a client for the site, run ``work(client)`` and map errors to exits."""
    import httpx

    from sitegen.config import load_config
    from sitegen.source.analytics import AnalyticsClient, JobTimeout
    from sitegen.source.regions import analytics_base_url

    app = None
    try:
        config = load_config(site_dir)
        settings = config.analytics
        token = os.environ.get("CONTENTSTACK_AUTHTOKEN", "").strip()
        transport: httpx.AsyncBaseTransport | None = None
        org_uid = settings.org_uid
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
                "progress": lambda text: click.echo(text, err=True),
                **CLIENT_OPTIONS,
            }
            async with AnalyticsClient(base_url, org_uid, token, **options) as client:
                return await work(client)

        return asyncio.run(main())
    except JobTimeout as err:
        _fail(err, TIMEOUT_EXIT)
    except SitegenError as err:
        _fail(err)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if app is not None:
            app.state.usage.close()
            app.state.service.close()


def _emit(report: Any, fmt: str, out: Path | None) -> None:
    from sitegen.analytics_report import render

    text = render(report.rows, report.meta, fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(report.rows)} rows to {out}", err=True)


@analytics.command("usage")
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="First day.")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="Last day (included).")
@click.option(
    "--duration",
    type=click.Choice(["day", "week", "month"]),
    help="Rows per day, week or month (the API's default: day).",
)
@click.option("--services", metavar="LIST", help="Comma-separated services, e.g. cdn,cma.")
@format_option
@out_option
@timeout_option
@site_option
def usage(
    start: str,
    end: str,
    duration: str | None,
    services: str | None,
    fmt: str,
    out: Path | None,
    timeout: float | None,
    site_dir: Path,
) -> None:
    """API and CDN request counts and bandwidth from --from to --to (at most 90 days)."""
    from sitegen.source.analytics import parse_services, usage_params

    try:
        params = usage_params(start, end, duration, parse_services(services) if services else None)
    except SitegenError as err:
        _fail(err)
    report = _run(site_dir, timeout, lambda client: client.run("usage", params))
    _emit(report, fmt, out)


@analytics.command("report")
@click.argument("name")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A query parameter of the report (repeatable), e.g. --param from=2024-05-01.",
)
@format_option
@out_option
@timeout_option
@site_option
def report(
    name: str,
    params: tuple[str, ...],
    fmt: str,
    out: Path | None,
    timeout: float | None,
    site_dir: Path,
) -> None:
    """Run report NAME: usage, subscription, devices, url, http-statuses, hit-miss-ratio, sdk."""
    from sitegen.source.analytics import check_report, report_params

    try:
        check_report(name)
        query = report_params(params)
    except SitegenError as err:
        _fail(err)
    result = _run(site_dir, timeout, lambda client: client.run(name, query))
    _emit(result, fmt, out)


@analytics.command("job")
@click.argument("job_id")
@format_option
@out_option
@timeout_option
@site_option
def job(job_id: str, fmt: str, out: Path | None, timeout: float | None, site_dir: Path) -> None:
    """Fetch the rows of JOB_ID, a job created earlier (waiting while it still runs)."""
    result = _run(site_dir, timeout, lambda client: client.fetch(job_id))
    _emit(result, fmt, out)
