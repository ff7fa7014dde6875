"""The build pipeline: pull → store → plan pages → render → write → swap.

The CLI and servers call :func:`build_site`; nothing else ties the stages together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from sitegen.config import SiteConfig, StackConfig
from sitegen.content.urls import check_url, output_file
from sitegen.errors import BuildError, SitegenError
from sitegen.render import Renderer
from sitegen.source.cda import CDAClient
from sitegen.store import Store
from sitegen.write import StagedOutput

RENDER_BATCH = 200


class Progress(Protocol):
    """What a build reports while it works (the CLI draws it; tests may record it)."""

    def start(self, phase: str, total: int | None = None) -> None: ...
    def add_total(self, n: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def warn(self, message: str) -> None: ...


class NullProgress:
    def start(self, phase: str, total: int | None = None) -> None:
        pass

    def add_total(self, n: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass
class BuildResult:
    output: Path
    pages_by_locale: dict[str, int]
    entries: int
    requests: int
    retries: int
    seconds: float
    files: int
    warnings: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(self.pages_by_locale.values())


@dataclass(frozen=True)
class Page:
    file: str
    content_type: str
    uid: str
    locale: str
    url: str


def build_site(
    config: SiteConfig,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BuildResult:
    """Full build: pull everything, render every page, swap the new site in."""
    progress = progress or NullProgress()
    started = time.monotonic()
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        progress.warn(message)

    stack, transport = _source(config.stack, transport)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    store_path = config.state_dir / "store.sqlite"
    new_store_path = config.state_dir / f"store.sqlite.tmp-{os.getpid()}"
    _remove_db(new_store_path)
    store = Store(new_store_path)
    try:
        client = CDAClient(stack, transport=transport)
        asyncio.run(_pull(config, store, client, progress))
        renderer = Renderer(config, store, frozenset())
        rendered_types = _rendered_types(config, store, renderer, warn)
        renderer.rendered_types = rendered_types
        pages_by_locale = _plan_pages(config, store, rendered_types)
        with StagedOutput(config.output) as out:
            _render_pages(config, store, renderer, out, progress, sum(pages_by_locale.values()))
            _copy_files(config, out, warn)
            out.swap()
            files = out.files
        entries = store.count_entries()
        store.set_meta("last_full_build", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        store.close()
        os.replace(new_store_path, store_path)
    finally:
        store.close()
        _remove_db(new_store_path)
    return BuildResult(
        output=config.output,
        pages_by_locale=pages_by_locale,
        entries=entries,
        requests=client.stats.requests,
        retries=client.stats.retries,
        seconds=time.monotonic() - started,
        files=files,
        warnings=warnings,
    )


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _source(
    stack: StackConfig, transport: httpx.AsyncBaseTransport | None
) -> tuple[StackConfig, httpx.AsyncBaseTransport | None]:
    """For a local stack: serve it in-process and use its own credentials."""
    if stack.local is None:
        return stack, transport
    from sitegen.stack.app import create_app

    app = create_app(stack.local)
    app.state.service.refresh()  # a malformed folder fails here, naming the file
    local = app.state.service.stack
    stack = dataclasses.replace(stack, api_key=local.api_key, delivery_token=local.delivery_token)
    return stack, transport or httpx.ASGITransport(app=app)


async def _pull(config: SiteConfig, store: Store, client: CDAClient, progress: Progress) -> None:
    """Fetch content types, assets and every entry of every type in every locale."""
    progress.start("Pulling content")
    async with client:
        content_types = await client.content_types()
        progress.advance()
        store.put_content_types(content_types)
        known = {ct["uid"] for ct in content_types}
        for uid in config.content_types:
            if uid not in known:
                raise BuildError(
                    f"{config.config_file}: [content_types.{uid}] names a content type the stack "
                    f"does not have (it has: {', '.join(sorted(known)) or 'none'})"
                )

        async def pull_entries(content_type: str, locale: str) -> None:
            position = 0
            async for page in client.entry_pages(content_type, locale):
                store.put_entries(content_type, locale, page, position)
                position += len(page)
                progress.advance()

        async def pull_assets() -> None:
            store.put_assets(await client.assets())
            progress.advance()

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(pull_assets())
                for ct in sorted(known):
                    for loc in config.locales:
                        group.create_task(pull_entries(ct, loc.code))
        except BaseExceptionGroup as group_error:
            raise _first_error(group_error) from None


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The error to show from a failed task group: a user error first, else the first one."""
    leaves: list[BaseException] = []

    def collect(err: BaseException) -> None:
        if isinstance(err, BaseExceptionGroup):
            for inner in err.exceptions:
                collect(inner)
        else:
            leaves.append(err)

    collect(group)
    return next((e for e in leaves if isinstance(e, SitegenError)), leaves[0])


