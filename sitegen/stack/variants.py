"""Entry variants (Contentstack Personalize): variant groups, and entries as a variant shows them.

In the folder:

- ``variant_groups/<group_uid>.json``: ``{"name", "content_types": [...], "personalize_metadata":
  {"experience_short_uid"}?, "variants": [{"uid", "name", "personalize_metadata":
  {"variant_short_uid"}?}]}``, the shape of a variant group in Contentstack's management API.
  A variant with both short uids also answers to its Personalize alias
  ``cs_personalize_<experience_short_uid>_<variant_short_uid>``, the value Personalize's
  edge SDK hands to a site.
- ``variants/<variant_uid>/<content_type_uid>/<entry_uid>.<locale>.json``: the fields the variant
  changes in that entry and locale (whole top-level fields, as Contentstack's change sets list
  them); the rest comes from the base entry.

A delivery request with the header ``x-cs-variant-uid: a,b,c`` (variant uids or aliases) gets
each entry with the variants it has applied in order, so the last one named wins where two
change the same field (the CDA reference, "Entry Variants"; newer Contentstack pages say the
first wins, and the local reference is what this follows). Three are applied at most: more are
dropped, as the CDA drops them; a name the stack does not know changes nothing. An entry a
variant changed carries ``publish_details.variants``: per variant uid its ``alias``,
``version`` and publish details, the shape @contentstack/utils' ``getVariantAliases`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.errors import StackFolderError
from sitegen.stack.content_types import UID_RE
from sitegen.stack.jsonfile import read_json

JsonDict = dict[str, Any]

VARIANT_GROUPS_DIR = "variant_groups"
VARIANTS_DIR = "variants"
HEADER = "x-cs-variant-uid"
MAX_VARIANTS = 3


@dataclass(frozen=True)
class Variant:
    uid: str
    name: str
    group: str
    alias: str | None
    content_types: tuple[str, ...]


def parse_variant_group(path: Path, uid: str, content_types: set[str]) -> list[Variant]:
    """The variants of one group file, checked; errors name the file and the variant."""
    shown = str(path)
    data = read_json(path, shown)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise StackFolderError(f'{shown}: a variant group is an object with a "name".')
    if not UID_RE.match(uid):
        raise StackFolderError(
            f'{shown}: variant group uid "{uid}" may only use letters, digits, "_", "-".'
        )
    types = data.get("content_types", [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise StackFolderError(f'{shown}: "content_types" must be a list of content type uids.')
    for ct in types:
        if ct not in content_types:
            raise StackFolderError(
                f'{shown}: content type "{ct}" has no content_types/{ct}.json; add it or remove it.'
            )
    experience = (data.get("personalize_metadata") or {}).get("experience_short_uid")
    variants = data.get("variants")
    if not isinstance(variants, list) or not variants:
        raise StackFolderError(f'{shown}: "variants" must list the group\'s variants.')
    found = []
    for item in variants:
        if not isinstance(item, dict) or not isinstance(item.get("uid"), str):
            raise StackFolderError(f'{shown}: each variant needs a "uid" and a "name".')
        vuid = item["uid"]
        if not UID_RE.match(vuid) or not isinstance(item.get("name"), str):
            raise StackFolderError(
                f'{shown}: variant "{vuid}" needs a uid of letters, digits, "_", "-" and a "name".'
            )
        short = (item.get("personalize_metadata") or {}).get("variant_short_uid")
        alias = f"cs_personalize_{experience}_{short}" if experience and short else None
        found.append(Variant(vuid, item["name"], uid, alias, tuple(types)))
    return found


def requested(header: str | None, variants: dict[str, Variant]) -> list[Variant]:
    """The known variants among the first three a request names, in order."""
    if not header:
        return []
    names = [n.strip() for n in header.split(",") if n.strip()][:MAX_VARIANTS]
    by_alias = {v.alias: v for v in variants.values() if v.alias}
    found = [variants.get(name) or by_alias.get(name) for name in names]
    return [v for v in found if v is not None]


def variant_file(root: Path, variant: str, ct: str, uid: str, locale: str) -> Path:
    return root / VARIANTS_DIR / variant / ct / f"{uid}.{locale}.json"


def read_changes(
    root: Path, variant: Variant, ct: str, uid: str, locale: str, schema: list[JsonDict]
) -> JsonDict | None:
    """The fields a variant changes in an entry (None when it changes nothing there)."""
    path = variant_file(root, variant.uid, ct, uid, locale)
    if not path.is_file():
        return None
    shown = str(path)
    data = read_json(path, shown)
    if not isinstance(data, dict):
        raise StackFolderError(f"{shown}: a variant file holds an object of the fields it changes.")
    known = {f.get("uid") for f in schema}
    for key in data:
        if key not in known:
            raise StackFolderError(
                f'{shown}: "{key}" is not a field of content type "{ct}"; a variant changes '
                "the entry's own fields."
            )
    return data


def apply(
    entry: JsonDict,
    changes: list[tuple[Variant, JsonDict]],
    publish: JsonDict,
) -> JsonDict:
    """The entry with each variant's changes applied in order (the last wins)."""
    if not changes:
        return entry
    out = dict(entry)
    for _, fields in changes:
        out.update(fields)
    details = dict(out.get("publish_details") or {})
    details["variants"] = {
        variant.uid: {**publish, "alias": variant.alias or variant.uid, "version": 1}
        for variant, _ in changes
    }
    out["publish_details"] = details
    return out
