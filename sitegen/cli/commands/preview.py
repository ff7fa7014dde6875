"""``sitegen preview serve``: Live Preview for editors (the server is sitegen.server.preview)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sitegen.cli.options import fail, listen_options


@click.group()
def preview() -> None:
    """Live Preview: pages rendered on request from the editor's unsaved changes."""


@preview.command("serve")
@click.argument("site_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@listen_options(port=8010)
def preview_serve(site_dir: Path, host: str, port: int) -> None:
    """Build SITE_DIR's drafts, then serve them for Contentstack's Live Preview.

    Set the stack's Live Preview URL to this server. A page the editor is changing is rendered
    on each request from the Preview API with the session's hash; everything else comes from
    the preview build made at start. Pages carry edit tags (cslp) and live-preview-utils.
    Binds to 127.0.0.1 unless told otherwise; elsewhere SITEGEN_PREVIEW_PASSWORD (Basic Auth)
    is required. Needs CONTENTSTACK_PREVIEW_TOKEN for a remote stack.
    """
    from sitegen.config import load_config
    from sitegen.errors import SitegenError
    from sitegen.server.preview import PASSWORD_ENV, serve

    try:
        config = load_config(site_dir)
        click.echo(
            f"building the preview of {site_dir}, then serving it on {host}:{port}", err=True
        )
        serve(config, host, port, os.environ.get(PASSWORD_ENV) or None)
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
