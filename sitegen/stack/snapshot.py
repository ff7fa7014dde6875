"""Snapshot a stack into a local stack folder (``sitegen stack pull``).

The content is read the way a sync client reads it: ``/v3/content_types`` for the schemas, then
an ``init=true`` Sync API walk to its sync token, which reports every published entry in every
locale (raw: references as ``{uid, _content_type_uid}`` stubs) and every published asset. Each
item is turned into the files of the local stack format
(docs/stack/entries/doc/local-stack-format.en-us.md) as it arrives, inside a temporary folder
beside OUT_DIR; the folder is then loaded and validated exactly as
``sitegen stack serve`` would load it, and only then renamed into place. A failed pull leaves
nothing behind, and a snapshot never holds the stack's credentials.

What the CDA cannot tell is decided here and documented in the command's help: locale names are
their codes, the master locale is the first ``--locale`` (else the locale holding the most
entries), fallback chains come only from ``--fallback``, and the stack's name is OUT_DIR's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from sitegen.config import StackConfig
from sitegen.content.timestamps import format_time, parse_time
from sitegen.errors import APIError, SitegenError, plural, shown_path
from sitegen.source.cda import CREDENTIAL_HEADERS, PAGE_SIZE, RETRY_STATUSES, CDAClient
from sitegen.source.progress import NullProgress, Progress
from sitegen.source.sync import SyncWalk
from sitegen.source.tasks import gather
from sitegen.stack.content_types import UID_RE
from sitegen.stack.folder import (
    ASSETS_DIR,
    CONTENT_TYPES_DIR,
    ENTRIES_DIR,
    GLOBAL_FIELDS_DIR,
    LOCALE_RE,
    STACK_FILE,
    SYSTEM_ENTRY_KEYS,
    TAXONOMIES_DIR,
    load_stack,
)
from sitegen.stack.global_fields import without_global_field_schemas
from sitegen.stack.schema import as_list, is_json_rte, map_leaves
from sitegen.stack.snapshot_variants import pull_variants
from sitegen.stack.taxonomies import taxonomy_file

JsonDict = dict[str, Any]

# Keys of a delivered entry that the stack computes (the file name holds uid and locale).
DROPPED_ENTRY_KEYS = SYSTEM_ENTRY_KEYS | {"uid", "locale"}
PINNED_DATES = ("created_at", "updated_at")
CONTENT_TYPE_KEYS = ("uid", "title", "description", "options", "schema")
MAX_DOWNLOAD_BACKOFF = 20.0


class SnapshotError(SitegenError):
    """A stack cannot be snapshotted: OUT_DIR is in the way, an option is wrong, or the content
    does not fit the local stack format."""


@dataclass
class PullSummary:
    """What a pull wrote and what it cost."""

    out_dir: Path
    content_types: int
    entries_by_locale: dict[str, int]
    assets: int
    asset_files: int
    requests: int
    retries: int
    downloads: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    variant_files: int = 0

    @property
    def entries(self) -> int:
        return sum(self.entries_by_locale.values())

    def describe(self) -> str:
        """The line printed after a pull."""
        per_locale = ", ".join(f"{code} {n}" for code, n in self.entries_by_locale.items())
        files = f" ({self.asset_files} with their file)" if self.asset_files else ""
        retries = f" ({self.retries} retried)" if self.retries else ""
        downloads = f" and {plural(self.downloads, 'asset download')}" if self.downloads else ""
        warnings = f", {plural(len(self.warnings), 'warning')}" if self.warnings else ""
        variants = f", {plural(self.variant_files, 'entry variant')}" if self.variant_files else ""
        return (
            f"Pulled {plural(self.content_types, 'content type')}, "
            f"{plural(self.entries, 'entry', 'entries')} ({per_locale}) "
            f"and {plural(self.assets, 'asset')}{files}{variants} into "
            f"{shown_path(self.out_dir)}/ in {self.seconds:.2f} s; "
            f"{plural(self.requests, 'CDA request')}{retries}{downloads}{warnings}."
        )


# -- options --------------------------------------------------------------------------------


def parse_fallbacks(values: Iterable[str]) -> dict[str, str]:
    """``["fr-fr=en-us", ...]`` (the --fallback option) as {locale: fallback locale}."""
    found: dict[str, str] = {}
    for value in values:
        code, sep, fallback = value.partition("=")
        code, fallback = code.strip(), fallback.strip()
        if not sep or not LOCALE_RE.match(code) or not LOCALE_RE.match(fallback):
            raise SnapshotError(
                f"--fallback {value!r}: write it as LOCALE=FALLBACK, e.g. --fallback fr-fr=en-us"
            )
        if code == fallback:
            raise SnapshotError(f"--fallback {value!r}: a locale cannot fall back to itself")
        if code in found and found[code] != fallback:
            raise SnapshotError(
                f"--fallback gives {code} two fallbacks ({found[code]} and {fallback}); keep one"
            )
        found[code] = fallback
    return found


def check_out_dir(out_dir: Path, *, force: bool) -> None:
    """Refuse an OUT_DIR that is a file, or a folder with content unless ``force``."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise SnapshotError(
            f"{out_dir}: exists and is a file or a symbolic link; choose another OUT_DIR"
        )
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise SnapshotError(
            f"{out_dir}: is not empty; choose an empty or new folder, or pass --force to replace it"
        )


