"""``sitegen analytics``: usage and other reports from Contentstack's Analytics API (v2).

Configuration and the local-stack shortcut: see sitegen.analytics.usage.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from sitegen.cli.options import fail
from sitegen.errors import SitegenError

# Extra keyword arguments for AnalyticsClient (tests inject a fake sleep and clock here).
CLIENT_OPTIONS: dict[str, Any] = {}
TIMEOUT_EXIT = 3

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


@click.group()
def analytics() -> None:
    """Usage reports (CDN bandwidth, request counts…) from the Analytics API."""


def _run(
    site_dir: Path,
    timeout: float | None,
    work: Callable[[Any], Awaitable[Any]],
) -> Any:
    """Configure a client for the site, run ``work(client)`` and map errors to exits."""
    from sitegen.analytics.client import JobTimeout
    from sitegen.analytics.usage import run_analytics
    from sitegen.config import load_config

    try:
        return run_analytics(
            load_config(site_dir),
            work,
            timeout=timeout,
            progress=lambda text: click.echo(text, err=True),
            client_options=CLIENT_OPTIONS,
        )
    except JobTimeout as err:
        fail(err, TIMEOUT_EXIT)
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt:
        sys.exit(130)


def _emit(report: Any, fmt: str, out: Path | None) -> None:
    from sitegen.analytics.report import render

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
    from sitegen.analytics.client import parse_services, usage_params

    try:
        params = usage_params(start, end, duration, parse_services(services) if services else None)
    except SitegenError as err:
        fail(err)
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
    from sitegen.analytics.client import check_report, report_params

    try:
        check_report(name)
        query = report_params(params)
    except SitegenError as err:
        fail(err)
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
