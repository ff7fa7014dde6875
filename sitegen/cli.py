"""The ``sitegen`` command line. Thin: it parses arguments, shows progress and calls the pipeline.

Heavy imports happen inside the commands so that ``sitegen --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sitegen import __version__
from sitegen.commands.options import fail, listen_options
from sitegen.errors import SitegenError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli() -> None:
    """sitegen: build static sites from Contentstack content."""


@cli.command()
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
    help="Exit 1 when a link is broken (implies --check-links; the site stays built).",
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
    from sitegen.config import for_preview, load_config
    from sitegen.progress import TerminalProgress, summary
    from sitegen.webhook import describe_netlify_trigger

    if live_preview and not preview:
        fail(SitegenError("--live-preview goes with --preview"))
    from sitegen.interrupts import stop_on_sigterm, stopped_message

    stopped = stop_on_sigterm()
    try:
        config = load_config(site_dir)
        trigger = describe_netlify_trigger(environment=config.stack.environment)
        if trigger:  # a Netlify build started by a Contentstack webhook: say which entry
            click.echo(trigger, err=True)
        if preview:
            config = for_preview(config, live_preview)
        with TerminalProgress(quiet=quiet) as progress:
            result = build_site(config, full=full, progress=progress, jobs=jobs, executor=executor)
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt as err:
        message, code = stopped_message(err, stopped)
        click.echo(message, err=True)
        sys.exit(code)
    click.echo(summary(result))
    if usage_days:
        from sitegen.usage import cdn_usage_line

        try:
            click.echo(cdn_usage_line(config, usage_days))
        except SitegenError as err:  # the site is built: say why there is no usage, don't fail
            click.echo(f"CDN usage not shown: {err}")
    if check_links or strict:
        from sitegen.build import STORE_NAME
        from sitegen.links import check_links as find_broken
        from sitegen.links import describe, owners

        try:
            report = find_broken(result.output, config.base_url)
        except OSError as err:  # the site is built; the check could not read it
            click.echo(f"links not checked: {err}", err=True)
            sys.exit(1 if strict else 0)
        page_owners = owners(config.state_dir / STORE_NAME, report.pages)
        label = click.style("error: " if strict else "warning: ", fg="red" if strict else "yellow")
        for line in describe(report, page_owners.get):
            click.echo(label + "broken link: " + line, err=True)
        checked = f"{report.links} internal links in {report.files} files checked"
        if not report.broken:
            click.echo(f"Links: {checked}, none broken.")
        elif strict:
            click.echo(
                f"Links: {report.summary()} ({checked}). The site was built in {result.output}, "
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


@cli.group()
def stack() -> None:
    """Work with a local stack folder (the offline stand-in for Contentstack)."""


@stack.command("serve")
@click.argument("stack_dir", type=click.Path(file_okay=False, path_type=Path))
@listen_options(port=8765)
def stack_serve(stack_dir: Path, host: str, port: int) -> None:
    """Serve STACK_DIR over the Content Delivery API (CDA v3, Sync API included)."""
    from sitegen.stack.app import serve
    from sitegen.stack.folder import load_stack

    try:
        load_stack(stack_dir)
        where = f"http://{host}:{port}" if port else f"{host}, on a free port (shown below)"
        click.echo(f"serving {stack_dir} at {where} (Ctrl-C to stop)", err=True)
        serve(stack_dir, host=host, port=port)
    except SitegenError as err:
        fail(err)


@stack.command("pull")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--site",
    "site_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Site folder whose sitegen.toml [stack] settings name the stack to read "
    "(Contentstack, any CDA host, or a [stack] local folder).",
)
@click.option(
    "--locale",
    "locales",
    multiple=True,
    metavar="CODE",
    help="A locale to keep (repeatable); the first is the master locale. Default: every "
    "locale the content is in, the master being the one with the most entries.",
)
@click.option(
    "--fallback",
    "fallbacks",
    multiple=True,
    metavar="CODE=FALLBACK",
    help="Write fallback_locale for a locale, e.g. fr-ca=fr-fr (repeatable). The CDA does not "
    "tell fallback chains: without this, every locale falls back to the master locale.",
)
@click.option(
    "--assets",
    "download_assets",
    is_flag=True,
    help="Download asset files into assets/<uid>/<filename> instead of keeping their URLs "
    "(files whose URL is relative to the source, as a local stack's are, are always downloaded).",
)
@click.option("--force", is_flag=True, help="Replace OUT_DIR even if it is not empty.")
def stack_pull(
    out_dir: Path,
    site_dir: Path,
    locales: tuple[str, ...],
    fallbacks: tuple[str, ...],
    download_assets: bool,
    force: bool,
) -> None:
    """Snapshot a stack into OUT_DIR, a local stack folder.

    Reads content types, and every published entry and asset through the Sync API, and writes
    them in the local stack format for `sitegen stack serve` or `[stack] local`. The snapshot
    holds no credentials (its server accepts any); locale names are their codes. A failed pull
    leaves nothing behind.
    """
    from sitegen.config import load_config
    from sitegen.progress import TerminalProgress
    from sitegen.stack.snapshot import check_out_dir, parse_fallbacks, pull

    try:
        fallback_map = parse_fallbacks(fallbacks)
        check_out_dir(out_dir, force=force)
        config = load_config(site_dir)
        with TerminalProgress() as progress:
            result = pull(
                config.stack,
                out_dir,
                locales=list(locales) or None,
                fallbacks=fallback_map,
                download_assets=download_assets,
                force=force,
                progress=progress,
            )
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    click.echo(result.describe())


from sitegen.commands.dev import dev  # noqa: E402

cli.add_command(dev)

from sitegen.commands.hook import hook  # noqa: E402

cli.add_command(hook)

from sitegen.commands.analytics import analytics  # noqa: E402

cli.add_command(analytics)

from sitegen.commands.init import init  # noqa: E402

cli.add_command(init)


def main() -> None:
    cli(prog_name="sitegen")
