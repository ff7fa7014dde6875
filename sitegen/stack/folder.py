"""Read and validate a local stack folder.

The folder is edited by hand (its format: docs/stack/entries/doc/local-stack-format.en-us.md),
so every problem is reported as a :class:`StackFolderError` that names the file and says what to change. Reading is split in two:
:func:`load_stack` reads the small files (stack.json, content types) eagerly, while entries and
assets are only listed (names and stat) and read on demand, so a stack with 50,000 entry files
can be rescanned with stat calls alone.

Draft files (``<entry_uid>.<locale>.draft.json``, an entry's working copy) are listed apart from
the files that make up published content (:attr:`Listing.drafts` and :attr:`Listing.draft_files`,
not :attr:`Listing.files`): the history, and so delivery and the Sync API, never sees them;
only preview requests read them (see drafts.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.content.timestamps import format_time, parse_time
from sitegen.errors import StackFolderError, shown_path
from sitegen.stack.branches import BRANCH_STACK_KEYS, BRANCHES_DIR, MAIN_BRANCH, parse_aliases
from sitegen.stack.content_types import UID_RE, parse_content_type
from sitegen.stack.jsonfile import keys_word, read_json, require_str
from sitegen.stack.markdown_entry import read_markdown_entry
from sitegen.stack.schema import as_list, is_json_rte, iter_leaves, walk_schema
from sitegen.stack.taxonomies import Taxonomy, check_tags, parse_taxonomy
from sitegen.stack.variants import (
    VARIANT_GROUPS_DIR,
    VARIANTS_DIR,
    Variant,
    parse_variant_group,
)

JsonDict = dict[str, Any]

STACK_FILE = "stack.json"
CONTENT_TYPES_DIR = "content_types"
GLOBAL_FIELDS_DIR = "global_fields"
ENTRIES_DIR = "entries"
TAXONOMIES_DIR = "taxonomies"
# the folders load_stack reads whole (definitions, not content): a change there reloads them
CONFIG_DIRS = (CONTENT_TYPES_DIR, GLOBAL_FIELDS_DIR, TAXONOMIES_DIR, VARIANT_GROUPS_DIR)
ASSETS_DIR = "assets"

LOCALE_RE = re.compile(r"^[A-Za-z0-9-]+$")
DRAFT_SUFFIX = ".draft.json"
# <uid>.<locale>.md: TOML front matter between "+++" lines holds the fields, the text after it
# the content type's one Markdown field (a text field with field_metadata.markdown, as
# Contentstack marks its Markdown fields). For sites whose authors write in Git (docs).
MARKDOWN_SUFFIX = ".md"
FRONT_MATTER_FENCE = "+++"

STACK_KEYS = frozenset(
    {
        "name",
        "api_key",
        "delivery_token",
        "preview_token",
        "environments",
        "locales",
        "branch_aliases",
    }
)
ASSET_KEYS = frozenset(
    {"title", "filename", "content_type", "description", "url", "tags", "file_size"}
)
# Keys Contentstack computes itself; an entry file that sets them is almost certainly a mistake.
SYSTEM_ENTRY_KEYS = frozenset({"publish_details", "created_by", "updated_by", "ACL"})


# What the cheap change check compares: (size, modification time in nanoseconds). A plain
# tuple, because a rescan builds 50,000 of them and compares whole dicts of them at C speed.
FileStat = tuple[int, int]


@dataclass(frozen=True)
class Locale:
    """A locale of the stack; the first one in stack.json is the master locale."""

    code: str
    name: str
    fallback_locale: str | None


@dataclass(frozen=True)
class EntryPath:
    """Where an entry file sits: its content type, uid and locale come from the path.

    `draft` marks a draft file (``<uid>.<locale>.draft.json``), the entry's working copy;
    `markdown` an entry written as ``<uid>.<locale>.md``.
    """

    content_type_uid: str
    uid: str
    locale: str
    draft: bool = False
    markdown: bool = False


@dataclass
class Listing:
    """Every file of the folder with its stat, grouped by what it describes.

    Draft files are kept out of `files` and `entries` (which the history records) and listed in
    `draft_files` and `drafts` instead.
    """

    files: dict[str, FileStat] = field(default_factory=dict)
    entries: dict[str, EntryPath] = field(default_factory=dict)
    draft_files: dict[str, FileStat] = field(default_factory=dict)
    drafts: dict[str, EntryPath] = field(default_factory=dict)
    assets: dict[str, list[str]] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    _asset_uids: frozenset[str] | None = field(default=None, repr=False)

    def entry_file(self, content_type_uid: str, uid: str, locale: str) -> str:
        """The path of an entry's file: ``.md`` where the author wrote one, else ``.json``."""
        stem = f"{ENTRIES_DIR}/{content_type_uid}/{uid}.{locale}"
        markdown = stem + MARKDOWN_SUFFIX
        return markdown if markdown in self.entries else stem + ".json"

    @property
    def asset_uids(self) -> frozenset[str]:
        """Uids of the assets that have a metadata file (computed once per listing)."""
        if self._asset_uids is None:
            self._asset_uids = frozenset(
                uid for uid, paths in self.assets.items() if f"{ASSETS_DIR}/{uid}.json" in paths
            )
        return self._asset_uids


