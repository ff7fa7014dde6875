"""How a build stops on Ctrl-C or SIGTERM, and the few steps a signal must not cut in half.

SIGTERM (a CI job cancelled, a container stopped) is handled as Ctrl-C is. Until the last
steps, either stops a build at once and nothing it did shows. From the moment the new site
starts replacing the live one (a full build's swap, an incremental build's file moves) until
the state that describes it is committed, stopping would leave a site that is neither the old
one nor the new one, or one the state does not describe. There the signals are held: the steps
finish (they move files, they do not render or fetch, so it takes moments), and then the build
stops, with the new site and its state in place.
"""

from __future__ import annotations

import os
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


def stop_on_sigterm() -> dict[str, bool]:
    """Make SIGTERM stop a build as Ctrl-C does: through the same clean-up, instead of killing
    it mid-write. Returns a flag it sets.

    The signal is passed on as SIGINT, so that while content is fetched asyncio cancels its
    tasks in order (a KeyboardInterrupt raised inside the event loop would not). The handler
    stays for the rest of this process: the command ends with the build.
    """
    stopped = {"signal": False}
    if threading.current_thread() is not threading.main_thread():
        return stopped  # handlers belong to the main thread; another thread's caller decides

    def interrupt(signum: int, frame: object) -> None:
        stopped["signal"] = True
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, interrupt)
    return stopped


def stopped_message(err: KeyboardInterrupt, stopped: dict[str, bool]) -> tuple[str, int]:
    """The line to print for a stopped build and the exit code (143 SIGTERM, 130 Ctrl-C)."""
    term = stopped.get("signal") or getattr(err, "signum", None) == signal.SIGTERM
    name = "SIGTERM" if term else "interrupted (Ctrl-C)"
    if isinstance(err, StoppedAfterCommit):
        said = "it came as the new site was put in place: the build finished, then stopped"
    else:
        said = "the build stopped; the previous site and build state are as they were"
    return f"{name}: {said}", 143 if term else 130
