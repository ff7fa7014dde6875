"""Global fields as the CDA delivers them (``/v3/global_fields``, ``/v3/global_fields/{uid}``).

A global field is a schema that content types reuse: in the folder, ``global_fields/<uid>.json``
(``{"uid", "title", "schema", "description"?}``), named from a content type's field by
``{"data_type": "global_field", "reference_to": "<uid>"}``. The folder keeps no history for
them, so their dates are the file's modification time and their version is 1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sitegen.content.timestamps import format_time
from sitegen.stack.folder import GLOBAL_FIELDS_DIR, LocalStack

JsonDict = dict[str, Any]


def global_fields(stack: LocalStack) -> list[JsonDict]:
    """Every global field with its system fields, by uid."""
    return [_delivered(stack, uid) for uid in sorted(stack.global_fields)]


def global_field(stack: LocalStack, uid: str) -> JsonDict | None:
    """One global field with its system fields, or None."""
    return _delivered(stack, uid) if uid in stack.global_fields else None


def _delivered(stack: LocalStack, uid: str) -> JsonDict:
    record = dict(stack.global_fields[uid])
    record.setdefault("description", "")
    stat = stack.config_stats.get(f"{GLOBAL_FIELDS_DIR}/{uid}.json")
    when = format_time(datetime.fromtimestamp(stat[1] / 1e9, UTC)) if stat else None
    record["created_at"] = when
    record["updated_at"] = when
    record["_version"] = 1
    return record


def without_global_field_schemas(schema: list[JsonDict]) -> list[JsonDict]:
    """A content type's schema as the CDA answers it by default: a global field it names by
    ``reference_to`` comes without its schema unless the request says
    ``include_global_field_schema=true`` (CDA reference, "All Content Types")."""
    out: list[JsonDict] = []
    for fdef in schema:
        if fdef.get("data_type") == "global_field" and isinstance(fdef.get("reference_to"), str):
            fdef = {k: v for k, v in fdef.items() if k != "schema"}
        elif isinstance(fdef.get("schema"), list):
            fdef = {**fdef, "schema": without_global_field_schemas(fdef["schema"])}
        elif fdef.get("data_type") == "blocks":
            fdef = {
                **fdef,
                "blocks": [
                    {**b, "schema": without_global_field_schemas(b.get("schema") or [])}
                    for b in fdef.get("blocks") or []
                ],
            }
        out.append(fdef)
    return out