def _rendered_types(config: SiteConfig, store: Store, renderer: Renderer, warn) -> frozenset[str]:
    """Content types whose entries become pages: they have url values and a template."""
    result = set()
    for content_type in store.content_type_uids_with_urls():
        template = config.template_for(content_type)
        if renderer.has_template(template):
            result.add(content_type)
        elif content_type in config.content_types and config.content_types[content_type].template:
            raise BuildError(
                f"{config.config_file}: content_types.{content_type}.template is {template!r}, "
                f"which is not in {config.templates}"
            )
        else:
            warn(
                f"content type {content_type!r} has entries with a url but no template "
                f"{config.templates.name}/{template}: its pages are skipped "
                f"(add the template, or set [content_types.{content_type}] template)"
            )
    return frozenset(result)


def _plan_pages(config: SiteConfig, store: Store, rendered_types: frozenset[str]) -> dict[str, int]:
    """Decide every page's output file, refusing unsafe urls and two entries on one file."""
    prefixes = {loc.code: loc.prefix for loc in config.locales}
    store.db.execute("DROP TABLE IF EXISTS pages")
    store.db.execute(
        "CREATE TABLE pages (file TEXT PRIMARY KEY, content_type TEXT NOT NULL, uid TEXT NOT NULL,"
        " locale TEXT NOT NULL, url TEXT NOT NULL)"
    )
    counts: Counter[str] = Counter()
    rows = store.pages(sorted(rendered_types), list(prefixes))
    batch: list[tuple[str, str, str, str, str]] = []
    for content_type, uid, locale, url in rows:
        where = f"entry {uid!r} of content type {content_type!r} in {locale}"
        check_url(url, where)
        batch.append((output_file(url, prefixes[locale]), content_type, uid, locale, url))
        counts[locale] += 1
        if len(batch) >= RENDER_BATCH:
            _insert_pages(store, config, batch)
            batch = []
    _insert_pages(store, config, batch)
    return {loc.code: counts[loc.code] for loc in config.locales}


def _insert_pages(
    store: Store, config: SiteConfig, batch: list[tuple[str, str, str, str, str]]
) -> None:
    for row in batch:
        try:
            store.db.execute("INSERT INTO pages VALUES (?, ?, ?, ?, ?)", row)
        except sqlite3.IntegrityError:
            other = store.db.execute(
                "SELECT content_type, uid, locale, url FROM pages WHERE file = ?", (row[0],)
            ).fetchone()
            raise BuildError(
                f"two entries write {config.output.name}/{row[0]}: "
                f"entry {other[1]!r} of {other[0]!r} ({other[2]}, url {other[3]!r}) and "
                f"entry {row[2]!r} of {row[1]!r} ({row[3]}, url {row[4]!r}); give one of them another url"
            ) from None


def _iter_pages(store: Store) -> Iterator[list[Page]]:
    cursor = store.db.execute(
        "SELECT file, content_type, uid, locale, url FROM pages ORDER BY content_type, locale, file"
    )
    while rows := cursor.fetchmany(RENDER_BATCH):
        yield [Page(*row) for row in rows]


def _render_pages(
    config: SiteConfig,
    store: Store,
    renderer: Renderer,
    out: StagedOutput,
    progress: Progress,
    total: int,
) -> None:
    locales = {loc.code: loc for loc in config.locales}
    progress.start("Rendering pages", total)
    for batch in _iter_pages(store):
        entries = store.page_entries([(p.content_type, p.uid, p.locale) for p in batch])
        for page in batch:
            entry = entries[(page.content_type, page.uid, page.locale)]
            html = renderer.render(
                config.template_for(page.content_type), entry, locales[page.locale], page.url
            )
            out.write(page.file, html)
        progress.advance(len(batch))


def _copy_files(config: SiteConfig, out: StagedOutput, warn) -> None:
    """Static files, and for a local stack the asset files its asset URLs point at."""
    if config.static is not None:
        out.copy_tree(config.static)
    local = config.stack.local
    if local is not None and (local / "assets").is_dir():
        for folder in sorted(p for p in (local / "assets").iterdir() if p.is_dir()):
            out.copy_tree(folder, f"assets/{folder.name}")
