"""Asset download (``[assets] download = true``): the stack's asset files copied into the site.

Each asset's original file is fetched once and written to
``<path>/<uid>/<sha256[:10]>/<filename>``: the content hash in the path makes every URL
immutable (cache it forever) and a replaced file a new URL. The store remembers, per asset, a
fingerprint of its metadata, its remote URL, the output path and the hash of the bytes, so a
build fetches only assets that are new or changed, and an asset that is gone takes its file
with it. Downloads go through the build's staged or overlay output, so a failed download
leaves the previous site as it was.

Rendered pages are rewritten afterwards (:class:`AssetUrls`): every remote asset URL in a
page becomes the local one, whatever produced it (templates, JSON-RTE, HTML-RTE, ``srcset``).
URLs with a query string are left alone: those are Images API transformations
(``image_url(asset, width=…)``), which a static copy cannot perform.

Asset hosts are not the CDA: downloads use a client of their own that carries no credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import shutil
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx
from markupsafe import escape

from sitegen import __version__
from sitegen.config import SiteConfig, StackConfig
from sitegen.content.images import is_image_host
from sitegen.errors import BuildError
from sitegen.source.cda import (
    MAX_BACKOFF,
    RETRY_STATUSES,
    _describe_transport_error,
    _retry_after,
)
from sitegen.source.tasks import gather
from sitegen.store import Store

HASH_CHARS = 10
MAX_NAME_BYTES = 255
CHUNK = 1 << 16
# encodeURI's set of characters left as they are: how JSON-RTE output spells asset links
ENCODE_URI_SAFE = "!#$&'()*+,-./:;=?@_~"

Row = tuple[str, str, str, str, int]  # (fingerprint, remote url, output path, sha256, size)


class Output(Protocol):
    """What the staged and overlay outputs offer the download stage."""

    def place(self, relative: str, source: Path) -> None: ...
    def keep(self, relative: str) -> None: ...
    def remove(self, relative: str) -> None: ...


class Progress(Protocol):
    def start(self, phase: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...


# -- names ------------------------------------------------------------------------------------


def fingerprint(asset: Mapping[str, Any]) -> str:
    """What identifies one version of an asset's file: a change means fetching it again."""
    parts = [str(asset.get(k, "")) for k in ("url", "updated_at", "_version", "file_size")]
    parts.append(str(asset.get("filename", "")))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def safe_filename(name: str, fallback: str = "file") -> str:
    """A file name that is safe in any output folder and on any static host.

    No path separators, no traversal (``..``), no control characters, no leading dot (hidden
    files are skipped by some hosts) and at most 255 bytes of UTF-8, extension kept.
    """
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in name)
    name = re.sub(r"[/\\]", "_", name).strip().lstrip(".").strip()
    if not name:
        name = fallback
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext.encode()) > 16:
            stem, ext = name, ""
        room = MAX_NAME_BYTES - len(ext.encode()) - (1 if ext else 0)
        stem = stem.encode()[:room].decode("utf-8", "ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name


def safe_uid(uid: str) -> str:
    """The asset uid as a folder name; uids are plain in practice, but never trust them."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", uid):
        return uid
    return "uid-" + hashlib.sha256(uid.encode()).hexdigest()[:16]


def asset_filename(asset: Mapping[str, Any], url: str) -> str:
    """The asset's ``filename``, else the last segment of its URL."""
    name = asset.get("filename")
    if not isinstance(name, str) or not name.strip():
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return safe_filename(name)


def output_path(folder: str, uid: str, digest: str, filename: str) -> str:
    """``<folder>/<uid>/<sha256[:10]>/<filename>``, relative to the output."""
    return f"{folder}/{safe_uid(uid)}/{digest[:HASH_CHARS]}/{filename}"


def local_url(path: str) -> str:
    """The root-relative URL of an output path."""
    return "/" + quote(path, safe="/~!$&'()*+,;=:@-._")


# -- rewriting rendered pages --------------------------------------------------------------------

# A URL-like token: absolute, protocol-relative or root-relative, at the start of a value (after
# a quote, a paren, "=", ",", ">", white space, or ";" ending an escaped quote such as &quot;),
# so a path inside a longer word never matches. It ends before white space, quotes, brackets
# and their escaped forms (escaped HTML: an Atom feed's <content>).
TOKEN = re.compile(
    r"""(?<![^\s"'(=,>;])(?:https?:)?/(?:(?!&(?:quot|#34|#39|apos|lt|gt);)[^\s"'<>`\\])*"""
)
TRAILING = ".,;:!?)]}"


class AssetUrls:
    """Remote asset URL → local URL, applied to whole rendered pages."""

    def __init__(self, rows: Mapping[str, Row], base_url: str = ""):
        self._base_url = base_url
        self._urls: dict[str, tuple[str, str]] = {}  # spelling → (remote url, replacement)
        self._odd: dict[str, tuple[str, str]] = {}  # spellings the tokenizer cannot see
        for _, remote, path, _, _ in rows.values():
            local = local_url(path)
            spellings = {remote, quote(remote, safe=ENCODE_URI_SAFE)}
            spellings |= {str(escape(s)) for s in spellings}
            for spelling in spellings:
                self._add(spelling, remote, local)
                if base_url and spelling.startswith("/") and not spelling.startswith("//"):
                    self._add(base_url + spelling, remote, base_url + local)

    def _add(self, spelling: str, remote: str, replacement: str) -> None:
        if TOKEN.fullmatch(spelling):
            self._urls[spelling] = (remote, replacement)
        else:
            self._odd[spelling] = (remote, replacement)

    def rewrite(self, text: str) -> tuple[str, set[str]]:
        """The text with local asset URLs, and the remote URLs the page's output depends on.

        Those are the URLs replaced, plus query-less URLs that look like assets but are not
        known (yet): publishing that asset later must re-render the page.
        """
        used: set[str] = set()

        def replace(match: re.Match[str]) -> str:
            core, tail = match.group(0), ""
            while core:
                hit = self._urls.get(core)
                if hit is not None:
                    used.add(hit[0])
                    return _in_context(hit[1], match, self._base_url) + tail
                if core[-1] not in TRAILING:
                    break
                core, tail = core[:-1], core[-1] + tail
            if core and "?" not in core and ("/assets/" in core or is_image_host(core)):
                used.add(core)
            return match.group(0)

        text = TOKEN.sub(replace, text)
        for spelling, (remote, replacement) in self._odd.items():
            if spelling in text:
                text = text.replace(spelling, replacement)
                used.add(remote)
        return text, used


def _in_context(replacement: str, match: re.Match[str], base_url: str) -> str:
    """Absolute inside escaped HTML (feed content, read away from the site), else as is."""
    escaped = match.start() > 0 and match.string[match.start() - 1] == ";"
    if escaped and base_url and replacement.startswith("/") and not replacement.startswith("//"):
        return base_url + replacement
    return replacement


# -- the stage ----------------------------------------------------------------------------------


@dataclass
class AssetSync:
    """What the download stage did: the rows to store, and what a render must know."""

    rows: dict[str, Row] = field(default_factory=dict)
    changed_urls: set[str] = field(default_factory=set)  # remote URLs whose local copy moved
    downloaded: int = 0
    requests: int = 0
    retries: int = 0


@dataclass
class _Job:
    uid: str
    url: str  # as delivered
    absolute: str  # resolved against the stack host when site-relative
    filename: str
    fingerprint: str


def previous_rows(store_path: Path) -> dict[str, Row]:
    """The downloads recorded by the last build, for a full build to reuse; {} if unreadable."""
    if not store_path.is_file():
        return {}
    try:
        store = Store(store_path, create=False)
    except Exception:  # a foreign or outdated database: download everything
        return {}
    try:
        return store.content.asset_files()
    except Exception:
        return {}
    finally:
        store.close()


def sync_assets(
    config: SiteConfig,
    stack: StackConfig,
    transport: httpx.AsyncBaseTransport | None,
    store: Store,
    out: Output,
    previous: Mapping[str, Row],
    *,
    full: bool,
    progress: Progress,
) -> AssetSync:
    """Bring the output's asset copies in line with the store's assets, downloading the least.

    ``previous`` is what the live output holds (the last build's rows). A full build checks
    the hash of every file it keeps; an incremental build trusts size and presence. An
    incremental build removes the files of assets that are gone or changed; a full build just
    leaves them out of the new site. The rows are stored in ``store``.
    """
    result = AssetSync()
    if config.assets.download:
        # beside the output (same file system, so files move in); a killed build's is removed
        # by the next build like its other scratch folders
        scratch = config.output.parent / f".{config.output.name}.assets.staging-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            _fetch(config, stack, transport, store, out, previous, scratch, full, progress, result)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    for uid, old in previous.items():
        new = result.rows.get(uid)
        if new is None or new[2] != old[2] or new[1] != old[1]:
            result.changed_urls.add(old[1])
            if not full and (new is None or new[2] != old[2]):
                out.remove(old[2])
    for uid, new in result.rows.items():
        old = previous.get(uid)
        if old is None or old[2] != new[2] or old[1] != new[1]:
            result.changed_urls.add(new[1])
    store.content.set_asset_files(result.rows)
    return result


def _fetch(
    config: SiteConfig,
    stack: StackConfig,
    transport: httpx.AsyncBaseTransport | None,
    store: Store,
    out: Output,
    previous: Mapping[str, Row],
    scratch: Path,
    full: bool,
    progress: Progress,
    result: AssetSync,
) -> None:
    """Reuse the live copies that are still right, download the rest, place them all."""
    folder = config.assets.path
    jobs: list[_Job] = []
    for uid, asset in sorted(store.content.assets().items()):
        url = asset.get("url")
        if not isinstance(url, str) or not url.strip():
            continue  # an asset without a file: nothing to fetch
        fp = fingerprint(asset)
        filename = asset_filename(asset, url)
        old = previous.get(uid)
        if old is not None and old[0] == fp and old[1] == url:
            path = output_path(folder, uid, old[3], filename)
            if _reuse(config.output, out, old, path, scratch, verify=full):
                result.rows[uid] = (fp, url, path, old[3], old[4])
                continue
        jobs.append(_Job(uid, url, _absolute(url, stack, uid, filename), filename, fp))
    if not jobs:
        return
    progress.start("Downloading assets", len(jobs))
    done = asyncio.run(_download_all(jobs, stack, transport, scratch, store, progress, result))
    for job, (tmp, digest, size) in zip(jobs, done, strict=True):
        path = output_path(folder, job.uid, digest, job.filename)
        out.place(path, tmp)
        result.rows[job.uid] = (job.fingerprint, job.url, path, digest, size)
    result.downloaded = len(jobs)


def _reuse(output: Path, out: Output, old: Row, path: str, scratch: Path, *, verify: bool) -> bool:
    """Keep (or move within the site) the live copy of an unchanged asset, if it is intact."""
    live = output / old[2]
    try:
        if not live.is_file() or live.stat().st_size != old[4]:
            return False
        if verify and _sha256(live) != old[3]:
            return False
    except OSError:
        return False
    if path == old[2]:
        out.keep(path)
        return True
    copy = scratch / f"reuse-{hashlib.sha256(path.encode()).hexdigest()[:16]}"
    shutil.copyfile(live, copy)
    out.place(path, copy)
    return True


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _absolute(url: str, stack: StackConfig, uid: str, filename: str) -> str:
    """The URL to fetch: site-relative URLs (a local stack's) are served by the stack host."""
    absolute = urljoin(stack.base_url + "/", url.strip())
    if urlsplit(absolute).scheme not in ("http", "https"):
        raise BuildError(
            f"asset {uid} ({filename}): cannot download {_shown(url, stack)}: "
            "only http(s) URLs can be downloaded"
        )
    return absolute


def _shown(text: str, stack: StackConfig) -> str:
    """Text with credentials masked: Contentstack asset URLs carry the stack's API key."""
    for secret in stack.secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _client(stack: StackConfig, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    """An HTTP client for asset hosts: no API key, no token, whatever the host."""
    options: dict[str, Any] = {
        "headers": {"user-agent": f"sitegen/{__version__}"},
        "timeout": httpx.Timeout(stack.timeout, connect=min(10.0, stack.timeout)),
        "limits": httpx.Limits(max_connections=stack.concurrency),
        "follow_redirects": True,
    }
    if transport is not None and stack.local is not None:
        # the in-process local stack answers for its own host only; others go to the network
        return httpx.AsyncClient(mounts={stack.base_url: transport}, **options)
    return httpx.AsyncClient(transport=transport, **options)


async def _download_all(
    jobs: list[_Job],
    stack: StackConfig,
    transport: httpx.AsyncBaseTransport | None,
    scratch: Path,
    store: Store,
    progress: Progress,
    result: AssetSync,
) -> list[tuple[Path, str, int]]:
    limit = asyncio.Semaphore(stack.concurrency)
    async with _client(stack, transport) as client:

        async def one(index: int, job: _Job) -> tuple[Path, str, int]:
            got = await _download(client, limit, job, stack, scratch / str(index), store, result)
            progress.advance()
            return got

        return await gather([one(i, job) for i, job in enumerate(jobs)])


async def _download(
    client: httpx.AsyncClient,
    limit: asyncio.Semaphore,
    job: _Job,
    stack: StackConfig,
    target: Path,
    store: Store,
    result: AssetSync,
) -> tuple[Path, str, int]:
    """Stream one file to ``target``, retried like CDA requests; returns (path, sha256, size)."""
    attempt = 0
    while True:
        attempt += 1
        retry_after: float | None = None
        async with limit:
            result.requests += 1
            try:
                async with client.stream("GET", job.absolute) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES:
                        problem: str | None = f"HTTP {status}"
                        retry_after = _retry_after(response.headers.get("retry-after"))
                    elif not response.is_success:
                        raise _failure(job, stack, store, f"HTTP {status}")
                    else:
                        h = hashlib.sha256()
                        size = 0
                        with target.open("wb") as f:
                            async for chunk in response.aiter_bytes(CHUNK):
                                h.update(chunk)
                                size += len(chunk)
                                f.write(chunk)
                        return target, h.hexdigest(), size
            except (httpx.TimeoutException, httpx.TransportError) as err:
                problem = _describe_transport_error(err)
        if attempt >= stack.max_tries:
            raise _failure(job, stack, store, f"{problem} after {attempt} tries")
        result.retries += 1
        if retry_after is not None:
            delay = min(retry_after, 60.0)
        else:
            delay = random.uniform(0, min(MAX_BACKOFF, 0.25 * 2 ** (attempt - 1)))
        await asyncio.sleep(delay)


def _failure(job: _Job, stack: StackConfig, store: Store, problem: str) -> BuildError:
    """One line: the asset, its file, the URL and who uses it; never a credential."""
    users = sorted(store.content.referrers([job.uid]))
    used_by = (
        f"; used by entry {users[0][1]} of {users[0][0]} ({users[0][2]})"
        + (f" and {len(users) - 1} more" if len(users) > 1 else "")
        if users
        else ""
    )
    return BuildError(
        _shown(
            f"asset {job.uid} ({job.filename}): cannot download {job.absolute}: {problem}"
            f"{used_by}; the previous site is left as it was",
            stack,
        )
    )
