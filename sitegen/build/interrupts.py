"""The few steps of a build that a signal must not cut in half.

SIGTERM (a CI job cancelled, a container stopped) is handled as Ctrl-C is (the CLI's
:mod:`sitegen.cli.signals` sees to that). Until the last
steps, either stops a build at once and nothing it did shows. From the moment the new site
starts replacing the live one (a full build's swap, an incremental build's file moves) until
the state that describes it is committed, stopping would leave a site that is neither the old
one nor the new one, or one the state does not describe. There the signals are held: the steps
finish (they move files, they do not render or fetch, so it takes moments), and then the build
stops, with the new site and its state in place.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sitegen.errors import StoppedAfterCommit

HELD = (signal.SIGINT, signal.SIGTERM)


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
