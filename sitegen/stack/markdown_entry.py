"""Entries written as Markdown files: ``entries/<content_type>/<uid>.<locale>.md``.

Docs teams write in Git, not in JSON strings. Such a file is TOML front matter between two
``+++`` lines (the entry's other fields, exactly as in a ``.json`` entry file) and then the
text of the content type's Markdown field: the one text field whose ``field_metadata`` has
``"markdown": true``, which is how Contentstack marks a Markdown field. The stack serves the
entry over the CDA as if it had been written as JSON.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from sitegen.errors import StackFolderError
from sitegen.stack.jsonfile import read_text

JsonDict = dict[str, Any]
FENCE = "+++"


def markdown_field(schema: list[JsonDict]) -> str | None:
    """The uid of the schema's single top-level Markdown field, or None when it has none."""
    found = [
        f["uid"]
        for f in schema
        if f.get("data_type") == "text"
        and (f.get("field_metadata") or {}).get("markdown")
        and not f.get("multiple")
    ]
    return found[0] if len(found) == 1 else None


def read_markdown_entry(path: Path, shown: str, schema: list[JsonDict]) -> JsonDict:
    """The entry's fields: the front matter's, plus the body in the Markdown field."""
    field = markdown_field(schema)
    if field is None:
        raise StackFolderError(
            f"{shown}: a .md entry needs a content type with exactly one Markdown field (a "
            'text field with "field_metadata": {"markdown": true}); write this entry as .json.'
        )
    lines = read_text(path, shown).splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise StackFolderError(
            f'{shown}: a .md entry starts with a "{FENCE}" line, then its fields in TOML '
            f'(title = "…"), a closing "{FENCE}" line and the Markdown text.'
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise StackFolderError(
            f'{shown}: the front matter has no closing "{FENCE}" line; add one after the fields.'
        ) from None
    try:
        fields = tomllib.loads("".join(lines[1:end]))
    except tomllib.TOMLDecodeError as err:
        raise StackFolderError(
            f"{shown}: invalid TOML in the front matter: {err} (line 1 is the one after "
            f'"{FENCE}"). Fix the syntax; strings need quotes.'
        ) from None
    if field in fields:
        raise StackFolderError(
            f'{shown}: "{field}" is the Markdown field, written after the front matter; '
            "remove it from the front matter."
        )
    fields = {key: _json_value(value) for key, value in fields.items()}
    fields[field] = "".join(lines[end + 1 :]).lstrip("\n")
    return fields


def _json_value(value: Any) -> Any:
    """TOML dates and times as the ISO 8601 strings a JSON entry file would hold."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value
