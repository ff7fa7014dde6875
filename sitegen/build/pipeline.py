"""The build pipeline: full builds and incremental builds over the same stages.

Full: sync token → pull everything → plan pages → render all → swap the new site in → replace
the state. Incremental: Sync API delta → fetch what changed → re-plan the pages of changed
entries → render the pages that read something that changed → move changed files over the live
site → commit the state and the new token in one transaction. A crash anywhere leaves state
from which the next build converges on what a full build would produce.

The CLI and servers call :func:`build_site`; nothing else ties the stages together.
"""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import json
import os
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from sitegen.build import collector, sorting, taxonomies
from sitegen.build.assets import AssetSync, AssetUrls, previous_rows, sync_assets
from sitegen.build.changes import (
    ContentChanges,
    NeedsFullBuild,
    apply_sync,
    check_content_types,
)
from sitegen.build.executors import (
    PARALLEL_MIN_PAGES,
    Workers,
    check_executor,
    default_jobs,
    open_workers,
)
from sitegen.build.interrupts import HeldSignals
from sitegen.build.links import LinkCheck, check_site
from sitegen.build.listings import Listings, member_indexer
from sitegen.build.pages import check_listings, plan_all, render_pages, rendered_types, replan
from sitegen.build.parallel import RenderPool, make_spec
from sitegen.build.pull import pull_all, stack_source
from sitegen.build.render import PACKAGE_TEMPLATES, Renderer
from sitegen.build.search import index_site
from sitegen.build.site_files import site_files
from sitegen.build.state import (
    content_fingerprint,
    content_hash,
    content_source,
    copied_files,
    copied_fingerprints,
    recorded_source,
    render_fingerprint,
    source_change,
    template_fingerprints,
)
from sitegen.build.template_warnings import report as template_warnings
from sitegen.build.variants import (
    VariantEntry,
    check_edge_targets,
    fetch_variant_entries,
    render_variants,
    write_edge_functions,
)
from sitegen.build.write import OverlayOutput, StagedOutput, process_alive, remove_leftovers
from sitegen.config import SiteConfig, StackConfig
from sitegen.errors import APIError, BuildError, shown_path
from sitegen.source.cda import CDAClient, StackUnavailable
from sitegen.source.progress import NullProgress, Progress
from sitegen.source.sync import SyncWalk, is_invalid_token
from sitegen.source.tasks import gather
from sitegen.store import DamagedState, StateError, Store

STORE_NAME = "store.sqlite"
LOCK_NAME = "build.lock"
REBUILD_STATE = (
    "run `sitegen build --full` to make it again from the stack (the site stays as it is "
    "until that build succeeds)"
)
# The full build's sync token is taken before the pull starts, from a little earlier still, so
# that nothing published while (or just before) the pull ran can slip between the two.
SYNC_MARGIN = timedelta(minutes=10)
# an incremental build that re-renders at least this share of the pages (and this many) writes
# a new site and swaps it in (a full build's way) rather than moving each changed file over
# the live one; a small change leaves the output folder itself in place
STAGE_SHARE = 0.5
STAGE_MIN = 1000


