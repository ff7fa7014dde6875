"""Entry variants in a snapshot (``sitegen stack pull --variant NAME``).

The CDA lists no variant groups (that is the management API), and the Sync API delivers base
entries only, so the variants to keep are named on the command line (variant uids or
Personalize aliases). For each, every content type is read in every kept locale with the header
``x-cs-variant-uid: NAME``; an entry the variant applies to comes back with
``publish_details.variants`` naming it, and the top-level fields that differ from the base entry
already written become ``variants/<variant_uid>/<content_type>/<entry>.<locale>.json``.

The group files are rebuilt from what the answers tell: an alias
``cs_personalize_<experience>_<variant>`` gives the experience and variant short uids, so the
variants of one experience form the group ``experience_<experience>``, which keeps the alias
working in the snapshot; a variant without such an alias gets a group of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.errors import SitegenError
from sitegen.source.cda import PAGE_SIZE, CDAClient
from sitegen.stack.content_types import UID_RE
from sitegen.stack.folder import ENTRIES_DIR
from sitegen.stack.variants import HEADER, VARIANT_GROUPS_DIR, VARIANTS_DIR

JsonDict = dict[str, Any]
ALIAS_RE = re.compile(r"^cs_personalize_([A-Za-z0-9]+)_([A-Za-z0-9]+)$")
# Fields of a delivered entry that are not the entry's own content
NOT_FIELDS = ("created_at", "updated_at")


@dataclass
class _Seen:
    """What the answers told about one variant."""

    alias: str | None = None
    content_types: set[str] = field(default_factory=set)
    files: int = 0


EntryFields = Callable[[str, JsonDict], JsonDict]


async def pull_variants(
    client: CDAClient,
    root: Path,
    names: list[str],
    content_types: list[str],
    locales: list[str],
    entry_fields: EntryFields,
    write_json: Callable[[str, Any], None],
    warn: Callable[[str], None],
    advance: Callable[[], None] | None = None,
) -> int:
    """Write the variant files and groups of the named variants; returns the files written.

    ``entry_fields(ct, delivered)`` turns a delivered entry into an entry file's fields, as
    the base entries were written.
    """
    seen: dict[str, _Seen] = {}
    for name in names:
        touched = 0
        for ct in content_types:
            for locale in locales:
                touched += await _pull_one(
                    client, root, name, ct, locale, entry_fields, write_json, seen
                )
                if advance is not None:
                    advance()
        if not touched:
            warn(
                f'variant "{name}" changes no entry in the pulled locales, or the stack does not '
                "know it; it is left out"
            )
    _write_groups(seen, write_json)
    return sum(s.files for s in seen.values())


async def _pull_one(
    client: CDAClient,
    root: Path,
    name: str,
    ct: str,
    locale: str,
    entry_fields: EntryFields,
    write_json: Callable[[str, Any], None],
    seen: dict[str, _Seen],
) -> int:
    """The variant files of one variant, content type and locale."""
    written = 0
    skip = 0
    while True:
        body = await client.get(
            f"/content_types/{ct}/entries",
            [("locale", locale), ("include_count", "true"), ("skip", skip), ("limit", PAGE_SIZE)],
            headers={HEADER: name},
        )
        page = body.get("entries")
        if not isinstance(page, list):
            raise SitegenError(
                f"GET /v3/content_types/{ct}/entries ({HEADER}: {name}): the response has no "
                "list of 'entries'"
            )
        for entry in page:
            written += _write_variant_entry(entry, ct, locale, root, entry_fields, write_json, seen)
        skip += len(page)
        count = body.get("count")
        if not page or (isinstance(count, int) and skip >= count) or len(page) < PAGE_SIZE:
            return written


def _write_variant_entry(
    entry: Any,
    ct: str,
    locale: str,
    root: Path,
    entry_fields: EntryFields,
    write_json: Callable[[str, Any], None],
    seen: dict[str, _Seen],
) -> int:
    if not isinstance(entry, dict) or entry.get("locale", locale) != locale:
        return 0
    applied = (entry.get("publish_details") or {}).get("variants")
    uid = entry.get("uid")
    if not isinstance(applied, dict) or not applied or not isinstance(uid, str):
        return 0
    base_file = root / ENTRIES_DIR / ct / f"{uid}.{locale}.json"
    if not base_file.is_file():
        return 0  # the base entry is not in the snapshot (another locale, unpublished)
    base = json.loads(base_file.read_text(encoding="utf-8"))
    fields = entry_fields(ct, entry)
    changed = {
        key: value
        for key, value in fields.items()
        if key not in NOT_FIELDS and base.get(key) != value
    }
    written = 0
    for variant_uid, details in applied.items():
        if not isinstance(variant_uid, str) or not UID_RE.match(variant_uid):
            continue
        record = seen.setdefault(variant_uid, _Seen())
        alias = details.get("alias") if isinstance(details, dict) else None
        if isinstance(alias, str) and alias != variant_uid:
            record.alias = alias
        if not changed:
            continue
        if len(applied) > 1:
            raise SitegenError(
                f"entry {ct}/{uid} ({locale}) came back with several variants applied "
                f"({', '.join(sorted(applied))}) for one name; name one variant at a time"
            )
        record.content_types.add(ct)
        record.files += 1
        write_json(f"{VARIANTS_DIR}/{variant_uid}/{ct}/{uid}.{locale}.json", changed)
        written += 1
    return written


def _write_groups(seen: dict[str, _Seen], write_json: Callable[[str, Any], None]) -> None:
    """variant_groups/<uid>.json: one per Personalize experience, one per variant otherwise."""
    groups: dict[str, JsonDict] = {}
    for variant_uid, record in sorted(seen.items()):
        if not record.files:
            continue
        match = ALIAS_RE.match(record.alias or "")
        variant: JsonDict = {"uid": variant_uid, "name": variant_uid}
        if match:
            experience, short = match.groups()
            variant["personalize_metadata"] = {"variant_short_uid": short}
            group = groups.setdefault(
                f"experience_{experience}",
                {
                    "name": f"Personalize experience {experience}",
                    "content_types": [],
                    "personalize_metadata": {"experience_short_uid": experience},
                    "variants": [],
                },
            )
        else:
            group = groups.setdefault(
                variant_uid, {"name": variant_uid, "content_types": [], "variants": []}
            )
        group["variants"].append(variant)
        group["content_types"] = sorted(set(group["content_types"]) | record.content_types)
    for uid, group in groups.items():
        write_json(f"{VARIANT_GROUPS_DIR}/{uid}.json", group)
