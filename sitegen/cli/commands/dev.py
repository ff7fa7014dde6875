"""``sitegen dev``: build, serve, rebuild on change and reload open pages (a thin wrapper).

The work happens in :class:`sitegen.server.dev.DevServer`; this module only parses arguments,
prints where to look and turns Ctrl-C into a clean stop.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from sitegen.cli.options import fail, listen_options


@click.command()
@click.argument("site_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@listen_options(port=8000)
def dev(site_dir: Path, port: int, host: str) -> None:
    """Build SITE_DIR, serve it, and rebuild and reload open pages on every change.

    Watches the templates, static and local stack folders and sitegen.toml. Pages get a small
    live-reload script as they are served (the files written stay as `sitegen build` writes
    them). A failed build keeps the last good site served and shows the error in the page.
    """
    from sitegen.cli.progress import TerminalProgress
    from sitegen.errors import SitegenError
    from sitegen.server.dev import DevServer

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops as cleanly as Ctrl-C

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        server = DevServer(
            site_dir, host=host, port=port, progress=lambda quiet: TerminalProgress(quiet=quiet)
        )
        try:
            url = server.start()
            click.echo(f"Serving {server.serving} at {url} (Ctrl-C to stop)")
            server.wait()
        except SitegenError as err:
            server.stop()
            fail(err)
        except KeyboardInterrupt:
            pass
        try:
            server.stop()
        except KeyboardInterrupt:  # a second Ctrl-C while a build finishes
            click.echo(
                "stopped during a build; the next build picks up where it left off", err=True
            )
            sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("stopped")