@dataclass(frozen=True)
class EntryFile:
    """One entry in one locale as written in its file, system keys split off."""

    content_type_uid: str
    uid: str
    locale: str
    fields: JsonDict
    published: bool
    created_at: str | None
    updated_at: str | None
    asset_refs: frozenset[str]


@dataclass(frozen=True)
class AssetFile:
    """One asset's metadata; `local_file` is the path of its bytes inside the folder, if any."""

    uid: str
    title: str
    filename: str
    content_type: str
    description: str | None
    url: str | None
    tags: list[str]
    file_size: int | None
    local_file: str | None


@dataclass
class LocalStack:
    """A validated local stack folder: settings and content types in memory, content on disk."""

    root: Path
    name: str
    api_key: str | None
    delivery_token: str | None
    environments: list[str]
    locales: list[Locale]
    content_types: dict[str, JsonDict]
    # global_fields/<uid>.json: schemas content types reuse ("data_type": "global_field")
    global_fields: dict[str, JsonDict] = field(default_factory=dict)
    # taxonomies/<uid>.json: term trees entries are tagged with
    taxonomies: dict[str, Taxonomy] = field(default_factory=dict)
    # variant_groups/<uid>.json: the entry variants of Personalize, by variant uid
    variants: dict[str, Variant] = field(default_factory=dict)
    # Preview requests (header preview_token) must carry exactly this; None: any non-empty one.
    preview_token: str | None = field(default=None, repr=False)
    # The branch this folder is (branches.py), and in main, the aliases of stack.json
    branch: str = MAIN_BRANCH
    branch_aliases: dict[str, str] = field(default_factory=dict)
    config_stats: dict[str, FileStat] = field(default_factory=dict)
    _entry_paths: dict[tuple[str, str], EntryPath] = field(default_factory=dict, repr=False)

    @property
    def master_locale(self) -> str:
        """The first locale of stack.json, where unlocalized content lives."""
        return self.locales[0].code

    @property
    def locale_codes(self) -> list[str]:
        """Locale codes in stack.json order."""
        return [loc.code for loc in self.locales]

    def shown(self, relpath: str) -> str:
        """How a file is named in error messages: relative to the current folder when it is
        inside it, as every message names paths."""
        return shown_path(self.root / relpath)

    def locale(self, code: str) -> Locale | None:
        """The locale with that code, if the stack has it."""
        return next((loc for loc in self.locales if loc.code == code), None)

    def fallback_chain(self, code: str) -> list[str]:
        """The locale followed by its fallbacks in order, e.g. [fr-ca, fr-fr, en-us]."""
        chain: list[str] = []
        current: str | None = code
        while current is not None and current not in chain:
            chain.append(current)
            loc = self.locale(current)
            current = loc.fallback_locale if loc else None
        return chain

    # -- listing -------------------------------------------------------------------------

    def list_files(self) -> Listing:
        """Stat every file of the folder and check that names and places make sense."""
        listing = Listing()
        root = self.root
        stack_file = root / STACK_FILE
        if self.branch == MAIN_BRANCH or stack_file.exists():  # a branch's is optional
            listing.files[STACK_FILE] = _stat(stack_file)
        for name, stat in _scan_dir(root / CONTENT_TYPES_DIR):
            if stat is None or not name.endswith(".json"):
                continue
            rel = f"{CONTENT_TYPES_DIR}/{name}"
            listing.files[rel] = stat
            listing.content_types[name[: -len(".json")]] = rel
        self._list_entries(listing)
        self._list_assets(listing)
        self._check_variant_files(listing)
        return listing

    def _check_variant_files(self, listing: Listing) -> None:
        """Each ``variants/<variant>/<content type>/<entry>.<locale>.json`` changes an entry the
        folder has in that locale, of a variant a group declares (a stray file would silently
        change nothing)."""
        folder = self.root / VARIANTS_DIR
        for variant, stat in _scan_dir(folder):
            shown = f"{VARIANTS_DIR}/{variant}"
            if stat is not None:
                raise StackFolderError(
                    f"{self.shown(shown)}: {VARIANTS_DIR}/ holds one folder per variant uid; "
                    "move this file out."
                )
            if variant not in self.variants:
                raise StackFolderError(
                    f"{self.shown(shown)}: no file in {VARIANT_GROUPS_DIR}/ declares variant "
                    f'"{variant}"; add it to a group or rename the folder.'
                )
            for ct, _ in _scan_dir(folder / variant):
                for name, _ in _scan_dir(folder / variant / ct):
                    rel = f"{ENTRIES_DIR}/{ct}/{name}"
                    if rel not in listing.entries:
                        raise StackFolderError(
                            f"{self.shown(f'{shown}/{ct}/{name}')}: changes entry {rel}, which "
                            "the folder does not have; a variant changes an existing entry: add "
                            "the entry or remove this file."
                        )

    def _list_entries(self, listing: Listing) -> None:
        # The hot loop of every rescan (one stat per entry file), so it avoids per-file work:
        # names already checked on an earlier scan are looked up, not parsed again.
        entries_dir = self.root / ENTRIES_DIR
        codes = set(self.locale_codes)
        known = self._entry_paths
        files, entries = listing.files, listing.entries
        draft_files, drafts = listing.draft_files, listing.drafts
        for ct_name, ct_stat in _scan_dir(entries_dir):
            if ct_stat is not None:
                raise StackFolderError(
                    f"{self.shown(f'{ENTRIES_DIR}/{ct_name}')}: entry files belong in a folder "
                    f"named after their content type, e.g. {ENTRIES_DIR}/<content_type_uid>/"
                    "<entry_uid>.<locale>.json."
                )
            prefix = f"{ENTRIES_DIR}/{ct_name}/"
            new_names: list[str] = []
            count = 0
            with os.scandir(entries_dir / ct_name) as it:
                for item in it:
                    name = item.name
                    if name.startswith(".") or not item.is_file():
                        continue
                    st = item.stat()
                    rel = prefix + name
                    count += 1
                    where = known.get((ct_name, name))
                    if where is None:
                        new_names.append((name, (st.st_size, st.st_mtime_ns)))
                    elif where.draft:
                        draft_files[rel] = (st.st_size, st.st_mtime_ns)
                        drafts[rel] = where
                    else:
                        files[rel] = (st.st_size, st.st_mtime_ns)
                        entries[rel] = where
            if count and ct_name not in self.content_types:
                raise StackFolderError(
                    f"{self.shown(f'{ENTRIES_DIR}/{ct_name}')}: there is no content type "
                    f'"{ct_name}" ({CONTENT_TYPES_DIR}/{ct_name}.json is missing); add it or '
                    "rename the folder to an existing content type uid."
                )
            for name, stat in sorted(new_names):  # sorted: the same bad name is reported first
                rel = prefix + name
                where = self._entry_path(rel, ct_name, name, codes)
                known[(ct_name, name)] = where
                if where.draft:
                    draft_files[rel] = stat
                    drafts[rel] = where
                else:
                    files[rel] = stat
                    entries[rel] = where

    def _entry_path(self, rel: str, ct_name: str, name: str, codes: set[str]) -> EntryPath:
        draft = name.endswith(DRAFT_SUFFIX) and "." in name[: -len(DRAFT_SUFFIX)]
        markdown = name.endswith(MARKDOWN_SUFFIX)
        if draft:
            stem: str | None = name[: -len(DRAFT_SUFFIX)]
        elif markdown:
            stem = name[: -len(MARKDOWN_SUFFIX)]
        else:
            stem = name[: -len(".json")] if name.endswith(".json") else None
        if stem is None or "." not in stem:
            raise StackFolderError(
                f"{self.shown(rel)}: entry files are named <entry_uid>.<locale>.json "
                f"(or .md, drafts <entry_uid>.<locale>.draft.json), e.g. my_entry."
                f"{self.master_locale}.json; rename the file."
            )
        twin = stem + (".json" if markdown else MARKDOWN_SUFFIX)
        if not draft and (self.root / ENTRIES_DIR / ct_name / twin).is_file():
            raise StackFolderError(
                f"{self.shown(rel)}: the same entry is also written as {twin}; keep one of the "
                "two files."
            )
        uid, locale = stem.rsplit(".", 1)
        if not UID_RE.match(uid):
            raise StackFolderError(
                f'{self.shown(rel)}: entry uid "{uid}" may only use letters, digits, "_" and "-"; '
                "rename the file."
            )
        if locale not in codes:
            raise StackFolderError(
                f'{self.shown(rel)}: locale "{locale}" is not in {STACK_FILE} '
                f"(known: {', '.join(sorted(codes))}); add it there or rename the file."
            )
        return EntryPath(ct_name, uid, locale, draft, markdown)

    def _list_assets(self, listing: Listing) -> None:
        assets_dir = self.root / ASSETS_DIR
        for name, stat in _scan_dir(assets_dir):
            if stat is not None:
                if not name.endswith(".json"):
                    raise StackFolderError(
                        f"{self.shown(f'{ASSETS_DIR}/{name}')}: asset files go in "
                        f"{ASSETS_DIR}/<asset_uid>/<filename> next to {ASSETS_DIR}/<asset_uid>.json; "
                        "move the file."
                    )
                uid = name[: -len(".json")]
                self._check_asset_uid(uid, f"{ASSETS_DIR}/{name}")
                rel = f"{ASSETS_DIR}/{name}"
                listing.files[rel] = stat
                listing.assets.setdefault(uid, []).insert(0, rel)
                continue
            self._check_asset_uid(name, f"{ASSETS_DIR}/{name}")
            for file_name, file_stat in _scan_dir(assets_dir / name):
                if file_stat is None:
                    raise StackFolderError(
                        f"{self.shown(f'{ASSETS_DIR}/{name}/{file_name}')}: an asset folder holds "
                        "just the asset's file, not sub-folders; move it out."
                    )
                rel = f"{ASSETS_DIR}/{name}/{file_name}"
                listing.files[rel] = file_stat
                listing.assets.setdefault(name, []).append(rel)
        for uid, paths in listing.assets.items():
            if f"{ASSETS_DIR}/{uid}.json" not in paths:
                raise StackFolderError(
                    f"{self.shown(f'{ASSETS_DIR}/{uid}')}: asset folder without "
                    f"{ASSETS_DIR}/{uid}.json; add the metadata file or remove the folder."
                )

    def _check_asset_uid(self, uid: str, rel: str) -> None:
        if not UID_RE.match(uid):
            raise StackFolderError(
                f'{self.shown(rel)}: asset uid "{uid}" may only use letters, digits, "_" and "-"; '
                "rename it."
            )

    # -- reading content -------------------------------------------------------------------

    def read_entry(self, rel: str, where: EntryPath, asset_uids: Collection[str]) -> EntryFile:
        """Read and validate one entry (or draft) file; `asset_uids` are the assets file fields
        may name."""
        shown = self.shown(rel)
        if where.markdown:
            schema = self.content_types[where.content_type_uid]["schema"]
            data: Any = read_markdown_entry(self.root / rel, shown, schema)
        else:
            data = read_json(self.root / rel, shown)
        if not isinstance(data, dict):
            raise StackFolderError(
                f"{shown}: an entry file must hold a JSON object of field values."
            )
        fields: JsonDict = {}
        published = True
        pins: dict[str, str | None] = {"created_at": None, "updated_at": None}
        for key, value in data.items():
            if key == "_published":
                if not isinstance(value, bool):
                    raise StackFolderError(f'{shown}: "_published" must be true or false.')
                published = value
            elif key.startswith("_"):
                raise StackFolderError(
                    f'{shown}: unknown key "{key}"; keys starting with "_" are reserved '
                    '(only "_published" is allowed). Remove it.'
                )
            elif key in pins:
                moment = parse_time(value)
                if moment is None:
                    raise StackFolderError(
                        f'{shown}: "{key}" must be an ISO 8601 date-time such as '
                        '"2024-05-01T12:00:00.000Z", or be left out.'
                    )
                pins[key] = format_time(moment)
            elif key in ("uid", "locale"):
                expected = where.uid if key == "uid" else where.locale
                if value != expected:
                    raise StackFolderError(
                        f'{shown}: "{key}" is "{value}" but the file name says "{expected}"; '
                        "the file name decides, so remove the key."
                    )
            elif key in SYSTEM_ENTRY_KEYS:
                raise StackFolderError(
                    f'{shown}: "{key}" is set by the stack, not by entry files; remove it.'
                )
            else:
                fields[key] = value
        schema = self.content_types[where.content_type_uid]["schema"]
        refs = self._check_entry_fields(shown, schema, fields, asset_uids)
        return EntryFile(
            where.content_type_uid,
            where.uid,
            where.locale,
            fields,
            published,
            pins["created_at"],
            pins["updated_at"],
            frozenset(refs),
        )

    def _check_entry_fields(
        self, shown: str, schema: list[JsonDict], fields: JsonDict, asset_uids: Collection[str]
    ) -> set[str]:
        refs: set[str] = set()
        for fdef, value, path in iter_leaves(schema, fields):
            if value is None:
                continue
            data_type = fdef.get("data_type")
            if data_type == "file":
                for uid in as_list(value):
                    if not isinstance(uid, str):
                        raise StackFolderError(
                            f'{shown}: file field "{path}" must hold an asset uid string '
                            "(or a list of them)."
                        )
                    if uid not in asset_uids:
                        raise StackFolderError(
                            f'{shown}: file field "{path}" points at asset "{uid}", but '
                            f"{ASSETS_DIR}/{uid}.json does not exist; add the asset or fix the uid."
                        )
                    refs.add(uid)
            elif data_type == "reference":
                self._check_reference(shown, fdef, value, path)
            elif data_type == "taxonomy":
                check_tags(self.taxonomies, fdef, value, shown, path)
            elif is_json_rte(fdef):
                for doc in as_list(value):
                    if not isinstance(doc, dict) or doc.get("type") != "doc":
                        raise StackFolderError(
                            f'{shown}: JSON RTE field "{path}" must hold a document '
                            '{"type": "doc", "attrs": {}, "children": [...]}.'
                        )
        return refs

    def _check_reference(self, shown: str, fdef: JsonDict, value: Any, path: str) -> None:
        allowed = as_list(fdef.get("reference_to"))
        if not isinstance(value, list):
            raise StackFolderError(
                f'{shown}: reference field "{path}" must be a list like '
                '[{"uid": "...", "_content_type_uid": "..."}].'
            )
        for ref in value:
            ok = (
                isinstance(ref, dict)
                and isinstance(ref.get("uid"), str)
                and isinstance(ref.get("_content_type_uid"), str)
            )
            if not ok:
                raise StackFolderError(
                    f'{shown}: reference field "{path}" items must look like '
                    '{"uid": "...", "_content_type_uid": "..."}.'
                )
            if ref["_content_type_uid"] not in allowed:
                raise StackFolderError(
                    f'{shown}: reference field "{path}" may point at {", ".join(allowed)}, '
                    f'not "{ref["_content_type_uid"]}"; fix the _content_type_uid.'
                )

    def read_asset(self, uid: str, listing: Listing) -> AssetFile:
        """Read and validate one asset's metadata and check its file is there."""
        rel = f"{ASSETS_DIR}/{uid}.json"
        shown = self.shown(rel)
        data = read_json(self.root / rel, shown)
        if not isinstance(data, dict):
            raise StackFolderError(f"{shown}: an asset file must hold a JSON object.")
        unknown = sorted(set(data) - ASSET_KEYS)
        if unknown:
            raise StackFolderError(
                f"{shown}: unknown {keys_word(unknown)} {', '.join(unknown)}; an asset file may have "
                f"{', '.join(sorted(ASSET_KEYS))}."
            )
        title = require_str(data, "title", shown)
        filename = require_str(data, "filename", shown)
        content_type = require_str(data, "content_type", shown)
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise StackFolderError(f'{shown}: "description" must be a string.')
        url = require_str(data, "url", shown, optional=True)
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise StackFolderError(f'{shown}: "tags" must be a list of strings.')
        file_size = data.get("file_size")
        if file_size is not None and (not isinstance(file_size, int) or file_size < 0):
            raise StackFolderError(f'{shown}: "file_size" must be a whole number of bytes.')
        assert filename is not None
        if "/" in filename or "\\" in filename or filename in (".", ".."):
            raise StackFolderError(f'{shown}: "filename" must be a plain file name, not a path.')
        local = f"{ASSETS_DIR}/{uid}/{filename}"
        others = [p for p in listing.assets.get(uid, []) if p not in (rel, local)]
        if others:
            raise StackFolderError(
                f"{self.shown(others[0])}: does not match the asset's filename "
                f'"{filename}" in {rel}; rename one of them or remove the extra file.'
            )
        if local in listing.files:
            size = listing.files[local][0]
            return AssetFile(
                uid,
                title or "",
                filename,
                content_type or "",
                description,
                url,
                tags,
                file_size if file_size is not None else size,
                local,
            )
        if url is None:
            raise StackFolderError(
                f"{shown}: the asset's file {local} is missing; put the file there "
                'or give the asset a "url".'
            )
        return AssetFile(
            uid, title or "", filename, content_type or "", description, url, tags, file_size, None
        )

    def validate_all(self) -> Listing:
        """Read every entry, draft and asset once, raising the first problem found."""
        listing = self.list_files()
        asset_uids = listing.asset_uids
        for uid in sorted(asset_uids):
            self.read_asset(uid, listing)
        for rel, where in sorted({**listing.entries, **listing.drafts}.items()):
            self.read_entry(rel, where, asset_uids)
        return listing


