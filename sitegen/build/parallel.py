"""Rendering pages on any ``concurrent.futures.Executor``: other processes, or other machines.

The main process plans the pages and keeps writing the output and the dependencies; workers
only render. What a worker needs is sent once per build and cached in the worker (a
:class:`RenderSpec`): the configuration, the rendered content types, and either the path of
the state database (a process on this machine opens it read-only) or, for workers on other
machines, a snapshot of it plus the template sources and static file hashes. Each task is
then just a batch of page files, and its answer the batch's HTML and what each page read, so
the output is the same, byte for byte, as a build that renders everything in one process.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.build import collector
from sitegen.build.listings import Listings
from sitegen.build.pages import Result, render_page
from sitegen.build.render import PACKAGE_TEMPLATES, Renderer, ShippedFiles, static_hash
from sitegen.build.state import template_sources
from sitegen.config import SiteConfig
from sitegen.errors import BuildError
from sitegen.store import Store

BATCH = 100  # pages per task: large enough to amortize the round trip, small to balance load


@dataclass(frozen=True)
class RenderSpec:
    """Everything a worker needs to render this build's pages; sent once per worker."""

    build_id: str
    config: SiteConfig
    store_path: str
    rendered_types: frozenset[str]
    store_bytes: bytes | None = field(default=None, repr=False)  # for other machines
    files: ShippedFiles | None = None  # for other machines


def make_spec(
    config: SiteConfig, store: Store, types: frozenset[str], *, remote: bool
) -> RenderSpec:
    """The build's spec; ``remote`` ships the store and the site's files with it."""
    portable = dataclasses.replace(
        config,
        content_types=dict(config.content_types),
        extra=_plain(config.extra),
    )
    if not remote:
        return RenderSpec(uuid.uuid4().hex, portable, str(store.path), types)
    return RenderSpec(
        uuid.uuid4().hex,
        portable,
        str(store.path),
        types,
        store_bytes=store.snapshot(),
        files=ShippedFiles(template_sources(config, PACKAGE_TEMPLATES), static_hashes(config)),
    )


def _plain(value: Any) -> Any:
    """Mapping proxies (which cannot be pickled) as dicts, all the way down."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def static_hashes(config: SiteConfig) -> dict[str, str]:
    """The hash ``static_url`` puts in the URL, for every static file."""
    if config.static is None:
        return {}
    return {
        path.relative_to(config.static).as_posix(): static_hash(path)
        for path in sorted(config.static.rglob("*"))
        if path.is_file()
    }


# -- in the worker ------------------------------------------------------------------------------


class _Worker:
    """A worker's state for one build: its store connection, renderer and listings."""

    def __init__(self, spec: RenderSpec):
        if spec.store_bytes is None:
            self.store = Store(Path(spec.store_path), readonly=True)
        else:
            fd, tmp = tempfile.mkstemp(prefix="sitegen-render-", suffix=".sqlite")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(spec.store_bytes)
                self.store = Store(Path(tmp), readonly=True)  # opened (and read) here
            finally:
                # a worker may be stopped without warning when its cluster closes: the open
                # connection keeps reading the unlinked file, and nothing is left behind
                os.unlink(tmp)
        self.config = spec.config
        self.listings = Listings(spec.config, self.store)
        self.renderer = Renderer(
            spec.config, self.store, spec.rendered_types, self.listings, files=spec.files
        )
        if spec.config.assets.download:
            from sitegen.build.assets import AssetUrls

            self.renderer.asset_urls = AssetUrls(
                self.store.content.asset_files(), spec.config.base_url
            )

    def close(self) -> None:
        self.store.close()
        if self.renderer.fragments is not None:
            self.renderer.fragments.close()


_workers: dict[str, _Worker] = {}


def render_batch(spec: RenderSpec, files: list[str]) -> list[Result]:
    """Render a batch of pages (a task); the worker keeps its state for the rest of the build."""
    worker = _workers.get(spec.build_id)
    if worker is None:
        for old in _workers.values():  # one build at a time per worker
            old.close()
        _workers.clear()
        worker = _workers[spec.build_id] = _Worker(spec)
        if spec.store_bytes is None:  # our own process (a cluster's worker is not ours to tune)
            collector.tune()
    results = []
    pages = [page for batch in worker.store.graph.pages(files) for page in batch]
    keys = [(p.content_type, p.uid, p.locale) for p in pages if p.kind == "entry"]
    entries = worker.store.content.entries_by_key(keys)
    for page in pages:
        text, deps = render_page(worker.config, worker.renderer, worker.listings, page, entries)
        results.append((page.file, text, sorted(deps)))
    worker.renderer.flush_fragments()
    return results


# -- in the main process ------------------------------------------------------------------------


class RenderPool:
    """Pages out to an executor in batches, results back in order, a bounded number in flight."""

    def __init__(self, executor: Executor, spec: RenderSpec | Future, window: int):
        self.executor = executor
        self.spec = spec
        self.window = max(window, 1)

    def render(self, files: Iterable[str]) -> Iterator[list[Result]]:
        try:
            yield from self._render(files)
        except BrokenProcessPool:
            raise BuildError(
                "a worker process stopped while rendering (killed, or out of memory?); nothing "
                "of this build went live and the next build does its work again; if it keeps "
                "happening, build with fewer --jobs (or --jobs 1)"
            ) from None

    def _render(self, files: Iterable[str]) -> Iterator[list[Result]]:
        pending: deque[Future] = deque()
        batch: list[str] = []
        try:
            for file in files:
                batch.append(file)
                if len(batch) == BATCH:
                    pending.append(self.executor.submit(render_batch, self.spec, batch))
                    batch = []
                    if len(pending) >= self.window:
                        yield pending.popleft().result()
            if batch:
                pending.append(self.executor.submit(render_batch, self.spec, batch))
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
