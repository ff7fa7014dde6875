"""Reading hand-edited JSON files, with errors that name the file and the spot to fix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sitegen.errors import StackFolderError

JsonDict = dict[str, Any]


def read_text(path: Path, shown: str) -> str:
    """A hand-edited file's text; unreadable or non-UTF-8 files are errors naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise StackFolderError(
            f"{shown}: is not UTF-8 text ({err.reason}); save it as UTF-8."
        ) from None
    except OSError as err:
        raise StackFolderError(f"{shown}: cannot be read ({err.strerror}).") from None


def read_json(path: Path, shown: str) -> Any:
    """Parse a JSON file, reporting syntax errors with the file, line and column."""
    text = read_text(path, shown)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise StackFolderError(
            f"{shown}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}. "
            "Fix the syntax (often a missing comma, quote or bracket)."
        ) from None
    except RecursionError:  # the decoder recurses once per nested array or object
        raise StackFolderError(f"{shown}: arrays or objects are nested too deeply.") from None


def require_str(data: JsonDict, key: str, shown: str, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        need = "a string" if optional else "a non-empty string"
        raise StackFolderError(f'{shown}: "{key}" must be {need}.')
    return value


def keys_word(keys: Sequence[str]) -> str:
    """The word for a list of unknown keys: "key" or "keys"."""
    return "key" if len(keys) == 1 else "keys"
