"""``sitegen stack``: serve a local stack folder, or snapshot a stack into one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sitegen.cli.options import fail, listen_options
from sitegen.errors import SitegenError


@click.group()
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
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="UID",
    help="An entry variant to keep (repeatable): a variant uid or a Personalize alias "
    "(cs_personalize_<experience>_<variant>). The CDA lists no variants, so name them.",
)
@click.option("--force", is_flag=True, help="Replace OUT_DIR even if it is not empty.")
def stack_pull(
    out_dir: Path,
    site_dir: Path,
    locales: tuple[str, ...],
    fallbacks: tuple[str, ...],
    download_assets: bool,
    variants: tuple[str, ...],
    force: bool,
) -> None:
    """Snapshot a stack into OUT_DIR, a local stack folder.

    Reads content types, and every published entry and asset through the Sync API, and writes
    them in the local stack format for `sitegen stack serve` or `[stack] local`. The snapshot
    holds no credentials (its server accepts any); locale names are their codes. A failed pull
    leaves nothing behind.
    """
    from sitegen.cli.progress import TerminalProgress
    from sitegen.config import load_config
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
                variants=variants,
                progress=progress,
            )
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    click.echo(result.describe())
