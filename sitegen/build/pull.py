"""Pulling content into the store: everything (full build) or chosen entries (incremental).

Every entry request carries the same include parameters, so an entry fetched again by an
incremental build is byte for byte what a full build would have stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from sitegen.build import taxonomies
from sitegen.config import SiteConfig, StackConfig
from sitegen.errors import BuildError
from sitegen.source.cda import PAGE_SIZE, CDAClient
from sitegen.source.tasks import gather
from sitegen.store import Store

if TYPE_CHECKING:
    from sitegen.stack.folder import LocalStack

# The CDN refuses URLs over 8 KB (414); leave room for the host and the other parameters.
MAX_QUERY_CHARS = 6000


async def pull_all(
    config: SiteConfig,
    store: Store,
    client: CDAClient,
    progress: Any,
    on_entries: Callable[[Store, str, str, list[tuple[dict, str]]], None] | None = None,
) -> None:
    """Fetch content types, assets, taxonomies and every entry of every type in every locale.

    The store is new (a full build), so entries are inserted without looking for old rows.
    ``on_entries(store, content type, locale, [(entry as stored, hash)])`` sees each page
    of entries as it is stored (listing members are made there, from the decoded entries).
    """
    content_types = await client.content_types()
    progress.advance()
    store.content.put_content_types(content_types)
    known = {ct["uid"] for ct in content_types}
    for uid in config.content_types:
        if uid not in known:
            raise BuildError(
                f"{config.config_file}: [content_types.{uid}] names a content type the stack "
                f"does not have (it has: {', '.join(sorted(known)) or 'none'})"
            )

    async def pull_entries(content_type: str, locale: str) -> None:
        async for page in client.entry_pages(content_type, locale):
            stored = store.content.put_entries(content_type, locale, page)
            if on_entries is not None:
                on_entries(store, content_type, locale, stored)
            progress.advance()

    async def pull_assets() -> None:
        store.content.put_assets(await client.assets())
        progress.advance()

    async def pull_taxonomies() -> None:
        codes = [loc.code for loc in config.locales]
        taxonomies.save(store, await taxonomies.fetch_taxonomies(client, codes))
        progress.advance()

    await gather(
        [pull_assets(), pull_taxonomies()]
        + [pull_entries(ct, loc.code) for ct in sorted(known) for loc in config.locales]
    )


def uid_batches(uids: Iterable[str]) -> Iterator[list[str]]:
    """Groups of at most 100 uids whose ``$in`` query stays well inside the CDN's URL limit."""
    batch: list[str] = []
    size = 0
    for uid in sorted(set(uids)):
        cost = len(urlencode({"q": json.dumps(uid)})) + 3  # the quoted uid plus ', '
        if batch and (len(batch) >= PAGE_SIZE or size + cost > MAX_QUERY_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(uid)
        size += cost
    if batch:
        yield batch


async def fetch_entries(
    client: CDAClient, content_type: str, locale: str, uids: Iterable[str]
) -> list[dict[str, Any]]:
    """The given entries of one type in one locale (those still published), batched."""
    results = await gather(
        [
            _query(client, content_type, locale, {"uid": {"$in": batch}})
            for batch in uid_batches(uids)
        ]
    )
    return [entry for batch in results for entry in batch]


async def _query(
    client: CDAClient, content_type: str, locale: str, query: dict[str, Any]
) -> list[dict[str, Any]]:
    """Entries matching a query, every page of them (the first page tells the count)."""
    path = f"/content_types/{content_type}/entries"
    params = [*client.entry_params(locale), ("query", json.dumps(query, separators=(",", ":")))]
    return [entry async for page in client.pages(path, "entries", params) for entry in page]


def reference_paths(schema: list[dict[str, Any]], target: str, prefix: str = "") -> list[str]:
    """Dotted paths of the reference fields of a schema that may point at ``target`` entries."""
    paths: list[str] = []
    for field in schema:
        uid = field.get("uid")
        if not isinstance(uid, str):
            continue
        kind = field.get("data_type")
        if kind == "reference":
            to = field.get("reference_to")
            targets = [to] if isinstance(to, str) else list(to or [])
            if target in targets:
                paths.append(prefix + uid)
        elif kind in ("group", "global_field"):
            paths.extend(reference_paths(field.get("schema") or [], target, f"{prefix}{uid}."))
        elif kind == "blocks":
            for block in field.get("blocks") or []:
                paths.extend(
                    reference_paths(
                        block.get("schema") or [], target, f"{prefix}{uid}.{block.get('uid')}."
                    )
                )
    return paths


async def fetch_referrers(
    client: CDAClient,
    content_types: dict[str, dict[str, Any]],
    new_entries: dict[str, set[str]],
    locale: str,
) -> dict[str, list[dict[str, Any]]]:
    """Entries whose reference fields point at newly published entries, by content type.

    A reference to an entry that was not published is dropped from delivered data, so the
    store cannot know who points at an entry that appears for the first time; the CDA can,
    through ``$in_query`` on each reference field that may hold it.
    """
    requests: list[tuple[str, dict[str, Any]]] = []
    for source, content_type in sorted(content_types.items()):
        clauses = [
            {path: {"$in_query": {"uid": {"$in": batch}, "_content_type_uid": target}}}
            for target, uids in sorted(new_entries.items())
            for path in reference_paths(content_type.get("schema") or [], target)
            for batch in uid_batches(uids)
        ]
        requests.extend((source, {"$or": group}) for group in _fit(clauses))
    results = await gather([_query(client, source, locale, q) for source, q in requests])
    found: dict[str, list[dict[str, Any]]] = {}
    for (source, _), entries in zip(requests, results, strict=True):
        found.setdefault(source, []).extend(entries)
    return found


def _fit(clauses: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Pack query clauses into groups whose JSON stays inside the URL budget."""
    group: list[dict[str, Any]] = []
    size = 0
    for clause in clauses:
        cost = len(urlencode({"q": json.dumps(clause)}))
        if group and size + cost > MAX_QUERY_CHARS:
            yield group
            group, size = [], 0
        group.append(clause)
        size += cost
    if group:
        yield group


@contextmanager
def stack_source(
    stack: StackConfig, transport: httpx.AsyncBaseTransport | None
) -> Iterator[tuple[StackConfig, httpx.AsyncBaseTransport | None]]:
    """For a local stack: serve it in-process (closing its history database afterwards) and
    use its own credentials; with a ``transport``, the caller serves it and only the
    credentials are read."""
    if stack.local is None:
        yield stack, transport
        return
    from sitegen.stack.app import close_app, create_app
    from sitegen.stack.folder import load_stack

    if transport is not None:
        yield _with_credentials(stack, load_stack(stack.local)), transport
        return
    app = create_app(stack.local)
    try:
        app.state.service.refresh()  # a malformed folder fails here, naming the file
        local = app.state.service.stack
        yield _with_credentials(stack, local), httpx.ASGITransport(app=app)
    finally:
        close_app(app)


def _with_credentials(stack: StackConfig, local: LocalStack) -> StackConfig:
    return dataclasses.replace(
        stack,
        api_key=local.api_key,
        delivery_token=local.delivery_token,
        preview_token=(local.preview_token or stack.preview_token) if stack.preview_token else None,
    )
