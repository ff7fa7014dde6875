"""Signals during the few steps that put a finished build in place.

Until those steps a SIGINT or SIGTERM stops a build at once and nothing it did shows. From the
moment the new site starts replacing the live one (a full build's swap, an incremental build's
file moves) until the state that describes it is committed, stopping would leave a site that
is neither the old one nor the new one, or one the state does not describe. There the signals
are held: the steps finish (they move files, they do not render or fetch, so it takes
moments), and then the build stops, with the new site and its state in place.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HELD = (signal.SIGINT, signal.SIGTERM)


class StoppedAfterCommit(KeyboardInterrupt):
    """A signal arrived while a finished build was put in place; it is in place, then stopped."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class HeldSignals:
    """Holds SIGINT and SIGTERM inside :meth:`holding`; :meth:`release` acts on them."""

    def __init__(self) -> None:
        self.arrived: list[int] = []

    @contextmanager
    def holding(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread receives signals (a server's build thread gets none)
            return

        def hold(signum: int, frame: object) -> None:
            self.arrived.append(signum)

        previous = {signum: signal.signal(signum, hold) for signum in HELD}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def release(self) -> None:
        """Stop now if a signal was held (raises :class:`StoppedAfterCommit`)."""
        if self.arrived:
            raise StoppedAfterCommit(self.arrived[0])