def _stat(path: Path) -> FileStat:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise StackFolderError(f"{path}: missing; a stack folder needs a {STACK_FILE}.") from None
    return (st.st_size, st.st_mtime_ns)


def _scan_dir(path: Path) -> Iterable[tuple[str, FileStat | None]]:
    """(name, stat) for files and (name, None) for folders; hidden names and a missing dir skipped."""
    try:
        with os.scandir(path) as it:
            found = []
            for item in it:
                if item.name.startswith("."):
                    continue
                if item.is_dir():
                    found.append((item.name, None))
                elif item.is_file():
                    st = item.stat()
                    found.append((item.name, (st.st_size, st.st_mtime_ns)))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise StackFolderError(f"{path}: should be a folder.") from None
    return sorted(found)


def load_stack(path: Path | str, *, main: LocalStack | None = None) -> LocalStack:
    """Read stack.json and the content types of a local stack folder and validate them.

    With ``main``, the folder is a branch of that stack (branches/<uid>/): it shares main's
    credentials and environments, and its own stack.json is optional.
    """
    root = Path(path)
    if not root.is_dir():
        raise StackFolderError(f"{root}: is not a folder; point sitegen at a local stack folder.")
    stack = _stack_settings(root) if main is None else _branch_settings(root, main)
    config_stats = stack.config_stats
    for folder, kind, found in (
        (GLOBAL_FIELDS_DIR, "global field", stack.global_fields),
        (CONTENT_TYPES_DIR, "content type", stack.content_types),
    ):
        for path, uid in _definition_files(root, folder, kind, config_stats):
            parsed = parse_content_type(path, uid, kind)
            found[parsed["uid"]] = parsed
    for path, uid in _definition_files(root, TAXONOMIES_DIR, "taxonomy", config_stats):
        stack.taxonomies[uid] = parse_taxonomy(path, uid, stack.locale_codes)
    for gf_uid, gf in stack.global_fields.items():
        gf["schema"] = _inline_global_fields(
            stack, gf["schema"], f"{GLOBAL_FIELDS_DIR}/{gf_uid}.json", [gf_uid]
        )
    for ct_uid, ct in stack.content_types.items():
        ct["schema"] = _inline_global_fields(
            stack, ct["schema"], f"{CONTENT_TYPES_DIR}/{ct_uid}.json", []
        )
    _check_reference_targets(stack)
    for path, group in _definition_files(root, VARIANT_GROUPS_DIR, "group", config_stats):
        for variant in parse_variant_group(path, group, set(stack.content_types)):
            if variant.uid in stack.variants:
                raise StackFolderError(
                    f'{path}: variant "{variant.uid}" is also in group '
                    f'"{stack.variants[variant.uid].group}"; variant uids are unique in a stack.'
                )
            stack.variants[variant.uid] = variant
    return stack


