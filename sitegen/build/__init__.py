"""The build pipeline: Contentstack content in, a static site out.

:func:`build_site` (in :mod:`.pipeline`) runs the stages in order, each a module here:

1. **fetch** — :mod:`.pull` (everything, or chosen entries) and :mod:`.changes` (Sync API
   items → what really changed) fill the store;
2. **plan** — :mod:`.pages` decides which files the build writes and from what, with
   :mod:`.listings`, :mod:`.sorting` and :mod:`.site_files` (sitemap, robots, 404);
3. **render** — :mod:`.render` (the Jinja environment), :mod:`.parallel` and
   :mod:`.executors` (workers), :mod:`.assets` (asset URLs and downloads);
4. **write** — :mod:`.write` (staged or overlaid output), :mod:`.state` (fingerprints of what
   the next build compares), :mod:`.interrupts` (the steps a signal must not cut in half);
5. **check** — :mod:`.links` (internal links and assets in the output).

Nothing outside this package needs more than :func:`build_site` and :class:`BuildResult`.
They are loaded on first use, so a worker process importing one stage does not import them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitegen.build.pipeline import BuildResult, build_site

__all__ = ["BuildResult", "build_site"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sitegen.build import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'sitegen.build' has no attribute {name!r}")
