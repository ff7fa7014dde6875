"""Errors a user can act on, and how their messages word counts and paths.

Every error raised for bad input derives from :class:`SitegenError`. The CLI prints its message
on one line (no traceback) and exits non-zero, so each message must name the place at fault
(file, entry, content type, setting or request path) and what to do about it. Messages never
contain credentials.
"""

import signal
from pathlib import Path


class SitegenError(Exception):
    """A failure the user can fix; ``str(err)`` is the whole message shown to them."""


class ConfigError(SitegenError):
    """sitegen.toml or the environment is missing, malformed or inconsistent."""


class StackFolderError(SitegenError):
    """A local stack folder (content types, entries, assets) is malformed."""


class APIError(SitegenError):
    """The Content Delivery API refused a request or could not be reached.

    ``status`` is the HTTP status (None when no response arrived), ``error_code`` the
    Contentstack error code from the body when there was one, ``fields`` the names its
    ``errors`` object blames (``environment``, ``sync_token``…).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        fields: frozenset[str] = frozenset(),
    ):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.fields = fields


class BuildError(SitegenError):
    """Content or templates cannot be turned into a site (bad url, template error, clash)."""


class StoppedAfterCommit(KeyboardInterrupt):
    """A signal arrived while a finished build was put in place: it is in place, then stopped.

    Raised by the build (:mod:`sitegen.build.interrupts`) and read by the CLI, which tells the
    user the new site is whole rather than "the previous site is as it was".
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def shown_path(path: Path | str) -> str:
    """A path as messages and summaries show it: relative to the current folder when it is
    inside it (``public``, ``mysite/sitegen.toml``), absolute otherwise."""
    path = Path(path)
    try:
        here = Path.cwd()
    except OSError:  # the current folder was removed
        return str(path)
    if not path.is_absolute():
        path = here / path
    try:
        relative = path.relative_to(here)
    except ValueError:
        return str(path)
    return str(relative) if relative.parts else "."


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 warning``, ``3 warnings``; ``many`` for the irregular ones (``entry``, ``entries``)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