def _stack_settings(root: Path) -> LocalStack:
    """The settings of a stack's main folder, from its stack.json (required)."""
    shown = str(root / STACK_FILE)
    config_stats: dict[str, FileStat] = {STACK_FILE: _stat(root / STACK_FILE)}
    data = _stack_json(root, STACK_KEYS)
    name = require_str(data, "name", shown)
    environments = _parse_environments(data.get("environments"), shown)
    return LocalStack(
        root=root,
        name=name or "",
        api_key=require_str(data, "api_key", shown, optional=True),
        delivery_token=require_str(data, "delivery_token", shown, optional=True),
        preview_token=require_str(data, "preview_token", shown, optional=True),
        environments=environments,
        locales=_parse_locales(data.get("locales"), shown),
        content_types={},
        config_stats=config_stats,
        branch_aliases=parse_aliases(data.get("branch_aliases"), root, shown),
    )


def _branch_settings(root: Path, main: LocalStack) -> LocalStack:
    """The settings of a branch folder: main's, with the branch's own locales if it names them."""
    shown = str(root / STACK_FILE)
    config_stats: dict[str, FileStat] = {}
    data: JsonDict = {}
    if (root / BRANCHES_DIR).exists():
        raise StackFolderError(
            f"{root / BRANCHES_DIR}: branches do not nest; every branch is a folder of the "
            f"main folder's {BRANCHES_DIR}/."
        )
    if (root / STACK_FILE).is_file():
        config_stats[STACK_FILE] = _stat(root / STACK_FILE)
        data = _stack_json(root, BRANCH_STACK_KEYS, branch=True)
    if "environments" in data:
        extra = set(_parse_environments(data["environments"], shown)) - set(main.environments)
        if extra:
            raise StackFolderError(
                f"{shown}: environment(s) {', '.join(sorted(extra))} are not in the stack's "
                f"{main.shown(STACK_FILE)}; branches share the stack's environments."
            )
    locales = _parse_locales(data["locales"], shown) if "locales" in data else main.locales
    return LocalStack(
        root=root,
        name=main.name,  # uids derived from the name (users, environments) are the stack's
        api_key=main.api_key,
        delivery_token=main.delivery_token,
        preview_token=main.preview_token,
        environments=main.environments,
        locales=locales,
        content_types={},
        config_stats=config_stats,
        branch=root.name,
    )


