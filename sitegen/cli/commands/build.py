"""``sitegen build``: one build of a site, full or incremental, with its summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sitegen.cli.options import fail
from sitegen.errors import SitegenError, shown_path

if TYPE_CHECKING:
    from sitegen.build import BuildResult
    from sitegen.config import SiteConfig


@click.command()
@click.argument("site_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--full",
    is_flag=True,
    help="Pull everything and render every page, even when an incremental build is possible.",
)
@click.option(
    "--preview",
    is_flag=True,
    help="Build draft content into the preview output (its own folder and state; noindex).",
)
@click.option("--live-preview", metavar="HASH", help="The live preview hash (with --preview).")
@click.option(
    "--usage-days",
    type=click.IntRange(1, 90),
    metavar="N",
    help="Add the stack's CDN usage over the last N days to the summary (Analytics API).",
)
@click.option(
    "--check-links",
    is_flag=True,
    help="After the build, check every internal link and asset reference in the output; "
    "broken ones are printed as warnings.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on template warnings (an undefined value used, url_for() of an entry without "
    "a page, a t() key without a translation): exit 1, the site in the output folder left as it "
    "was. Also exit 1 when a link is broken (implies --check-links; the site stays built).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    metavar="N",
    help="Render a full build in N processes (default: the number of cores).",
)
@click.option(
    "--executor",
    metavar="dask://HOST:PORT",
    help="Render a full build on a Dask cluster (pip install 'sitegen[dask]').",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings, errors and the summary.")
def build(
    site_dir: Path,
    full: bool,
    preview: bool,
    live_preview: str | None,
    usage_days: int | None,
    check_links: bool,
    strict: bool,
    jobs: int | None,
    executor: str | None,
    quiet: bool,
) -> None:
    """Build the site described by SITE_DIR/sitegen.toml.

    Incremental when the state of an earlier build is there, full otherwise.
    """
    from sitegen.build import build_site
    from sitegen.cli.progress import TerminalProgress
    from sitegen.config import for_preview, load_config
    from sitegen.server.webhook import describe_netlify_trigger

    if live_preview and not preview:
        fail(SitegenError("--live-preview goes with --preview"))
    from sitegen.cli.signals import stop_on_sigterm, stopped_message

    stopped = stop_on_sigterm()
    result = None
    try:
        config = load_config(site_dir)
        trigger = describe_netlify_trigger(environment=config.stack.environment)
        if trigger:  # a Netlify build started by a Contentstack webhook: say which entry
            click.echo(trigger, err=True)
        if preview:
            config = for_preview(config, live_preview)
        with TerminalProgress(quiet=quiet) as progress:
            result = build_site(
                config, full=full, progress=progress, jobs=jobs, executor=executor, strict=strict
            )
        click.echo(result.summary())
        if usage_days:
            _usage(config, usage_days)
        if check_links or strict:
            _links(result, strict)
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt as err:
        message, code = stopped_message(err, stopped, built=result is not None)
        click.echo(message, err=True)
        sys.exit(code)


def _usage(config: SiteConfig, days: int) -> None:
    from sitegen.analytics.usage import cdn_usage_line

    try:
        click.echo(cdn_usage_line(config, days))
    except SitegenError as err:  # the site is built: say why there is no usage, don't fail
        click.echo(f"CDN usage not shown: {err}")


def _links(result: BuildResult, strict: bool) -> None:
    """Check the built site's links; with ``strict`` a broken one exits 1 (the site stays)."""
    check = result.check_links()
    if check.report is None:
        click.echo(f"links not checked: {check.error}", err=True)
        sys.exit(1 if strict else 0)
    report = check.report
    label = click.style("error: " if strict else "warning: ", fg="red" if strict else "yellow")
    for line in check.lines:
        click.echo(label + "broken link: " + line, err=True)
    checked = f"{report.links} internal links in {report.files} files checked"
    if not report.broken:
        click.echo(f"Links: {checked}, none broken.")
    elif strict:
        click.echo(
            f"Links: {report.summary()} ({checked}). The site was built in "
            f"{shown_path(result.output)}, "
            "but --strict fails the build: fix the links (or the pages they point to) "
            "in the templates or entries named above.",
            err=True,
        )
        sys.exit(1)
    else:
        click.echo(
            f"Links: {report.summary()} ({checked}): fix them in the templates or entries "
            "named above; --strict makes them fail the build."
        )