@dataclass
class BuildResult:
    """What a build did: the figures of its summary, the files it wrote, what it warned of."""

    kind: str  # "full" or "incremental"
    output: Path
    pages_by_locale: dict[str, int]
    entries: int
    requests: int
    retries: int
    seconds: float
    rendered: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    assets_downloaded: int = 0  # asset files fetched ([assets] download)
    pages_rendered: int = 0  # HTML pages among ``rendered``: what progress and summary count
    base_url: str = ""  # the site's, for the link check
    state: Path | None = None  # the state database that describes the output

    @property
    def pages(self) -> int:
        return sum(self.pages_by_locale.values())

    @property
    def written(self) -> int:
        return len(self.added) + len(self.changed)

    def check_links(self) -> LinkCheck:
        """Check every internal link and asset reference of the output, naming what made each
        page with a broken one (``sitegen build --check-links``)."""
        return check_site(self.output, self.base_url, self.state)

    def summary(self) -> str:
        """The few lines a person reads after a build: what ran, why, pages, requests, time."""
        per_locale = ", ".join(f"{code} {count}" for code, count in self.pages_by_locale.items())
        retries = f" ({self.retries} retried)" if self.retries else ""
        warnings = f", {_count(len(self.warnings), 'warning')}" if self.warnings else ""
        if self.assets_downloaded:
            warnings = f", {_count(self.assets_downloaded, 'asset file')} downloaded{warnings}"
        rendered = _count(self.pages_rendered, "page")  # as "Rendering pages" counted them
        if self.kind == "incremental":
            why = ", ".join(self.triggers) or "nothing changed"
            head = (
                f"Incremental build: {why} → {rendered} re-rendered "
                f"(files: {len(self.added)} added, {len(self.changed)} changed, "
                f"{len(self.removed)} removed)"
            )
        else:
            head = f"Full build: {rendered} rendered"
        return (
            f"{head} in {self.seconds:.2f} s; {_count(self.requests, 'CDA request')}"
            f"{retries}{warnings}.\n"
            f"Site: {_count(self.pages, 'page')} ({per_locale}) from "
            f"{_count(self.entries, 'entry', 'entries')} in {shown_path(self.output)}/"
        )


class _Run:
    """What one build carries around: config, source, progress, warnings, timing."""

    def __init__(self, config: SiteConfig, stack: StackConfig, transport, progress: Progress):
        self.config = config
        self.stack = stack
        self.transport = transport
        self.progress = progress
        self.warnings: list[str] = []
        self.started = time.monotonic()
        self.pages_rendered = 0  # the total of "Rendering pages"
        self.store_path = config.state_dir / STORE_NAME
        self.jobs = 1
        self.executor: str | None = None
        self.strict = False  # template warnings fail the build
        self.held = HeldSignals()  # signals that arrive while the new site is put in place
        self.variant_entries: list[
            VariantEntry
        ] = []  # [personalize]: entries as variants show them

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.progress.warn(message)

    def client(self) -> CDAClient:
        return CDAClient(self.stack, transport=self.transport)

    def workers(self, pages: int) -> AbstractContextManager[Workers | None]:
        """The render workers for ``pages`` files: none (this process) below the size where
        starting them pays, or with ``--jobs 1``."""
        parallel = self.executor or (self.jobs > 1 and pages >= PARALLEL_MIN_PAGES)
        return open_workers(self.jobs if parallel else 1, self.executor)


def _render_pool(
    workers: Workers, config: SiteConfig, store: Store, types: frozenset[str]
) -> RenderPool:
    """Render tasks for ``workers``, which read the state as last committed."""
    spec = make_spec(config, store, types, remote=workers.remote)
    return RenderPool(workers.executor, workers.share(spec), workers.count)


def build_site(
    config: SiteConfig,
    *,
    full: bool = False,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    jobs: int | None = None,
    executor: str | None = None,
    strict: bool = False,
) -> BuildResult:
    """Build the site: incrementally when valid state exists (and not ``full``), else fully.

    A full build renders in ``jobs`` processes (default: the number of cores), or on the Dask
    scheduler ``executor`` names (``dask://host:port``); the output is the same either way.
    Template warnings (see template_warnings.py) are warnings; ``strict`` makes them fail the
    build before anything is put in place.
    """
    if executor:
        check_executor(executor)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with _BuildLock(config.state_dir), collector.tuned():
        return _build(config, full, progress, transport, jobs, executor, strict)


def _build(
    config: SiteConfig,
    full: bool,
    progress: Progress | None,
    transport: httpx.AsyncBaseTransport | None,
    jobs: int | None = None,
    executor: str | None = None,
    strict: bool = False,
) -> BuildResult:
    if not config.preview_mode:
        check_edge_targets(config)
    with stack_source(config.stack, transport) as (stack, source):
        run = _Run(config, stack, source, progress or NullProgress())
        return _run(run, full, jobs, executor, strict)


