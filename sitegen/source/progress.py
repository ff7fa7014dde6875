"""What a long job reports while it works: phases, counts and warnings.

Defined here, below both, so that a build (:mod:`sitegen.build`) and a stack pull
(:mod:`sitegen.stack.snapshot`) report the same way, and the CLI draws either with one class.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """The CLI draws it on the terminal; tests may record it."""

    def start(self, phase: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def warn(self, message: str) -> None: ...


class NullProgress:
    """Reports nowhere: for callers that show no progress."""

    def start(self, phase: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        pass
