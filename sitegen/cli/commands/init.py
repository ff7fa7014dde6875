"""``sitegen init``: a new site from one of the starters, ready to build (a thin wrapper).

The copying lives in :mod:`sitegen.cli.scaffold`; this module parses arguments and says what to run
next.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

# A folder that is not empty, an unknown starter: a usage mistake, like click's own (exit 2).
USAGE_EXIT = 2


@click.command()
@click.argument("new_dir", type=click.Path(path_type=Path))
@click.option(
    "--starter",
    default="blog",
    show_default=True,
    metavar="NAME",
    help="The starter to copy: blog (posts, authors, tags) or docs (sections of ordered pages "
    "with a sidebar).",
)
def init(new_dir: Path, starter: str) -> None:
    """Create a new site in NEW_DIR (a new or empty folder) from a starter.

    The site has a sitegen.toml, templates, a stylesheet and a small local stack in two
    languages, so it builds right away, offline. Nothing is written unless all of it is.
    """
    from sitegen.cli.scaffold import InitError, create_site

    try:
        made = create_site(new_dir, starter)
    except InitError as err:
        click.echo(click.style("error: ", fg="red", bold=True) + str(err), err=True)
        sys.exit(USAGE_EXIT)
    except OSError as err:
        click.echo(
            click.style("error: ", fg="red", bold=True)
            + f"{new_dir}: could not create the site ({err.strerror or err}); nothing was written",
            err=True,
        )
        sys.exit(1)
    where = shlex.quote(str(new_dir))
    click.echo(f"Created a {made.starter} site in {new_dir} ({made.files} files). Next:")
    click.echo(f"  sitegen build {where}    # builds it into {new_dir / 'public'}")
    click.echo(f"  sitegen dev {where}      # serves it with live reload while you edit")