def _run(
    run: _Run, full: bool, jobs: int | None, executor: str | None, strict: bool
) -> BuildResult:
    config = run.config
    run.jobs = default_jobs() if jobs is None else jobs
    run.executor = executor
    run.strict = strict
    remove_leftovers(config.output)
    for leftover in config.state_dir.glob(f"{STORE_NAME}.tmp-*"):  # a killed full build's
        pid = leftover.name.split(".tmp-", 1)[1].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            leftover.unlink(missing_ok=True)
    result = None
    if not full and not config.preview_mode:  # drafts have no Sync API: previews are full
        reason = _why_not_incremental(run)
        if reason is None:
            try:
                result = _incremental(run)
            except sqlite3.DatabaseError as err:  # damage found while reading it
                raise BuildError(
                    f"{run.store_path}: the build state is damaged ({err}); {REBUILD_STATE}"
                ) from None
            except APIError as err:
                if not is_invalid_token(err):
                    raise
                run.warn(f"the stored sync token is no longer valid ({err}); running a full build")
            except NeedsFullBuild as err:
                run.warn(f"{err}; running a full build")
        elif reason:
            run.warn(f"{reason}; running a full build")
    if result is None:
        result = _full(run)
    _write_report(config, result)
    run.held.release()
    return result


class _BuildLock:
    """One build per state folder at a time; a second one stops with a clear message."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / LOCK_NAME
        self.file = None

    def __enter__(self) -> _BuildLock:
        self.file = self.path.open("a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise BuildError(
                f"{self.path.parent}: another sitegen build of this site is running "
                f"(process {holder}); wait for it to finish, then build again"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


def _why_not_incremental(run: _Run) -> str | None:
    """None when the stored state can carry an incremental build; else why not ("" = first build)."""
    if not run.store_path.is_file():
        return ""
    try:
        store = Store(run.store_path, create=False)
    except DamagedState as err:
        raise BuildError(f"{err}; {REBUILD_STATE}") from None
    except StateError as err:  # another schema version: a full build makes the new one
        return f"the build state cannot be used ({err})"
    try:
        if not store.meta("sync_token"):
            return "the last build left no sync token"
        if store.meta("content_fingerprint") != content_fingerprint(run.config, run.stack):
            recorded = store.meta("content_source")
            if recorded is None:  # a state from before sources were recorded
                return (
                    "the stack, environment, locales or include depth changed since the last build"
                )
            now = content_source(run.config, run.stack)
            old = recorded_source(json.loads(recorded), run.config)
            if old != now:  # equal: a state that recorded the same source another way
                return f"{source_change(old, now)} since the last build"
        if not run.config.output.is_dir():
            return f"the output folder {shown_path(run.config.output)} is missing"
    finally:
        store.close()
    return None


# -- full build ---------------------------------------------------------------------------------


def _full(run: _Run) -> BuildResult:
    config = run.config
    new_path = config.state_dir / f"{STORE_NAME}.tmp-{os.getpid()}"
    _remove_db(new_path)
    store = Store(new_path, bulk=True)
    client = run.client()
    try:
        token = asyncio.run(_pull_full(run, store, client))
        store.end_bulk()
        listings = Listings(config, store)
        renderer = Renderer(config, store, frozenset(), listings)
        types = rendered_types(config, store, renderer, run.warn)
        renderer.rendered_types = types
        check_listings(config, store, renderer)
        copied = copied_files(config)
        names = site_files(config, [item.output_path for item in copied])
        files = plan_all(config, store, types, listings, names, members_ready=True)
        with StagedOutput(config.output) as out:
            previous = previous_rows(run.store_path) if config.assets.download else {}
            assets = _sync_assets(run, store, out, previous, renderer, full=True)
            run.pages_rendered = store.graph.page_count()
            run.progress.start("Rendering pages", run.pages_rendered)
            with run.workers(len(files)) as workers:
                pool = _render_pool(workers, config, store, types) if workers else None
                rendered = render_pages(
                    config, store, renderer, listings, out, None, run.progress, pool
                )
            variant_warnings: list[tuple[str, str]] = []
            varied, manifest = render_variants(
                config, store, renderer, out, run.variant_entries, None, variant_warnings
            )
            rendered += varied
            renderer.flush_fragments()
            _template_warnings(run, store, variant_warnings)
            _keep_orders(store)
            for item in copied:
                if item.output_path not in names:  # a preview's robots.txt is generated
                    out.write(item.output_path, item.source.read_bytes())
            if config.pagefind:  # the staged site is complete: index it before it goes live
                run.progress.start("Indexing for search")
                index_site(out.scratch, out)
            _save_state(run, store, client, token, types, copied_fingerprints(copied, {}), names)
            pages_by_locale = _pages_by_locale(config, store)
            entries = store.content.count_entries()
            store.close()
            with run.held.holding():  # the new site and its state go in place together
                out.swap()
                os.replace(new_path, run.store_path)
                write_edge_functions(config, manifest)
    finally:
        store.close()
        _remove_db(new_path)
    return _result(
        run, "full", client, pages_by_locale, entries, rendered, out, ["full build"], assets
    )


async def _pull_full(run: _Run, store: Store, client: CDAClient) -> str | None:
    run.progress.start("Pulling content")
    index = member_indexer(run.config)  # listing members, from the entries as they arrive
    async with client:
        token = None
        if run.config.preview_mode:
            await pull_all(run.config, store, client, run.progress, index)
            return None
        # a stack in this process or on this machine shares our clock: no margin needed
        margin = timedelta(0) if _same_clock(run.stack) else SYNC_MARGIN
        start_from = datetime.now(UTC) - margin
        stamp = start_from.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start_from.microsecond // 1000:03d}Z"
        walk = SyncWalk(client, start_from=stamp)
        try:
            async for _ in walk.pages():  # only the token is needed: the pull has the content
                run.progress.advance()
            token = walk.next_token
        except APIError as err:
            if (
                err.status in (401, 412)
                or "environment" in err.fields
                or isinstance(err, StackUnavailable)
            ):
                raise  # no credentials, environment or stack: the pull would fail the same way
            run.warn(
                f"the Sync API refused the initial sync ({err}); the next build will be full too"
            )
        await pull_all(run.config, store, client, run.progress, index)
        known = set(store.content.content_types())
        run.variant_entries = await fetch_variant_entries(client, run.config, known)
    return token


def _same_clock(stack: StackConfig) -> bool:
    """Whether the stack runs on this machine (in-process, or on a loopback address)."""
    if stack.local is not None:
        return True
    host = urlsplit(stack.base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- incremental build ----------------------------------------------------------------------------


def _incremental(run: _Run) -> BuildResult:
    config = run.config
    store = Store(run.store_path, create=False)
    client = run.client()
    store.begin()
    try:
        changes, token = asyncio.run(_pull_changes(run, store, client))
        listings = Listings(config, store)
        renderer = Renderer(config, store, frozenset(), listings)
        types = rendered_types(config, store, renderer, run.warn)
        renderer.rendered_types = types
        check_listings(config, store, renderer)
        triggers = _describe(changes)
        copied = copied_files(config)
        names = site_files(config, [item.output_path for item in copied])
        old_copied = store.fingerprints("copied")
        new_copied = copied_fingerprints(copied, old_copied)
        changed_copied = {
            name
            for name in old_copied.keys() | new_copied.keys()
            if content_hash(old_copied.get(name, "")) != content_hash(new_copied.get(name, ""))
        }
        pending = PendingPages.load(store)
        if pending:
            triggers.append("the last build stopped before it wrote its pages")
        rerender_all = (
            pending is not None
            or store.meta("render_fingerprint") != render_fingerprint(config)
            or store.meta("rendered_types") != json.dumps(sorted(types))
            or store.meta("site_files") != json.dumps(names)
        )
        if rerender_all:
            if not pending:
                triggers.append("configuration or templated content types changed")
            old_files = store.graph.all_page_files() | (pending.gone if pending else set())
            dirty = plan_all(config, store, types, listings, names)
            gone = old_files - dirty
        else:
            old_templates = store.fingerprints("template")
            new_templates = template_fingerprints(config, PACKAGE_TEMPLATES)
            changed_templates = {
                name
                for name in old_templates.keys() | new_templates.keys()
                if old_templates.get(name) != new_templates.get(name)
            }
            if changed_templates:
                triggers.append(f"{_count(len(changed_templates), 'template')} changed")
            if changed_copied:
                triggers.append(f"{_count(len(changed_copied), 'static file')} changed")
            dirty = store.graph.dependents("collection", changes.collections)
            dirty |= store.graph.dependents("url", changes.urls)
            dirty |= store.graph.dependents("template", changed_templates)
            dirty |= store.graph.dependents("static", changed_copied)
            dirty |= store.graph.dependents(taxonomies.DEP, changes.taxonomy_deps)
            new_files, gone = replan(
                config, store, types, changes.rows, listings, names, changes.taxonomies
            )
            dirty = (dirty | new_files) - gone
        staged = len(dirty) >= max(STAGE_MIN, STAGE_SHARE * store.graph.page_total())
        with StagedOutput(config.output) if staged else OverlayOutput(config.output) as out:
            live_assets = pending.assets if pending else store.content.asset_files()
            assets = _sync_assets(run, store, out, live_assets, renderer, full=False)
            if not rerender_all and assets.changed_urls:
                dirty |= store.graph.dependents("asset_url", assets.changed_urls) - gone
            run.pages_rendered = store.graph.page_count(dirty)
            run.progress.start("Rendering pages", run.pages_rendered)
            with run.workers(len(dirty)) as workers:
                pool = None
                if workers is not None:
                    # workers read committed state: commit the content and the plan, marked
                    # as not yet written out (a build that stops now is redone by the next)
                    PendingPages(gone, live_assets).mark(store)
                    store.commit()
                    pool = _render_pool(workers, config, store, types)
                    store.begin()
                rendered = render_pages(
                    config, store, renderer, listings, out, dirty, run.progress, pool
                )
            variant_warnings = []
            varied, manifest = render_variants(
                config,
                store,
                renderer,
                out,
                run.variant_entries,
                None if rerender_all else dirty,
                variant_warnings,
            )
            rendered += varied
            renderer.flush_fragments()
            _template_warnings(run, store, variant_warnings)
            _keep_orders(store)
            by_output = {item.output_path: item for item in copied}
            for name in sorted(changed_copied - set(names)):
                if name in by_output:
                    out.write(name, by_output[name].source.read_bytes())
                else:
                    out.remove(name)
            for file in sorted(gone - by_output.keys()):  # a static file may take a page's place
                out.remove(file)
            _save_state(run, store, client, token, types, new_copied, names)
            if isinstance(out, StagedOutput):
                out.carry_over()  # the files this build left alone join the new site
            with run.held.holding():  # the changed files and the new state go in together
                if isinstance(out, StagedOutput):
                    out.swap()
                else:
                    out.apply()
                if config.pagefind and (
                    out.added
                    or out.changed
                    or out.removed
                    or pending
                    or not (out.output / "pagefind").is_dir()
                ):
                    _reindex(run, out)  # before the commit: a failure redoes this build
                PendingPages.clear(store)
                store.commit()
                write_edge_functions(config, manifest)
        pages_by_locale = _pages_by_locale(config, store)
        entries = store.content.count_entries()
    except BaseException:
        store.rollback()
        raise
    finally:
        store.close()
    return _result(
        run, "incremental", client, pages_by_locale, entries, rendered, out, triggers, assets
    )


@dataclass
class PendingPages:
    """What the live site still lacks when a build stopped after committing its content.

    A large incremental build renders in worker processes, which read only committed state,
    so it commits the content and the page plan before rendering. Until the pages are
    written, the state says so: the files the build planned to remove and the asset rows the
    live output holds. The next build then re-renders every page (comparing each with the
    live file), removes those files and checks those assets, and converges on what a full
    build would write. Kept in ``meta`` under ``pages_pending``; cleared by the final commit.
    """

    gone: set[str]
    assets: dict[str, tuple[str, str, str, str, int]]

    KEY = "pages_pending"

    @classmethod
    def load(cls, store: Store) -> PendingPages | None:
        text = store.meta(cls.KEY)
        if not text:
            return None
        data = json.loads(text)
        return cls(set(data["gone"]), {uid: tuple(row) for uid, row in data["assets"].items()})

    def mark(self, store: Store) -> None:
        """Record what the live site lacks (a build carrying on an unfinished one was given
        that one's removals and assets: see _incremental)."""
        store.set_meta(self.KEY, json.dumps({"gone": sorted(self.gone), "assets": self.assets}))

    @classmethod
    def clear(cls, store: Store) -> None:
        store.delete_meta(cls.KEY)


def _reindex(run: _Run, out: OverlayOutput) -> None:
    """Pagefind over the updated live site; its changed files join the build's change lists."""
    run.progress.start("Indexing for search")
    with OverlayOutput(run.config.output, "search") as bundle:
        index_site(run.config.output, bundle)
        bundle.apply()
    out.added += bundle.added
    out.changed += bundle.changed
    out.removed += bundle.removed


async def _pull_changes(run: _Run, store: Store, client: CDAClient) -> tuple[ContentChanges, str]:
    run.progress.start("Syncing changes")
    codes = [loc.code for loc in run.config.locales]
    async with client:

        async def walk_sync() -> tuple[list[dict], SyncWalk]:
            items: list[dict] = []
            walk = SyncWalk(client, sync_token=store.meta("sync_token"), on_restart=items.clear)
            async for page in walk.pages():
                items.extend(page)
                run.progress.advance()
            return items, walk

        # the content types first (the clearest errors: credentials, branch, a changed type);
        # then the sync walk and the taxonomies together, one round trip instead of two
        check_content_types(store.content.content_types(), await client.content_types())
        read_before, reads = store.meta("branch_uid"), client.branch_uid
        if read_before and reads and reads != read_before:
            raise NeedsFullBuild(
                f"[stack] branch {run.stack.branch!r} now reads branch {reads!r} "
                f"(the last build read {read_before!r})"
            )
        (items, walk), fresh = await gather(
            [walk_sync(), taxonomies.fetch_taxonomies(client, codes)]
        )
        changes = await apply_sync(run.config, store.content, client, items)
        stored = taxonomies.load(store)
        changes.taxonomies = taxonomies.changed(stored, fresh)
        if changes.taxonomies:
            changes.taxonomy_deps = taxonomies.changed_deps(stored, fresh, codes)
            taxonomies.save(store, fresh)
        known = set(store.content.content_types())
        run.variant_entries = await fetch_variant_entries(client, run.config, known)
    assert walk.next_token is not None
    return changes, walk.next_token


def _describe(changes: ContentChanges) -> list[str]:
    triggers = []
    if changes.entries:
        triggers.append(f"{_count(len(changes.entries), 'entry', 'entries')} changed")
    if changes.assets:
        triggers.append(f"{_count(len(changes.assets), 'asset')} changed")
    if changes.taxonomies:
        triggers.append(f"{_count(len(changes.taxonomies), 'taxonomy', 'taxonomies')} changed")
    if changes.content_types_deleted:
        triggers.append(f"{_count(len(changes.content_types_deleted), 'content type')} deleted")
    return triggers


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# -- shared -------------------------------------------------------------------------------------


def _sync_assets(
    run: _Run,
    store: Store,
    out: StagedOutput | OverlayOutput,
    previous: dict[str, tuple[str, str, str, str, int]],
    renderer: Renderer,
    *,
    full: bool,
) -> AssetSync:
    """Download what changed ([assets] download) and let the renderer rewrite asset URLs."""
    sync = sync_assets(
        run.config, run.stack, run.transport, store, out, previous, full=full, progress=run.progress
    )
    if run.config.assets.download:
        renderer.asset_urls = AssetUrls(sync.rows, run.config.base_url)
    return sync


def _save_state(
    run: _Run,
    store: Store,
    client: CDAClient,
    token: str | None,
    types: frozenset[str],
    copied: dict[str, str],
    site_file_names: list[str],
) -> None:
    config = run.config
    store.count_build()
    if client.branch_uid:
        store.set_meta("branch_uid", client.branch_uid)
    store.set_meta("site_files", json.dumps(site_file_names))
    if token:
        store.set_meta("sync_token", token)
    store.set_meta("content_fingerprint", content_fingerprint(config, run.stack))
    store.set_meta("content_source", json.dumps(content_source(config, run.stack)))
    store.set_meta("render_fingerprint", render_fingerprint(config))
    store.set_meta("rendered_types", json.dumps(sorted(types)))
    store.set_fingerprints("template", template_fingerprints(config, PACKAGE_TEMPLATES))
    store.set_fingerprints("copied", copied)


def _template_warnings(run: _Run, store: Store, variants: list[tuple[str, str]]) -> None:
    """Warn of the template mistakes of every page of the site, once per template line and
    what went wrong (an incremental build repeats those of pages it did not render: they are
    still there); ``--strict`` fails the build here, before anything is put in place."""
    lines = template_warnings(run.config, store, variants)
    if lines and run.strict:
        listed = "\n".join(f"  {line}" for line in lines)
        raise BuildError(
            f"{_count(len(lines), 'template warning')}, which --strict makes errors; the site "
            f"in {shown_path(run.config.output)}/ was left as it was:\n{listed}"
        )
    for line in lines:
        run.warn(line)


def _keep_orders(store: Store) -> None:
    """Bring every ``entries(sort=…)`` order a page read up to this build's changes, so the
    next build only sorts in what it changes."""
    with store.batch():
        sorting.refresh_read(store, store.graph.dep_keys(sorting.DEP))


def _pages_by_locale(config: SiteConfig, store: Store) -> dict[str, int]:
    counts = store.graph.page_count_by_locale()
    return {loc.code: counts.get(loc.code, 0) for loc in config.locales}


def _result(
    run: _Run,
    kind: str,
    client: CDAClient,
    pages_by_locale: dict[str, int],
    entries: int,
    rendered: int,
    out: StagedOutput | OverlayOutput,
    triggers: list[str],
    assets: AssetSync,
) -> BuildResult:
    return BuildResult(
        kind=kind,
        output=run.config.output,
        pages_by_locale=pages_by_locale,
        entries=entries,
        requests=client.stats.requests,
        retries=client.stats.retries,
        seconds=time.monotonic() - run.started,
        rendered=rendered,
        added=sorted(out.added),
        changed=sorted(out.changed),
        removed=sorted(out.removed),
        triggers=triggers,
        warnings=run.warnings,
        assets_downloaded=assets.downloaded,
        pages_rendered=run.pages_rendered,
        base_url=run.config.base_url,
        state=run.store_path,
    )


def _write_report(config: SiteConfig, result: BuildResult) -> None:
    """``last-build.json``: what a deploy step needs to upload only the difference."""
    report = {
        "kind": result.kind,
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(result.seconds, 3),
        "requests": result.requests,
        "retries": result.retries,
        "triggers": result.triggers,
        "counts": {
            "pages": result.pages,
            "pages_by_locale": result.pages_by_locale,
            "entries": result.entries,
            "rendered": result.rendered,
            "added": len(result.added),
            "changed": len(result.changed),
            "removed": len(result.removed),
            "assets_downloaded": result.assets_downloaded,
        },
        "added": result.added,
        "changed": result.changed,
        "removed": result.removed,
        "warnings": result.warnings,
    }
    path = config.report_file
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
