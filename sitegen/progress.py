"""Progress and the build summary on the terminal (stderr for progress, stdout for the summary).

On a terminal a live bar per phase; in CI (no TTY) one line per phase, so logs stay readable.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sitegen.build import BuildResult


class TerminalProgress:
    def __init__(self, quiet: bool = False):
        self.console = Console(stderr=True, highlight=False)
        self.quiet = quiet
        self.live = self.console.is_terminal and not quiet
        self._bar = Progress(
            TextColumn("{task.description:<16}"),
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
        self.console.print(f"[yellow bold]warning:[/] {message}", markup=True, soft_wrap=True)


def summary(result: BuildResult) -> str:
    """The few lines a person reads after a build: what ran, why, pages, requests, time."""
    per_locale = ", ".join(f"{code} {count}" for code, count in result.pages_by_locale.items())
    retries = f" ({result.retries} retried)" if result.retries else ""
    warnings = f", {len(result.warnings)} warning(s)" if result.warnings else ""
    if result.assets_downloaded:
        warnings = f", {result.assets_downloaded} asset file(s) downloaded{warnings}"
    output = os.path.relpath(result.output)
    if output.startswith(".."):
        output = str(result.output)
    if result.kind == "incremental":
        why = ", ".join(result.triggers) or "nothing changed"
        head = (
            f"Incremental build: {why} → {result.rendered} pages re-rendered "
            f"({len(result.added)} added, {len(result.changed)} changed, "
            f"{len(result.removed)} removed)"
        )
    else:
        head = f"Full build: {result.pages} pages rendered"
    return (
        f"{head} in {result.seconds:.2f} s; {result.requests} CDA requests{retries}{warnings}.\n"
        f"Site: {result.pages} pages ({per_locale}) from {result.entries} entries in {output}/"
    )
