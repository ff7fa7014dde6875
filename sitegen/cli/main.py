"""The ``sitegen`` command group. Thin: each command (:mod:`sitegen.cli.commands`) parses its
arguments, shows progress and calls the pipeline or a server.

Heavy imports happen inside the commands so that ``sitegen --help`` stays fast.
"""

from __future__ import annotations

import click

from sitegen import __version__
from sitegen.cli.commands.analytics import analytics
from sitegen.cli.commands.build import build
from sitegen.cli.commands.dev import dev
from sitegen.cli.commands.hook import hook
from sitegen.cli.commands.init import init
from sitegen.cli.commands.preview import preview
from sitegen.cli.commands.stack import stack


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitegen")
def cli() -> None:
    """sitegen: build static sites from Contentstack content."""


for command in (build, stack, dev, preview, hook, analytics, init):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="sitegen")