def _stack_json(root: Path, allowed: frozenset[str], *, branch: bool = False) -> JsonDict:
    """stack.json as an object whose keys are all ``allowed``."""
    shown = str(root / STACK_FILE)
    data = read_json(root / STACK_FILE, shown)
    if not isinstance(data, dict):
        raise StackFolderError(f"{shown}: must hold a JSON object.")
    unknown = sorted(set(data) - allowed)
    if unknown:
        why = (
            " (a branch shares the stack's credentials, environments and aliases: set them in "
            "the main folder's stack.json)"
            if branch
            else ""
        )
        raise StackFolderError(
            f"{shown}: unknown {keys_word(unknown)} {', '.join(unknown)}; allowed: "
            f"{', '.join(sorted(allowed))}{why}."
        )
    return data


def _parse_environments(value: Any, shown: str) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(e, str) and UID_RE.match(e) for e in value)
    ):
        raise StackFolderError(
            f'{shown}: "environments" must be a non-empty list of names such as ["production"].'
        )
    return list(value)


def _definition_files(
    root: Path, folder: str, kind: str, config_stats: dict[str, FileStat]
) -> Iterator[tuple[Path, str]]:
    """(path, uid) of each ``<uid>.json`` in one of the definition folders, recorded in
    ``config_stats`` (their changes reload the stack); anything else there is an error."""
    for file_name, stat in _scan_dir(root / folder):
        rel = f"{folder}/{file_name}"
        if stat is None or not file_name.endswith(".json"):
            raise StackFolderError(
                f"{root / rel}: {folder}/ holds only <{kind.replace(' ', '_')}_uid>.json files; "
                "move this out."
            )
        config_stats[rel] = stat
        yield root / rel, file_name[: -len(".json")]


