"""Checking content type files: the field schema Contentstack content types use."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sitegen.errors import StackFolderError
from sitegen.stack.jsonfile import read_json, require_str
from sitegen.stack.schema import NESTING_TYPES

JsonDict = dict[str, Any]

UID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
LEAF_TYPES = frozenset(
    {"text", "number", "boolean", "isodate", "link", "file", "reference", "json", "taxonomy"}
)
CONTAINER_TYPES = frozenset({"group", "global_field", "blocks"})


def parse_content_type(path: Path, uid: str, kind: str = "content type") -> JsonDict:
    """A content type file (or, with ``kind="global field"``, a global field file), checked."""
    shown = str(path)
    data = read_json(path, shown)
    if not isinstance(data, dict):
        raise StackFolderError(f"{shown}: a {kind} file must hold a JSON object.")
    ct_uid = require_str(data, "uid", shown)
    if ct_uid != uid:
        raise StackFolderError(
            f'{shown}: "uid" is "{ct_uid}" but the file is named {uid}.json; make them the same.'
        )
    if not UID_RE.match(uid):
        raise StackFolderError(
            f'{shown}: {kind} uid "{uid}" may only use letters, digits, "_", "-".'
        )
    require_str(data, "title", shown)
    schema = data.get("schema")
    if not isinstance(schema, list):
        raise StackFolderError(f'{shown}: "schema" must be a list of fields.')
    _check_schema(schema, shown, "schema")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise StackFolderError(f'{shown}: "options" must be an object.')
    return data


def _check_schema(schema: list[Any], shown: str, where: str) -> None:
    seen: set[str] = set()
    for index, fdef in enumerate(schema):
        here = f"{where}[{index}]"
        if not isinstance(fdef, dict):
            raise StackFolderError(f"{shown}: {here} must be a field object.")
        uid = fdef.get("uid")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise StackFolderError(
                f'{shown}: {here} needs a "uid" made of letters, digits, "_", "-".'
            )
        if uid in seen:
            raise StackFolderError(f'{shown}: field "{uid}" appears twice in {where}.')
        seen.add(uid)
        data_type = fdef.get("data_type")
        if data_type not in LEAF_TYPES and data_type not in CONTAINER_TYPES:
            known = ", ".join(sorted(LEAF_TYPES | CONTAINER_TYPES))
            raise StackFolderError(
                f'{shown}: field "{uid}" has data_type {json.dumps(data_type)}; use one of {known}.'
            )
        meta = fdef.get("field_metadata", {})
        if not isinstance(meta, dict):
            raise StackFolderError(f'{shown}: field "{uid}": "field_metadata" must be an object.')
        if data_type == "reference":
            targets = fdef.get("reference_to")
            if isinstance(targets, str):
                targets = [targets]
            if (
                not isinstance(targets, list)
                or not targets
                or not all(isinstance(t, str) for t in targets)
            ):
                raise StackFolderError(
                    f'{shown}: reference field "{uid}" needs "reference_to": [content type uids].'
                )
        elif data_type == "global_field" and "schema" not in fdef:
            if not isinstance(fdef.get("reference_to"), str):
                raise StackFolderError(
                    f'{shown}: global field "{uid}" needs "reference_to": "<global field uid>" '
                    '(a file in global_fields/), or its own "schema".'
                )
        elif data_type in NESTING_TYPES:
            sub = fdef.get("schema")
            if not isinstance(sub, list):
                raise StackFolderError(
                    f'{shown}: {data_type} field "{uid}" needs its own "schema" list of fields.'
                )
            _check_schema(sub, shown, f"{uid}.schema")
        elif data_type == "blocks":
            blocks = fdef.get("blocks")
            if not isinstance(blocks, list) or not blocks:
                raise StackFolderError(
                    f'{shown}: modular blocks field "{uid}" needs "blocks": '
                    '[{"uid": "...", "title": "...", "schema": [...]}].'
                )
            block_uids: set[str] = set()
            for block in blocks:
                if (
                    not isinstance(block, dict)
                    or not isinstance(block.get("uid"), str)
                    or not isinstance(block.get("schema"), list)
                ):
                    raise StackFolderError(
                        f'{shown}: each block of "{uid}" needs a "uid" and a "schema" list.'
                    )
                if block["uid"] in block_uids:
                    raise StackFolderError(
                        f'{shown}: block "{block["uid"]}" appears twice in "{uid}".'
                    )
                block_uids.add(block["uid"])
                _check_schema(block["schema"], shown, f"{uid}.{block['uid']}.schema")
