"""Walk entry values along a Contentstack content type schema.

Groups, global fields and modular blocks nest other fields, and any field may be `multiple`.
Validation, file-field expansion, reference inclusion and embedded-item collection all need to
visit the same leaf values with the same dotted paths, so the traversal lives here once.
Paths follow Contentstack: `group.field`, and `blocks_field.block_uid.field` inside modular blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

JsonDict = dict[str, Any]
LeafFn = Callable[[JsonDict, Any, str], Any]

NESTING_TYPES = frozenset({"group", "global_field"})


def as_list(value: Any) -> list[Any]:
    """A field value as a list: `multiple` fields already are one, single ones become [value]."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_json_rte(field: JsonDict) -> bool:
    """Whether the field is a JSON Rich Text Editor field."""
    meta = field.get("field_metadata") or {}
    return field.get("data_type") == "json" and bool(meta.get("allow_json_rte"))


def is_html_rte(field: JsonDict) -> bool:
    """Whether the field is an HTML Rich Text Editor field (markdown fields are not)."""
    meta = field.get("field_metadata") or {}
    return field.get("data_type") == "text" and bool(meta.get("allow_rich_text"))


def iter_leaves(schema: list[JsonDict], data: JsonDict, prefix: str = "") -> Iterator[tuple]:
    """Yield (field, value, path) for every leaf field present in `data`."""
    for field in schema:
        uid = field.get("uid")
        if not isinstance(uid, str) or uid not in data:
            continue
        value = data[uid]
        path = prefix + uid
        data_type = field.get("data_type")
        if data_type in NESTING_TYPES:
            for item in as_list(value):
                if isinstance(item, dict):
                    yield from iter_leaves(field.get("schema") or [], item, path + ".")
        elif data_type == "blocks":
            blocks = {b.get("uid"): b for b in field.get("blocks") or []}
            for item in as_list(value):
                if not isinstance(item, dict):
                    continue
                for block_uid, block_value in item.items():
                    block = blocks.get(block_uid)
                    if block is not None and isinstance(block_value, dict):
                        yield from iter_leaves(
                            block.get("schema") or [], block_value, f"{path}.{block_uid}."
                        )
        else:
            yield field, value, path


def map_leaves(schema: list[JsonDict], data: JsonDict, fn: LeafFn, prefix: str = "") -> JsonDict:
    """A shallow-copied `data` whose leaf values are replaced by `fn(field, value, path)`.

    Containers along the way are copied, so the input (often a cached entry) is never mutated.
    """
    out = dict(data)
    for field in schema:
        uid = field.get("uid")
        if not isinstance(uid, str) or uid not in data:
            continue
        value = data[uid]
        path = prefix + uid
        data_type = field.get("data_type")
        if data_type in NESTING_TYPES:
            sub = field.get("schema") or []

            def nested(item: Any, sub: list = sub, path: str = path) -> Any:
                return map_leaves(sub, item, fn, path + ".") if isinstance(item, dict) else item

            out[uid] = [nested(v) for v in value] if isinstance(value, list) else nested(value)
        elif data_type == "blocks":
            blocks = {b.get("uid"): b for b in field.get("blocks") or []}

            def block_item(item: Any, blocks: dict = blocks, path: str = path) -> Any:
                if not isinstance(item, dict):
                    return item
                copied = {}
                for block_uid, block_value in item.items():
                    block = blocks.get(block_uid)
                    if block is not None and isinstance(block_value, dict):
                        copied[block_uid] = map_leaves(
                            block.get("schema") or [], block_value, fn, f"{path}.{block_uid}."
                        )
                    else:
                        copied[block_uid] = block_value
                return copied

            out[uid] = (
                [block_item(v) for v in value] if isinstance(value, list) else block_item(value)
            )
        else:
            out[uid] = fn(field, value, path)
    return out


def walk_schema(schema: list[JsonDict], prefix: str = "") -> Iterator[tuple[JsonDict, str]]:
    """Yield (field, path) for every field definition, nested ones included."""
    for field in schema:
        uid = field.get("uid")
        if not isinstance(uid, str):
            continue
        path = prefix + uid
        yield field, path
        if field.get("data_type") in NESTING_TYPES:
            yield from walk_schema(field.get("schema") or [], path + ".")
        elif field.get("data_type") == "blocks":
            for block in field.get("blocks") or []:
                if isinstance(block, dict) and isinstance(block.get("uid"), str):
                    yield from walk_schema(block.get("schema") or [], f"{path}.{block['uid']}.")
