"""What every command shares: how an error ends it, and the options of a server.

Kept free of heavy imports: ``sitegen --help`` imports this module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from sitegen.errors import SitegenError

F = TypeVar("F", bound=Callable[..., object])


def fail(err: SitegenError, code: int = 1) -> NoReturn:
    """End the command with one red line (no traceback: the message says what to fix)."""
    click.echo(click.style("error: ", fg="red", bold=True) + str(err), err=True)
    sys.exit(code)


def listen_options(port: int) -> Callable[[F], F]:
    """``--host`` and ``--port`` for a command that serves something, on loopback by default."""

    def decorate(command: F) -> F:
        command = click.option(
            "--port",
            default=port,
            show_default=True,
            type=click.IntRange(0, 65535),
            help="Port to listen on (0: any free port, shown when the server starts).",
        )(command)
        return click.option(
            "--host",
            default="127.0.0.1",
            show_default=True,
            help="Address to bind; anything but loopback exposes the server to the network.",
        )(command)

    return decorate
