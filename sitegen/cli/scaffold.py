"""Starter sites for ``sitegen init``: where they live and how a new site is copied from one.

The starters are the repository's top-level ``templates/<name>/`` folders, each a complete site
(sitegen.toml, templates, static files, a local stack). A wheel carries them as
``sitegen/starters/<name>/`` (see setup.py); an editable install or a source checkout reads the
repository folder directly, so editing a starter needs no reinstall.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sitegen.config import CONFIG_NAME
from sitegen.errors import SitegenError

PACKAGE = Path(__file__).resolve().parent.parent  # sitegen/
PACKAGED = PACKAGE / "starters"  # inside an installed wheel
CHECKOUT = PACKAGE.parent / "templates"  # the repository folder
DEFAULT_STARTER = "blog"

# Produced by building or serving a starter in place: never part of a new site.
_ROOT_SKIP = frozenset({"public", "public-preview", ".sitegen", ".sitegen-preview"})
_ANYWHERE_SKIP = frozenset({"__pycache__", ".DS_Store"})


class InitError(SitegenError):
    """The new site cannot be created (folder not empty, unknown starter, copy failed)."""


@dataclass(frozen=True)
class Scaffolded:
    """What ``create_site`` wrote."""

    target: Path
    starter: str
    files: int


def starters_dir() -> Path | None:
    """The folder holding the starters: the wheel's copy first, else the checkout's.

    Both are checked for a starter's sitegen.toml, so an unrelated ``templates`` folder next to
    an installed package is never mistaken for them.
    """
    for candidate in (PACKAGED, CHECKOUT):
        if candidate.is_dir() and any(
            (child / CONFIG_NAME).is_file() for child in candidate.iterdir()
        ):
            return candidate
    return None


def starter_names() -> list[str]:
    """Names of the available starters, sorted (empty when none are installed)."""
    root = starters_dir()
    if root is None:
        return []
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_NAME).is_file())


def skipped(relative: Path) -> bool:
    """Whether a path inside a starter is build output, state or clutter rather than source.

    setup.py repeats these rules for the wheel (it cannot import sitegen while building it).
    """
    parts = relative.parts
    if not parts:
        return False
    top = parts[0]
    if top in _ROOT_SKIP or (top.startswith(".") and ".history.sqlite" in top):
        return True
    return any(part in _ANYWHERE_SKIP or part.endswith(".pyc") for part in parts)


def check_target(target: Path) -> None:
    """Refuse a target that is a file, a symbolic link or a folder with anything in it."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InitError(f"{target}: exists and is not a folder; choose a new folder")
    if target.is_dir() and any(target.iterdir()):
        raise InitError(f"{target}: is not empty; choose a new or empty folder")


def create_site(target: Path, starter: str = DEFAULT_STARTER) -> Scaffolded:
    """Copy the starter ``starter`` into ``target`` (new or empty), all or nothing.

    The copy is made in a hidden folder beside ``target`` and renamed into place at the end,
    so a failure (full disk, Ctrl-C) never leaves a half-written site behind. ``target`` may
    be the current directory (``sitegen init .`` in an empty folder).
    """
    names = starter_names()
    if starter not in names:
        choices = ", ".join(names) or "none are installed"
        raise InitError(f"unknown starter {starter!r}; choose one of: {choices}")
    check_target(target)
    source = starters_dir() / starter  # type: ignore[operator]  # not None: names is not empty
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=parent))
    try:
        site = staging / "site"
        files = _copy(source, site)
        _move_into_place(site, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Scaffolded(target=target, starter=starter, files=files)


def _copy(source: Path, dest: Path) -> int:
    """Copy the starter's source files; new files and folders get ordinary permissions.

    ``copyfile`` rather than ``copy2``: files installed read-only (a system site-packages)
    must come out writable, since the user is about to edit them.
    """
    count = 0
    dest.mkdir()
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        rel = here.relative_to(source)
        dirs[:] = sorted(d for d in dirs if not skipped(rel / d))
        for d in dirs:
            (dest / rel / d).mkdir()
        for name in sorted(files):
            if not skipped(rel / name):
                shutil.copyfile(here / name, dest / rel / name)
                count += 1
    return count


def _move_into_place(site: Path, target: Path) -> None:
    """Rename the finished copy to ``target``, or its contents into an empty ``target``.

    An existing folder is kept (its permissions, and the working directory of a shell that
    ran ``sitegen init .`` in it); should a rename fail, what was moved goes back.
    """
    check_target(target)  # again: something may have appeared while copying
    if not target.exists():
        site.rename(target)
        return
    moved: list[str] = []
    try:
        for child in sorted(site.iterdir()):
            child.rename(target / child.name)
            moved.append(child.name)
    except BaseException:
        for name in reversed(moved):
            (target / name).rename(site / name)
        raise
