"""Live Preview edit tags: the ``data-cslp`` value of a field, as @contentstack/utils makes it.

Visual Builder and Live Preview find the field an element shows by its ``data-cslp``
attribute, ``<content type>.<entry uid>.<locale>.<field path>``. @contentstack/utils 1.9.1
(``addEditableTags``, ``dist/lib/entry-editable.js``) writes them into an entry's ``$`` maps;
this module computes the same values for one path:

- a field of the entry: ``blog_post.blt1.en-us.title``; inside a group or global field the
  path goes on: ``….seo.meta_description``; a list element adds its index: ``….tags.1``,
  modular blocks ``….sections.0.hero.heading``;
- inside a referenced entry (an element with ``uid`` and ``_content_type_uid``) the tag starts
  again from that entry: ``author.blt9.en-us.title`` (its own ``locale`` if it has one);
- the content type and the locale are lower-cased, as the library does by default.

Variant-aware tags (``v2:`` values for entries with applied variants) are not made: delivered
entries carry no ``_applied_variants``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def cslp(entry: Mapping[str, Any], content_type: str, locale: str, path: str) -> str:
    """The ``data-cslp`` value for the field at ``path`` (dotted; list indexes as numbers).

    Raises KeyError naming the part of ``path`` the entry does not have."""
    prefix = f"{content_type.lower()}.{entry.get('uid')}.{locale.lower()}"
    parts = [p for p in path.split(".") if p != ""]
    if not parts:
        raise KeyError("an empty field path")
    value: Any = entry
    done: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                raise KeyError(f"{'.'.join(done) or 'the list'} has no element {part!r}")
            item = value[int(part)]
            done.append(part)
            if (
                isinstance(item, Mapping)
                and item.get("_content_type_uid") is not None
                and item.get("uid") is not None
                and i + 1 < len(parts)
            ):
                # a referenced entry: its fields are tagged as its own
                ref_locale = item.get("locale") or locale
                prefix = f"{item['_content_type_uid']}.{item['uid']}.{ref_locale}"
                value, i, done = item, i + 1, []
                continue
            value = item
        elif isinstance(value, Mapping):
            if part not in value:
                where = ".".join(done) or "the entry"
                raise KeyError(f"{where} has no field {part!r}")
            value = value[part]
            done.append(part)
        else:
            raise KeyError(f"{'.'.join(done)} is not a group, list or reference")
        i += 1
    return f"{prefix}.{'.'.join(done)}"


def add_editable_tags(entry: dict[str, Any], content_type: str, locale: str) -> None:
    """``addEditableTags(entry, content_type, true, locale)``: the ``$`` maps of the library,
    written into ``entry`` (tests compare them with the library's own)."""
    prefix = f"{content_type.lower()}.{entry['uid']}.{locale.lower()}"
    entry["$"] = _tags(entry, prefix, locale)


def _tags(content: Mapping[str, Any], prefix: str, locale: str) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for key, value in list(content.items()):
        if key == "$":
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is None:
                    continue
                tags[f"{key}__{index}"] = {"data-cslp": f"{prefix}.{key}.{index}"}
                tags[f"{key}__parent"] = {"data-cslp-parent-field": f"{prefix}.{key}"}
                if isinstance(item, dict) and "_content_type_uid" in item and "uid" in item:
                    own = (
                        f"{item['_content_type_uid']}.{item['uid']}.{item.get('locale') or locale}"
                    )
                    item["$"] = _tags(item, own, locale)
                elif isinstance(item, dict):
                    item["$"] = _tags(item, f"{prefix}.{key}.{index}", locale)
        elif isinstance(value, dict):
            value["$"] = _tags(value, f"{prefix}.{key}", locale)
        tags[key] = {"data-cslp": f"{prefix}.{key}"}
    return tags
