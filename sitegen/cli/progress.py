"""Progress on the terminal (stderr), for builds and stack pulls.

On a terminal a live bar per phase; in CI (no TTY) one line per phase, so logs stay readable.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text


class TerminalProgress:
    def __init__(self, quiet: bool = False):
        # markup off: messages quote servers, content and settings ("[content_types.x]"), which
        # must print as they are, never be read as rich markup (or crash it)
        self.console = Console(stderr=True, highlight=False, markup=False)
        self.quiet = quiet
        self.live = self.console.is_terminal and not quiet
        self._bar = Progress(
            TextColumn("{task.description:<16}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._task = None

    def __enter__(self) -> TerminalProgress:
        if self.live:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self._bar.stop()

    def start(self, phase: str, total: int | None = None) -> None:
        if self.live:
            if self._task is not None:
                self._bar.update(self._task, visible=False)
            self._task = self._bar.add_task(phase, total=total)
        elif not self.quiet:
            self.console.print(f"{phase}…" + (f" ({total})" if total is not None else ""))

    def advance(self, n: int = 1) -> None:
        if self.live and self._task is not None:
            self._bar.advance(self._task, n)

    def warn(self, message: str) -> None:
        self.console.print(Text.assemble(("warning:", "yellow bold"), " ", message), soft_wrap=True)
