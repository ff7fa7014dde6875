"""Fingerprints that tell an incremental build what changed outside the content.

Content fingerprint: where content comes from (stack, environment, locales, include depth);
when it changes the stored content is no longer the right content, so a full build runs.
Render fingerprint: everything else in the configuration that shapes pages; when it changes
every page is rendered again from the stored content, without downloading it.
Templates and copied files (static files, local asset files) are fingerprinted per file so a
change re-renders only the pages that used the file.

Paths go into the fingerprints relative to the site folder: a copied or moved site (``cp -r``,
a CI checkout in another folder with ``.sitegen/`` restored from a cache) keeps them, so its
next build stays incremental.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sitegen import __version__
from sitegen.config import SiteConfig, StackConfig
from sitegen.stack.branches import folder_of


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def site_path(config: SiteConfig, path: Path) -> str:
    """A path as the site folder sees it (``stack``, ``../shared/stack``): the same in a copy
    of the site, or in a checkout of it somewhere else."""
    return Path(os.path.relpath(path, config.root)).as_posix()


def content_source(config: SiteConfig, stack: StackConfig) -> dict[str, object]:
    """Where the stored content came from; when any of it changes, the stored content stops
    being the content a full build would pull."""
    return {
        "host": stack.base_url,
        "local": site_path(config, stack.local) if stack.local else None,
        # a hash, never the key itself: the state database must hold no credentials
        "stack": hashlib.sha256((stack.api_key or "").encode()).hexdigest()[:16],
        "environment": stack.environment,
        "branch": stack.branch,
        "include_depth": stack.include_depth,
        "locales": [loc.code for loc in config.locales],
    }


def content_fingerprint(config: SiteConfig, stack: StackConfig) -> str:
    """A digest of :func:`content_source`."""
    return _digest(content_source(config, stack))


def recorded_source(recorded: dict[str, object], config: SiteConfig) -> dict[str, object]:
    """A stored :func:`content_source` as :func:`content_source` writes it now: older states
    hold the local stack folder's absolute path."""
    local = recorded.get("local")
    if isinstance(local, str) and os.path.isabs(local):
        return {**recorded, "local": site_path(config, Path(local))}
    return recorded


def source_change(old: dict[str, object], new: dict[str, object]) -> str:
    """Why stored content no longer fits, in words: what changed, from what to what."""
    said = []
    if any(old.get(k) != new.get(k) for k in ("host", "local", "stack")):
        said.append("the stack ([stack] host, local or api_key) changed")
    if old.get("environment") != new.get("environment"):
        said.append(
            f"[stack] environment changed ({old.get('environment')} → {new['environment']})"
        )
    if old.get("branch") != new.get("branch"):
        said.append(
            f"[stack] branch changed ({old.get('branch') or 'main'} → {new['branch'] or 'main'})"
        )
    if old.get("include_depth") != new.get("include_depth"):
        said.append("[stack] include_depth changed")
    if old.get("locales") != new.get("locales"):
        said.append("the site's locales changed")
    return "; ".join(said) or "where content comes from changed"


def render_fingerprint(config: SiteConfig) -> str:
    """Changes when the same content would render differently (or elsewhere)."""
    return _digest(
        {
            "version": __version__,
            "title": config.title,
            "base_url": config.base_url,
            "locales": [(loc.code, loc.name, loc.prefix) for loc in config.locales],
            "content_types": {uid: ct.template for uid, ct in config.content_types.items()},
            "extra": dict(config.extra),
            "templates": site_path(config, config.templates),
            "static": site_path(config, config.static) if config.static else None,
            "output": site_path(config, config.output),
            "listings": [dataclasses.asdict(item) for item in config.listings],
            "feeds": [dataclasses.asdict(item) for item in config.feeds],
            "sitemap": config.sitemap,
            # only when on, so sites that do not download keep their fingerprint
            **({"assets": [config.assets.path]} if config.assets.download else {}),
            # only when changed from the default, for the same reason
            **({"rte_html": config.rte_html} if config.rte_html != "sanitize" else {}),
            **({"search": "pagefind"} if config.pagefind else {}),
            **(
                {
                    "personalize": {
                        **dataclasses.asdict(config.personalize),
                        "edge": [
                            (target, site_path(config, file))
                            for target, file in config.personalize.edge
                        ],
                    }
                }
                if config.personalize
                else {}
            ),
        }
    )


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()[:32]


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield relative.as_posix(), path


def template_fingerprints(config: SiteConfig, package_templates: Path) -> dict[str, str]:
    """Hash of every template file by its Jinja name (site templates shadow package ones)."""
    result: dict[str, str] = {}
    for root in (package_templates, config.templates):
        if root.is_dir():
            for name, path in _files(root):
                result[name] = _file_hash(path)
    return result


def template_sources(config: SiteConfig, package_templates: Path) -> dict[str, str]:
    """Every template file's text by its Jinja name (site templates shadow package ones)."""
    result: dict[str, str] = {}
    for root in (package_templates, config.templates):
        if root.is_dir():
            for name, path in _files(root):
                result[name] = path.read_text(encoding="utf-8", errors="surrogateescape")
    return result


@dataclass(frozen=True)
class CopiedFile:
    """A file copied into the output as is: a static file or a local stack's asset file."""

    output_path: str
    source: Path


def copied_files(config: SiteConfig) -> list[CopiedFile]:
    """Static files at the output root; a local stack's asset files under ``assets/<uid>/``.

    With ``[assets] download`` the asset files arrive content-hashed through the download
    stage instead, so the plain copies are left out rather than shipped twice.
    """
    files: list[CopiedFile] = []
    if config.static is not None:
        files.extend(CopiedFile(name, path) for name, path in _files(config.static))
    local = config.stack.local
    if local is not None:  # the files of the branch [stack] branch reads
        local = folder_of(local, config.stack.branch)
    if local is not None and not config.assets.download and (local / "assets").is_dir():
        for folder in sorted(p for p in (local / "assets").iterdir() if p.is_dir()):
            files.extend(
                CopiedFile(f"assets/{folder.name}/{name}", path) for name, path in _files(folder)
            )
    return files


def copied_fingerprints(files: list[CopiedFile], previous: dict[str, str]) -> dict[str, str]:
    """``size:mtime:hash`` per output path; the hash is recomputed only when size or mtime moved."""
    result: dict[str, str] = {}
    for file in files:
        st = file.source.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
        old = previous.get(file.output_path, "")
        result[file.output_path] = (
            old if old.startswith(stamp + ":") else f"{stamp}:{_file_hash(file.source)}"
        )
    return result


def content_hash(fingerprint: str) -> str:
    """The content part of a ``size:mtime:hash`` fingerprint."""
    return fingerprint.rsplit(":", 1)[-1]