def _inline_global_fields(
    stack: LocalStack, schema: list[JsonDict], rel: str, using: list[str]
) -> list[JsonDict]:
    """The schema with each global field that names one by ``reference_to`` given its schema.

    Contentstack's content type answers carry the global field's schema inside the field, so
    the rest of the stack (validation, includes, delivery) walks one nested schema.
    """
    out: list[JsonDict] = []
    for fdef in schema:
        data_type = fdef.get("data_type")
        if data_type == "global_field" and "schema" not in fdef:
            target = fdef["reference_to"]
            found = stack.global_fields.get(target)
            if found is None:
                raise StackFolderError(
                    f'{stack.shown(rel)}: global field "{fdef["uid"]}" refers to "{target}", '
                    f"which has no {GLOBAL_FIELDS_DIR}/{target}.json; add it or fix reference_to."
                )
            if target in using:
                chain = " -> ".join([*using, target])
                raise StackFolderError(
                    f"{stack.shown(rel)}: global fields include each other in a loop ({chain})."
                )
            inner = _inline_global_fields(stack, found["schema"], rel, [*using, target])
            fdef = {**fdef, "schema": inner}
        elif data_type in ("group", "global_field") and isinstance(fdef.get("schema"), list):
            fdef = {**fdef, "schema": _inline_global_fields(stack, fdef["schema"], rel, using)}
        elif data_type == "blocks":
            blocks = [
                {**b, "schema": _inline_global_fields(stack, b["schema"], rel, using)}
                for b in fdef.get("blocks") or []
            ]
            fdef = {**fdef, "blocks": blocks}
        out.append(fdef)
    return out