# -- the pull -------------------------------------------------------------------------------


def pull(
    stack: StackConfig,
    out_dir: Path,
    *,
    locales: Sequence[str] | None = None,
    fallbacks: Mapping[str, str] | None = None,
    download_assets: bool = False,
    force: bool = False,
    variants: Sequence[str] = (),
    progress: Progress | None = None,
) -> PullSummary:
    """Snapshot the stack of a site's ``[stack]`` settings into ``out_dir`` (blocking).

    A ``[stack] local`` folder is served in-process, with its own credentials, as a build does.
    """
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir, force=force)
    _check_locale_options(locales, fallbacks or {})
    transport: httpx.AsyncBaseTransport | None = None
    service = None
    if stack.local is not None:
        source = stack.local.resolve()
        target = out_dir.resolve()
        if target == source or target.is_relative_to(source) or source.is_relative_to(target):
            raise SnapshotError(
                f"{out_dir}: is the local stack being pulled ({source}) or overlaps it; "
                "choose an OUT_DIR outside it"
            )
        from sitegen.stack.app import create_app

        app = create_app(stack.local)
        service = app.state.service
        service.refresh()  # a malformed folder fails here, naming the file
        local = service.stack
        stack = dataclasses.replace(
            stack, api_key=local.api_key, delivery_token=local.delivery_token
        )
        transport = httpx.ASGITransport(app=app)

    async def run() -> PullSummary:
        async with contextlib.AsyncExitStack() as scope:
            client = await scope.enter_async_context(CDAClient(stack, transport=transport))
            external = None
            if transport is not None:
                # In-process, the client reaches only the local stack: absolute asset URLs on
                # other hosts are fetched over the network, by a client without credentials.
                external = await scope.enter_async_context(
                    httpx.AsyncClient(
                        timeout=httpx.Timeout(stack.timeout),
                        limits=httpx.Limits(max_connections=stack.concurrency),
                        follow_redirects=True,
                    )
                )
            return await pull_stack(
                client,
                out_dir,
                locales=locales,
                fallbacks=fallbacks,
                download_assets=download_assets,
                force=force,
                variants=variants,
                progress=progress,
                external_http=external,
            )

    try:
        return asyncio.run(run())
    finally:
        if service is not None:
            service.close()


