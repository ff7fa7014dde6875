"""Branches and branch aliases of a local stack folder.

A stack folder is its ``main`` branch; ``branches/<uid>/`` holds each other branch as a folder of
the same layout (content types, global fields, taxonomies, variant groups, entries, assets).
Branches share the stack's credentials and environments, as Contentstack's do; a branch's own
``stack.json`` is optional and may name its locales (languages are per branch in Contentstack).
``stack.json`` of the main folder maps aliases to branches: ``"branch_aliases": {"production":
"main"}``.

Requests choose a branch with the ``branch`` header (a branch uid or an alias); without it they
read ``main``. Sources: the CDA reference ("pass the branch header … provide the branch_uid under
the branch header"), Contentstack's branch-alias docs ("an alias acts as a pointer to a
particular branch … specify the alias ID in your frontend code"), and for a branch the token
cannot read, the answer recorded in contentstack/types-generator's tests: HTTP 422,
``error_code`` 901, "Access denied. You have insufficient permissions to perform operation on
this branch '<name>'." See docs/stack/entries/doc/contentstack-facts.en-us.md, section 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sitegen.errors import StackFolderError
from sitegen.stack.content_types import UID_RE

MAIN_BRANCH = "main"  # the folder itself; Contentstack's default branch is "main"
BRANCHES_DIR = "branches"
HEADER = "branch"
# What a branch's own stack.json may hold; credentials and environments belong to the stack.
BRANCH_STACK_KEYS = frozenset({"name", "locales", "environments"})


def branch_folder(root: Path, uid: str) -> Path:
    """Where branch ``uid`` of the stack folder ``root`` lives (``root`` itself for main)."""
    return root if uid == MAIN_BRANCH else root / BRANCHES_DIR / uid


def branch_uids(root: Path) -> list[str]:
    """The branches of a stack folder, main first; a malformed ``branches/`` is an error."""
    found = [MAIN_BRANCH]
    folder = root / BRANCHES_DIR
    if not folder.exists():
        return found
    if not folder.is_dir():
        raise StackFolderError(f"{folder}: should be a folder of branch folders (branches/<uid>/).")
    for item in sorted(folder.iterdir()):
        if item.name.startswith("."):
            continue
        if not item.is_dir():
            raise StackFolderError(
                f"{item}: {BRANCHES_DIR}/ holds only branch folders (branches/<uid>/); move this out."
            )
        if not UID_RE.match(item.name) or item.name == MAIN_BRANCH:
            raise StackFolderError(
                f"{item}: a branch uid has only letters, digits, _ and - and is not "
                f'"{MAIN_BRANCH}" (the stack folder itself is main); rename the folder.'
            )
        found.append(item.name)
    return found


def parse_aliases(value: Any, root: Path, shown: str) -> dict[str, str]:
    """``branch_aliases`` of stack.json: alias → branch uid, each naming an existing branch."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StackFolderError(
            f'{shown}: "branch_aliases" must be an object such as {{"production": "main"}}.'
        )
    branches = branch_uids(root)
    aliases: dict[str, str] = {}
    for alias, target in value.items():
        if not UID_RE.match(alias):
            raise StackFolderError(
                f'{shown}: branch alias "{alias}" may hold only letters, digits, _ and -.'
            )
        if alias in branches:
            raise StackFolderError(
                f'{shown}: "{alias}" is a branch and cannot also be an alias; rename the alias.'
            )
        if not isinstance(target, str) or target not in branches:
            raise StackFolderError(
                f'{shown}: alias "{alias}" points at {target!r}, which is not a branch of this '
                f"stack (branches: {', '.join(branches)}); add {BRANCHES_DIR}/{target}/ or fix "
                "the alias."
            )
        aliases[alias] = target
    return aliases


def resolve(name: str | None, root: Path, aliases: dict[str, str]) -> str | None:
    """The branch uid a ``branch`` header names (main without one), or None if it names none."""
    if name is None or name.strip() == "":
        return MAIN_BRANCH
    name = name.strip()
    if name in aliases:
        return aliases[name]
    if name == MAIN_BRANCH:
        return MAIN_BRANCH
    if UID_RE.match(name) and (root / BRANCHES_DIR / name).is_dir():
        return name
    return None


def folder_of(root: Path, name: str | None) -> Path | None:
    """The folder of the branch a ``branch`` setting names (a uid or an alias of root's
    stack.json), or None when it names none; cheap enough for every build (one small file)."""
    aliases: dict[str, str] = {}
    try:
        data = json.loads((root / "stack.json").read_text(encoding="utf-8"))
        found = data.get("branch_aliases") if isinstance(data, dict) else None
        if isinstance(found, dict):
            aliases = {k: v for k, v in found.items() if isinstance(v, str)}
    except (OSError, ValueError):
        pass  # the server reports a broken stack.json, naming it
    uid = resolve(name, root, aliases)
    return None if uid is None else branch_folder(root, uid)
