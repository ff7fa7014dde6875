"""How a command stops on SIGTERM, and what it says when a build was stopped.

SIGTERM (a CI job cancelled, a container stopped) stops a build as Ctrl-C does, through the
same clean-up; the build itself holds both signals over the steps that must not be cut in half
(:mod:`sitegen.build.interrupts`).
"""

from __future__ import annotations

import os
import signal
import threading

from sitegen.errors import StoppedAfterCommit


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


def stopped_message(
    err: KeyboardInterrupt, stopped: dict[str, bool], *, built: bool = False
) -> tuple[str, int]:
    """The line to print for a stopped build and the exit code (143 SIGTERM, 130 Ctrl-C).

    ``built``: the signal came after the build had finished, while its summary, usage or link
    check was printed; the new site and its state are in place.
    """
    term = stopped.get("signal") or getattr(err, "signum", None) == signal.SIGTERM
    name = "SIGTERM" if term else "interrupted (Ctrl-C)"
    if isinstance(err, StoppedAfterCommit):
        said = "it came as the new site was put in place: the build finished, then stopped"
    elif built:
        said = "it came after the build had finished: the new site is in place"
    else:
        said = "the build stopped; the previous site and build state are as they were"
    return f"{name}: {said}", 143 if term else 130
