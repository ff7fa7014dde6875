"""The garbage collector, tuned for the length of a build.

Rendering a page and decoding its entry allocate tens of thousands of short-lived containers,
and Python's default (a young collection every 700 allocations, each full collection walking
every object alive) spends about a tenth of a large build collecting. Objects that live through
the build (templates, settings, imported modules) are frozen out of the collector's sight, and
young collections come every 20,000 allocations; cycles are still collected, so memory stays
bounded. The benchmark's jobs=1 full build at 10k × 2 ran in 41.6 s instead of 46.6 s.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 20_000  # allocations between young collections (Python's default: 700)


def tune() -> None:
    """For a process that only builds (a render worker): freeze what exists, collect less often."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)


@contextmanager
def tuned() -> Iterator[None]:
    """:func:`tune` for one build in a process that goes on afterwards (the CLI, dev server)."""
    before = gc.get_threshold()
    tune()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