async def pull_stack(
    client: CDAClient,
    out_dir: Path,
    *,
    locales: Sequence[str] | None = None,
    fallbacks: Mapping[str, str] | None = None,
    download_assets: bool = False,
    force: bool = False,
    name: str | None = None,
    variants: Sequence[str] = (),
    progress: Progress | None = None,
    external_http: httpx.AsyncClient | None = None,
) -> PullSummary:
    """Read the stack behind ``client`` and write it to ``out_dir`` in the local stack format.

    ``locales``: the locales to keep, the first being the master (default: every locale seen,
    the master being the one with the most entries). ``fallbacks``: {locale: fallback} for
    stack.json. ``download_assets``: store asset bytes instead of their URLs (assets whose URL is
    relative to the source are always downloaded, since such a URL means nothing elsewhere).
    ``external_http``: the client for absolute asset URLs on other hosts than the CDA's
    (default: the CDA client's own). ``variants``: entry variants to keep (uids or Personalize
    aliases; see snapshot_variants.py). Raises :class:`SitegenError`; on any failure, nothing is
    left in or beside ``out_dir``.
    """
    started = time.monotonic()
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir, force=force)
    _check_locale_options(locales, fallbacks or {})
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.pull-", dir=out_dir.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would outlive the rename
    except OSError as err:
        raise SnapshotError(f"{out_dir.parent}: cannot create a folder there ({err})") from None
    try:
        writer = _Writer(
            client=client,
            root=staging,
            shown_root=out_dir,
            progress=progress or NullProgress(),
            external_http=external_http,
        )
        await writer.pull(
            locales=list(locales) if locales else None,
            fallbacks=dict(fallbacks or {}),
            download_assets=download_assets,
            name=name or out_dir.name or "snapshot",
            variants=list(variants),
        )
        writer.validate()
        _move_into_place(staging, out_dir, force=force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PullSummary(
        out_dir=out_dir,
        content_types=len(writer.content_types),
        entries_by_locale=writer.entries_by_locale(),
        assets=len(writer.assets),
        asset_files=len(writer.downloaded),
        requests=client.stats.requests,
        retries=client.stats.retries,
        downloads=writer.downloads,
        seconds=time.monotonic() - started,
        warnings=writer.warnings,
        variant_files=writer.variant_files,
    )


def _check_locale_options(locales: Sequence[str] | None, fallbacks: Mapping[str, str]) -> None:
    for code in locales or ():
        if not LOCALE_RE.match(code):
            raise SnapshotError(f"--locale {code!r}: not a locale code like en-us")
    if locales and len(set(locales)) != len(locales):
        raise SnapshotError("--locale lists a locale twice; give each once")
    if locales:
        given = set(locales)
        for code, fallback in fallbacks.items():
            for named in (code, fallback):
                if named not in given:
                    raise SnapshotError(
                        f"--fallback {code}={fallback}: {named} is not one of the --locale "
                        f"codes ({', '.join(locales)})"
                    )
        if locales[0] in fallbacks:
            raise SnapshotError(
                f"--fallback {locales[0]}={fallbacks[locales[0]]}: {locales[0]} is the master "
                "locale (the first --locale), which cannot fall back"
            )


def _move_into_place(staging: Path, out_dir: Path, *, force: bool) -> None:
    """Rename the finished snapshot to OUT_DIR, replacing an old one only with ``force``."""
    check_out_dir(out_dir, force=force)
    try:
        if out_dir.is_dir() and any(out_dir.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old)
            try:
                os.replace(staging, out_dir)
            except OSError:
                os.replace(old, out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            if out_dir.is_dir():
                out_dir.rmdir()
            os.replace(staging, out_dir)
    except OSError as err:
        raise SnapshotError(f"{out_dir}: cannot move the snapshot into place ({err})") from None


@dataclass
class _Writer:
    """Turns what the CDA delivers into the files of one staging folder."""

    client: CDAClient
    root: Path
    shown_root: Path
    progress: Progress
    external_http: httpx.AsyncClient | None = None
    content_types: dict[str, JsonDict] = field(default_factory=dict)
    global_fields: dict[str, JsonDict] = field(default_factory=dict)
    # (content type, uid, locale) -> asset uids its file fields name
    entries: dict[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    assets: dict[str, JsonDict] = field(default_factory=dict)
    downloaded: set[str] = field(default_factory=set)
    downloads: int = 0
    warnings: list[str] = field(default_factory=list)
    locale_codes: list[str] = field(default_factory=list)
    variant_files: int = 0
    _skipped_types: set[str] = field(default_factory=set)
    _skipped_locales: Counter[str] = field(default_factory=Counter)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.progress.warn(message)

    def entries_by_locale(self) -> dict[str, int]:
        counts = Counter(locale for _, _, locale in self.entries)
        return {code: counts[code] for code in self.locale_codes}

    # -- steps ---------------------------------------------------------------------------

    async def pull(
        self,
        *,
        locales: list[str] | None,
        fallbacks: dict[str, str],
        download_assets: bool,
        name: str,
        variants: list[str],
    ) -> None:
        self.progress.start("Content types")
        await self.pull_global_fields()
        await self.pull_content_types()
        self.progress.start("Syncing content")
        walk = SyncWalk(self.client, on_restart=self.forget_synced)
        async for items in walk.pages():
            for item in items:
                self.apply(item, locales)
            self.progress.advance(len(items))
        if self._skipped_locales:
            skipped = ", ".join(f"{c} ({n})" for c, n in sorted(self._skipped_locales.items()))
            self.warn(f"left out entries in locales not given with --locale: {skipped}")
        self.drop_dangling_assets()
        self.locale_codes = self.choose_locales(locales, fallbacks)
        await self.pull_taxonomies()
        if variants:
            self.progress.start("Entry variants")
            self.variant_files = await pull_variants(
                self.client,
                self.root,
                variants,
                sorted(self.content_types),
                self.locale_codes,
                lambda ct, data: entry_fields(data, self.content_types[ct].get("schema") or [])[0],
                self.write_json,
                self.warn,
                self.progress.advance,
            )
        await self.download(download_assets)
        self.write_stack_json(name, fallbacks)

    async def pull_content_types(self) -> None:
        skip = 0
        while True:
            body = await self.client.get(
                "/content_types",
                [
                    ("include_global_field_schema", "true"),
                    ("include_count", "true"),
                    ("skip", skip),
                    ("limit", PAGE_SIZE),
                ],
            )
            page = body.get("content_types")
            if not isinstance(page, list) or not all(isinstance(ct, dict) for ct in page):
                raise APIError(
                    "GET /v3/content_types: the response has no list of 'content_types'; "
                    "is [stack] host a Content Delivery API?"
                )
            for ct in page:
                self.add_content_type(ct)
            self.progress.advance()
            skip += len(page)
            count = body.get("count")
            if not page or (isinstance(count, int) and skip >= count):
                return
            if not isinstance(count, int) and len(page) < PAGE_SIZE:
                return

    def add_content_type(self, ct: JsonDict) -> None:
        uid = ct.get("uid")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise SnapshotError(
                f"the stack has a content type with uid {uid!r}, which cannot be a file name "
                'in a local stack (letters, digits, "_" and "-")'
            )
        data = {key: ct[key] for key in CONTENT_TYPE_KEYS if key in ct}
        self.content_types[uid] = data  # global fields inline: entries are read along them
        if self.global_fields:  # the file names them, as the stack it came from does
            data = {**data, "schema": without_global_field_schemas(data.get("schema") or [])}
        self.write_json(f"{CONTENT_TYPES_DIR}/{uid}.json", data)

    async def _optional_list(
        self, path: str, key: str, params: list[Any] | None = None
    ) -> list[JsonDict] | None:
        """Every item of a list endpoint a stack may not offer (a 404 or 422: None)."""
        found: list[JsonDict] = []
        skip = 0
        while True:
            try:
                body = await self.client.get(
                    path,
                    [
                        *(params or []),
                        ("include_count", "true"),
                        ("skip", skip),
                        ("limit", PAGE_SIZE),
                    ],
                )
            except APIError as err:
                if err.status in (404, 422):
                    return None
                raise
            page = body.get(key)
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise APIError(f"GET /v3{path}: the response has no list of '{key}'")
            found += page
            skip += len(page)
            count = body.get("count")
            if (
                not page
                or (isinstance(count, int) and skip >= count)
                or (not isinstance(count, int) and len(page) < PAGE_SIZE)
            ):
                return found

    async def pull_global_fields(self) -> None:
        """global_fields/<uid>.json for each global field the stack delivers."""
        found = await self._optional_list("/global_fields", "global_fields")
        for gf in found or []:
            uid = _check_uid(gf.get("uid"), "global field")
            data = {key: gf[key] for key in CONTENT_TYPE_KEYS if key in gf}
            self.global_fields[uid] = data
            self.write_json(f"{GLOBAL_FIELDS_DIR}/{uid}.json", data)

    async def pull_taxonomies(self) -> None:
        """taxonomies/<uid>.json: each term tree, with its names in every kept locale."""
        taxonomies = await self._optional_list("/taxonomies", "taxonomies")
        if taxonomies is None:
            self.warn("the stack offers no taxonomies (/v3/taxonomies refused); none were pulled")
            return
        master = self.locale_codes[0] if self.locale_codes else None
        for taxonomy in taxonomies:
            uid = _check_uid(taxonomy.get("uid"), "taxonomy")
            terms = await self._optional_list(f"/taxonomies/{uid}/terms", "terms") or []
            parents: dict[str, str | None] = {}
            for term in terms:
                term_uid = _check_uid(term.get("uid"), f"term of taxonomy {uid}")
                if "parent_uid" in term:
                    parents[term_uid] = term["parent_uid"]
                else:  # the CDA's term may not say: ask for its nearest ancestor
                    above = await self._optional_list(
                        f"/taxonomies/{uid}/terms/{term_uid}/ancestors", "terms", [("depth", 1)]
                    )
                    parents[term_uid] = above[0]["uid"] if above else None
            names: dict[str, tuple[str | None, dict[str, str]]] = {}
            for code in self.locale_codes:
                if code == master:
                    continue
                try:  # not named in that locale: the CDA says it is not there
                    body = await self.client.get(f"/taxonomies/{uid}", [("locale", code)])
                except APIError as err:
                    if err.status not in (404, 422):
                        raise
                    body = {}
                localized = body.get("taxonomy") if isinstance(body.get("taxonomy"), dict) else {}
                there = (
                    await self._optional_list(
                        f"/taxonomies/{uid}/terms", "terms", [("locale", code)]
                    )
                    or []
                )
                names[code] = (
                    localized.get("name") if localized.get("locale") == code else None,
                    {
                        t["uid"]: t["name"]
                        for t in there
                        if t.get("locale") == code and t.get("name")
                    },
                )
            self.write_json(
                f"{TAXONOMIES_DIR}/{uid}.json", taxonomy_file(taxonomy, terms, parents, names)
            )

    def apply(self, item: Any, locales: list[str] | None) -> None:
        """One Sync API item: write, replace or remove the file it is about."""
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            return
        kind, data = item.get("type"), item["data"]
        if kind in ("entry_published", "entry_unpublished", "entry_deleted"):
            ct = item.get("content_type_uid")
            if not isinstance(ct, str) or ct not in self.content_types:
                if str(ct) not in self._skipped_types:
                    self._skipped_types.add(str(ct))
                    self.warn(
                        f"the Sync API reports entries of content type {ct!r}, which "
                        "/v3/content_types does not list; they are left out"
                    )
                return
            uid = _check_uid(data.get("uid"), f"an entry of {ct}")
            locale = _entry_locale(data, f"entry {ct}/{uid}")
            if locales is not None and locale not in locales:
                if kind == "entry_published":
                    self._skipped_locales[locale] += 1
                return
            if kind == "entry_published":
                self.write_entry(ct, uid, locale, data)
            else:
                self.remove_entry(ct, uid, locale)
        elif kind == "asset_published":
            self.write_asset(data)
        elif kind in ("asset_unpublished", "asset_deleted"):
            uid = _check_uid(data.get("uid"), "an asset")
            if self.assets.pop(uid, None) is not None:
                (self.root / ASSETS_DIR / f"{uid}.json").unlink(missing_ok=True)

    def forget_synced(self) -> None:
        """Remove what an abandoned walk wrote: the new walk delivers everything again, and an
        entry unpublished in between must not stay just because no delete event follows."""
        for ct, uid, locale in self.entries:
            (self.root / ENTRIES_DIR / ct / f"{uid}.{locale}.json").unlink(missing_ok=True)
        for uid in self.assets:
            (self.root / ASSETS_DIR / f"{uid}.json").unlink(missing_ok=True)
        self.entries.clear()
        self.assets.clear()
        self._skipped_locales.clear()

    def write_entry(self, ct: str, uid: str, locale: str, data: JsonDict) -> None:
        where = f"entry {ct}/{uid} ({locale})"
        schema = self.content_types[ct].get("schema") or []
        fields, refs, notes = entry_fields(data, schema)
        for note in notes:
            self.warn(f"{where}: {note}")
        self.entries[(ct, uid, locale)] = frozenset(refs)
        self.write_json(f"{ENTRIES_DIR}/{ct}/{uid}.{locale}.json", fields)

    def remove_entry(self, ct: str, uid: str, locale: str) -> None:
        if self.entries.pop((ct, uid, locale), None) is not None:
            (self.root / ENTRIES_DIR / ct / f"{uid}.{locale}.json").unlink(missing_ok=True)

    def write_asset(self, data: JsonDict) -> None:
        uid = _check_uid(data.get("uid"), "an asset")
        meta = asset_meta(data, f"asset {uid}")
        self.assets[uid] = meta
        self.write_json(f"{ASSETS_DIR}/{uid}.json", meta)

    def drop_dangling_assets(self) -> None:
        """File fields may only name assets of the snapshot: drop the others, with a warning."""
        known = self.assets.keys()
        for (ct, uid, locale), refs in list(self.entries.items()):
            missing = refs - known
            if not missing:
                continue
            self.warn(
                f"entry {ct}/{uid} ({locale}): file fields name asset(s) the Sync API did not "
                f"deliver ({', '.join(sorted(missing))}); left out"
            )
            rel = f"{ENTRIES_DIR}/{ct}/{uid}.{locale}.json"
            fields = json.loads((self.root / rel).read_text(encoding="utf-8"))

            def keep(fdef: JsonDict, value: Any, path: str, missing: frozenset = missing) -> Any:
                if fdef.get("data_type") != "file":
                    return value
                if isinstance(value, list):
                    return [v for v in value if v not in missing]
                return None if value in missing else value

            schema = self.content_types[ct].get("schema") or []
            self.write_json(rel, map_leaves(schema, fields, keep))
            self.entries[(ct, uid, locale)] = refs - missing

    def choose_locales(self, locales: list[str] | None, fallbacks: dict[str, str]) -> list[str]:
        """The stack's locale codes, master first."""
        if locales:
            _check_fallback_chains(locales, fallbacks)
            return list(locales)
        counts = Counter(locale for _, _, locale in self.entries)
        seen = set(counts) | set(fallbacks) | set(fallbacks.values())
        if not seen:
            raise SnapshotError(
                "the stack delivered no entries, so its locales cannot be seen; "
                "name them with --locale (the first is the master locale)"
            )
        candidates = sorted(code for code in seen if code not in fallbacks)
        if not candidates:
            raise SnapshotError(
                "every locale has a --fallback, so none can be the master locale; "
                "remove the master's --fallback or name the master with --locale"
            )
        master = max(candidates, key=lambda code: (counts[code], -candidates.index(code)))
        ordered = [master, *sorted(seen - {master})]
        _check_fallback_chains(ordered, fallbacks)
        return ordered

    async def download(self, download_assets: bool) -> None:
        """Fetch asset bytes into assets/<uid>/<filename>, concurrently but bounded."""
        wanted = sorted(
            uid
            for uid, meta in self.assets.items()
            if "url" in meta and (download_assets or _is_site_relative(meta["url"]))
        )
        if not wanted:
            return
        self.progress.start("Asset files", len(wanted))
        limit = asyncio.Semaphore(self.client.stack.concurrency)

        async def fetch(uid: str) -> None:
            async with limit:
                await self.download_one(uid)
            self.progress.advance()

        await gather([fetch(uid) for uid in wanted])

    async def download_one(self, uid: str) -> None:
        meta = self.assets[uid]
        url, filename = meta["url"], meta["filename"]
        _check_filename(filename, f"asset {uid}")
        target = self.root / ASSETS_DIR / uid / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        http = self._http_for(url)
        tries = self.client.stack.max_tries
        for attempt in range(1, tries + 1):
            request = http.build_request("GET", url)
            # asset hosts are CDNs, maybe not Contentstack's: no credentials, whatever the host
            for header in CREDENTIAL_HEADERS:
                request.headers.pop(header, None)
            self.downloads += 1
            problem: str
            try:
                response = await http.send(request, stream=True)
                try:
                    if response.is_success:
                        with target.open("wb") as out:
                            async for chunk in response.aiter_bytes():
                                out.write(chunk)
                        break
                    problem = f"HTTP {response.status_code}"
                    retry = response.status_code in RETRY_STATUSES
                finally:
                    await response.aclose()
            except (httpx.TimeoutException, httpx.TransportError) as err:
                problem, retry = f"{type(err).__name__}: {err or 'failed'}", True
            if not retry or attempt == tries:
                raise APIError(
                    self.client.redact(
                        f"asset {uid}: downloading {url} failed after {attempt} tries ({problem}); "
                        "check the asset URL, or pull without --assets to keep URLs"
                    )
                )
            await asyncio.sleep(random.uniform(0, min(MAX_DOWNLOAD_BACKOFF, 0.25 * 2**attempt)))
        del meta["url"]
        self.write_json(f"{ASSETS_DIR}/{uid}.json", meta)
        self.downloaded.add(uid)

    def _http_for(self, url: str) -> httpx.AsyncClient:
        # The CDA client's own httpx client (its transport, limits and timeouts), used for
        # everything on the CDA's host; credentials are stripped per request above.
        own: httpx.AsyncClient = self.client.http
        if self.external_http is None or _is_site_relative(url):
            return own
        base = urlsplit(self.client.stack.base_url)
        target = urlsplit(url)
        same = (target.scheme, target.netloc) == (base.scheme, base.netloc)
        return own if same else self.external_http

    def write_stack_json(self, name: str, fallbacks: dict[str, str]) -> None:
        environment = self.client.stack.environment
        if not UID_RE.match(environment):
            raise SnapshotError(
                f"environment {environment!r} cannot be named in a local stack "
                '(letters, digits, "_" and "-")'
            )
        locales: list[JsonDict] = []
        for code in self.locale_codes:
            locale: JsonDict = {"code": code, "name": code}
            if code in fallbacks:
                locale["fallback_locale"] = fallbacks[code]
            locales.append(locale)
        # No api_key / delivery_token: a snapshot holds no credentials, and the local server
        # then accepts any.
        self.write_json(
            STACK_FILE, {"name": name, "environments": [environment], "locales": locales}
        )

    def validate(self) -> None:
        """Load the staging folder as `sitegen stack serve` would; a rejection is our bug."""
        self.progress.start("Checking")
        try:
            load_stack(self.root).validate_all()
        except SitegenError as err:
            message = str(err).replace(str(self.root), str(self.shown_root))
            raise SnapshotError(
                f"the pulled content does not fit the local stack format, so nothing was "
                f"written: {message}"
            ) from None

    # -- files ---------------------------------------------------------------------------

    def write_json(self, rel: str, data: Any) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        for secret in self.client.stack.secrets:
            if len(secret) >= 4 and secret in text:
                raise SnapshotError(
                    f"{self.shown_root / rel}: the content holds the stack's API key or "
                    "delivery token, and a snapshot must not; nothing was written"
                )
        path = self.root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as err:
            raise SnapshotError(f"{self.shown_root / rel}: cannot be written ({err})") from None


# -- turning delivered items into file contents ---------------------------------------------


def entry_fields(data: JsonDict, schema: list[JsonDict]) -> tuple[JsonDict, set[str], list[str]]:
    """An entry file's content from a raw delivered entry: field values plus pinned dates.

    Returns (fields, asset uids named by file fields, notes about values left out).
    """
    fields: JsonDict = {}
    for key, value in data.items():
        if key.startswith("_") or key in DROPPED_ENTRY_KEYS:
            continue
        if key in PINNED_DATES:
            moment = parse_time(value)
            if moment is not None:
                fields[key] = format_time(moment)
            continue
        if key == "tags" and not value:
            continue  # the stack adds "tags": [] itself
        fields[key] = value
    refs: set[str] = set()
    notes: list[str] = []

    def leaf(fdef: JsonDict, value: Any, path: str) -> Any:
        if value is None:
            return None
        data_type = fdef.get("data_type")
        if data_type == "file":
            return _file_value(value, path, refs, notes)
        if data_type == "reference":
            return _reference_value(fdef, value, path, notes)
        if is_json_rte(fdef):
            return _json_rte_value(value, path, notes)
        return value

    return map_leaves(schema, fields, leaf), refs, notes


def _file_value(value: Any, path: str, refs: set[str], notes: list[str]) -> Any:
    """Asset objects (or uids) as the asset uid strings an entry file holds."""

    def uid_of(item: Any) -> str | None:
        uid = item.get("uid") if isinstance(item, dict) else item
        if isinstance(uid, str) and uid:
            refs.add(uid)
            return uid
        notes.append(f'file field "{path}" holds {_short(item)}, not an asset; left out')
        return None

    if isinstance(value, list):
        return [uid for uid in map(uid_of, value) if uid is not None]
    return uid_of(value)


def _reference_value(fdef: JsonDict, value: Any, path: str, notes: list[str]) -> list[JsonDict]:
    """References as the ``[{uid, _content_type_uid}]`` list an entry file holds."""
    targets = [t for t in as_list(fdef.get("reference_to")) if isinstance(t, str)]
    out: list[JsonDict] = []
    for ref in value if isinstance(value, list) else [value]:
        uid = ref.get("uid") if isinstance(ref, dict) else ref
        ct = ref.get("_content_type_uid") if isinstance(ref, dict) else None
        if ct is None and len(targets) == 1:
            ct = targets[0]
        if isinstance(uid, str) and uid and isinstance(ct, str) and ct in targets:
            out.append({"uid": uid, "_content_type_uid": ct})
        else:
            notes.append(
                f'reference field "{path}" holds {_short(ref)}, which is not a reference to '
                f"{', '.join(targets)}; left out"
            )
    return out


def _json_rte_value(value: Any, path: str, notes: list[str]) -> Any:
    def is_doc(doc: Any) -> bool:
        return isinstance(doc, dict) and doc.get("type") == "doc"

    if isinstance(value, list):
        kept = [doc for doc in value if is_doc(doc)]
        if len(kept) != len(value):
            notes.append(f'JSON RTE field "{path}" holds values that are not documents; left out')
        return kept
    if is_doc(value):
        return value
    notes.append(f'JSON RTE field "{path}" holds {_short(value)}, not a document; left out')
    return None


def asset_meta(data: JsonDict, where: str) -> JsonDict:
    """An asset file's content from a delivered asset."""
    filename = data.get("filename")
    if not isinstance(filename, str) or not filename:
        raise SnapshotError(f"{where}: the stack delivered it without a filename")
    _check_filename(filename, where)
    title = data.get("title")
    content_type = data.get("content_type")
    meta: JsonDict = {
        "title": title if isinstance(title, str) and title else filename,
        "filename": filename,
        "content_type": content_type
        if isinstance(content_type, str) and content_type
        else "application/octet-stream",
    }
    description = data.get("description")
    if isinstance(description, str):
        meta["description"] = description
    url = data.get("url")
    if isinstance(url, str) and url:
        meta["url"] = url
    tags = data.get("tags")
    if isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags):
        meta["tags"] = tags
    size = data.get("file_size")
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
        meta["file_size"] = size
    return meta


# -- checks ---------------------------------------------------------------------------------


def _check_uid(uid: Any, what: str) -> str:
    """A uid that is safe as a file name (the format's rule), or a SnapshotError."""
    if not isinstance(uid, str) or not UID_RE.match(uid):
        raise SnapshotError(
            f"the stack delivered {what} with uid {_short(uid)}, which cannot be a file name "
            'in a local stack (letters, digits, "_" and "-")'
        )
    return uid


def _entry_locale(data: JsonDict, where: str) -> str:
    locale = data.get("locale")
    if not isinstance(locale, str):
        details = data.get("publish_details")
        locale = details.get("locale") if isinstance(details, dict) else None
    if not isinstance(locale, str) or not LOCALE_RE.match(locale):
        raise SnapshotError(f"{where}: the Sync API delivered it without a usable locale")
    return locale


def _check_filename(filename: str, where: str) -> None:
    if (
        "/" in filename
        or "\\" in filename
        or "\x00" in filename
        or filename in (".", "..")
        or filename.startswith(".")
    ):
        raise SnapshotError(
            f"{where}: filename {filename!r} cannot be stored in a local stack "
            "(it must be a plain file name not starting with '.')"
        )


def _check_fallback_chains(codes: list[str], fallbacks: Mapping[str, str]) -> None:
    master = codes[0]
    for start in codes:
        seen = [start]
        current = fallbacks.get(start, master if start != master else None)
        while current is not None:
            if current in seen:
                raise SnapshotError(
                    f"--fallback makes a cycle ({' -> '.join([*seen, current])}); every chain "
                    f"must end at the master locale {master}"
                )
            seen.append(current)
            current = fallbacks.get(current, master if current != master else None)


def _is_site_relative(url: str) -> bool:
    """A URL such as ``/assets/x/y.png``: meaningful only next to the stack it came from."""
    return url.startswith("/") and not url.startswith("//")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