def _parse_locales(value: Any, shown: str) -> list[Locale]:
    if not isinstance(value, list) or not value:
        raise StackFolderError(
            f'{shown}: "locales" must be a non-empty list like '
            '[{"code": "en-us", "name": "English"}]; the first one is the master locale.'
        )
    locales: list[Locale] = []
    for item in value:
        if not isinstance(item, dict):
            raise StackFolderError(
                f'{shown}: each locale must be an object with "code" and "name".'
            )
        extra = sorted(set(item) - {"code", "name", "fallback_locale"})
        if extra:
            raise StackFolderError(
                f"{shown}: unknown locale {keys_word(extra)} {', '.join(extra)}; a locale has "
                "code, name and fallback_locale."
            )
        code = require_str(item, "code", shown)
        assert code is not None
        if not LOCALE_RE.match(code):
            raise StackFolderError(
                f'{shown}: locale code "{code}" may only use letters, digits and "-".'
            )
        name = require_str(item, "name", shown)
        fallback = require_str(item, "fallback_locale", shown, optional=True)
        if any(loc.code == code for loc in locales):
            raise StackFolderError(f'{shown}: locale "{code}" is listed twice.')
        locales.append(Locale(code, name or "", fallback))
    codes = {loc.code for loc in locales}
    master = locales[0]
    if master.fallback_locale is not None:
        raise StackFolderError(
            f'{shown}: the master locale "{master.code}" (the first one) cannot have a '
            "fallback_locale; remove it."
        )
    resolved = [master]
    for loc in locales[1:]:
        fallback = loc.fallback_locale or master.code
        if fallback not in codes:
            raise StackFolderError(
                f'{shown}: locale "{loc.code}" falls back to "{fallback}", which is not a locale '
                "of the stack; fix fallback_locale."
            )
        resolved.append(Locale(loc.code, loc.name, fallback))
    by_code = {loc.code: loc for loc in resolved}
    for loc in resolved:
        seen = [loc.code]
        current = loc.fallback_locale
        while current is not None:
            if current in seen:
                cycle = " -> ".join([*seen, current])
                raise StackFolderError(
                    f"{shown}: fallback locales form a cycle ({cycle}); every chain must end at "
                    f'the master locale "{master.code}".'
                )
            seen.append(current)
            current = by_code[current].fallback_locale
    return resolved


def _check_reference_targets(stack: LocalStack) -> None:
    for ct_uid, ct in stack.content_types.items():
        for fdef, path in walk_schema(ct["schema"]):
            if fdef.get("data_type") != "reference":
                continue
            for target in as_list(fdef.get("reference_to")):
                if target not in stack.content_types:
                    raise StackFolderError(
                        f"{stack.shown(f'{CONTENT_TYPES_DIR}/{ct_uid}.json')}: reference field "
                        f'"{path}" refers to content type "{target}", which has no '
                        f"{CONTENT_TYPES_DIR}/{target}.json; add it or fix reference_to."
                    )
