"""Embedded entries and assets: finding them, what the embed hook sees, and their default HTML.

Shared by the JSON-RTE and HTML-RTE renderers: both look items up in :class:`EmbeddedItems`,
hand the embed hook an :class:`EmbedContext` (with attributes made safe for a template by
:func:`_safe_embed_attrs`), and fall back to the reference library's default HTML for a found
item (:func:`_render_item`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.content.rte.escape import _safe_fragment, _sanitize_value, _sanitized_url
from sitegen.content.rte.jsformat import (
    _UNDEF,
    _get,
    _is_mapping,
    _js_keys,
    _or,
    _style_text,
    _truthy,
)
from sitegen.content.sanitize import BLOCKED_URL, escape_attr, safe_style, safe_url


@dataclass(frozen=True, slots=True)
class EmbedContext:
    """What the embed hook knows about one embedded entry or asset.

    ``item`` is the embedded item from ``_embedded_items`` (None when it is not there);
    ``kind`` is "entry" or "asset"; ``display_type`` the node's display type ("block",
    "inline", "link", "display", "download", or whatever the content says); ``attrs`` the JSON
    node's ``attrs`` or the HTML element's attributes; ``text`` the rendered children (JSON) or
    the element's inner HTML (HTML-RTE).
    """

    item: dict | None
    kind: str
    display_type: str | None
    attrs: Mapping[str, Any]
    text: str


EmbedRenderer = Callable[[dict, EmbedContext], str | None]
"""Hook called with (item, context) for every embedded object; None means "use the default".

The first argument is the item, or an empty dict when it was not found (``context.item`` is
then None)."""


class EmbeddedItems:
    """Index of an entry's `_embedded_items` (all field paths merged) by (content type uid, uid)
    and, for assets, by uid.

    Like the reference, which concatenates every path's list and takes the first match, the
    first item wins when a uid appears twice. Asset lookup matches any item with that uid (the
    reference does not check that it is an asset). Items in the GraphQL shape
    (``system.uid`` / ``system.content_type_uid``) are indexed too.
    """

    __slots__ = ("_by_key", "_by_uid")

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._by_key: dict[tuple[Any, Any], dict] = {}
        self._by_uid: dict[Any, dict] = {}
        for item in items:
            if _is_mapping(item):
                self._add(item)

    def _add(self, item: Mapping) -> None:
        """Index one item under its own uid and under its GraphQL ``system`` uid, if any."""
        system = item.get("system")
        for uid, ctype in (
            (item.get("uid"), item.get("_content_type_uid")),
            (system.get("uid"), system.get("content_type_uid"))
            if _is_mapping(system)
            else (None, None),
        ):
            if _truthy(uid) and isinstance(uid, (str, int, float)):
                self._by_uid.setdefault(uid, item)
                if ctype is None or isinstance(ctype, (str, int, float)):
                    self._by_key.setdefault((uid, ctype), item)

    @classmethod
    def from_entry(cls, entry: Mapping | None) -> EmbeddedItems:
        """Index ``entry["_embedded_items"]``, every field path in JavaScript key order."""
        if not _is_mapping(entry):
            return cls()
        embedded = entry.get("_embedded_items")
        if _is_mapping(embedded):
            groups = [embedded[key] for key in _js_keys(embedded)]
        elif isinstance(embedded, list):
            groups = embedded
        else:
            return cls()
        items: list[Any] = []
        for group in groups:
            if isinstance(group, list):
                items.extend(group)
            else:
                items.append(group)
        return cls(items)

    def __len__(self) -> int:
        return len(self._by_uid)

    def find_entry(self, uid: str, content_type_uid: str | None) -> dict | None:
        """The first embedded item with this uid and content type uid."""
        if not _truthy(uid) or not isinstance(uid, (str, int, float)):
            return None
        if content_type_uid is not None and not isinstance(content_type_uid, (str, int, float)):
            return None
        return self._by_key.get((uid, content_type_uid))

    def find_asset(self, uid: str) -> dict | None:
        """The first embedded item with this uid."""
        if not _truthy(uid) or not isinstance(uid, (str, int, float)):
            return None
        return self._by_uid.get(uid)

    def find(self, kind: Any, uid: Any, content_type_uid: Any) -> dict | None:
        """The reference's lookup: by uid and content type for "entry", by uid otherwise."""
        if kind == "entry":
            return self.find_entry(uid, None if content_type_uid is _UNDEF else content_type_uid)
        return self.find_asset(uid)


# --------------------------------------------------------------------------------------------
# Default rendering of a found embedded item (the reference's defaultOptions)
# --------------------------------------------------------------------------------------------


def _system(item: Mapping, key: str) -> Any:
    """``item.system ? item.system[key] : ''``."""
    system = item.get("system", _UNDEF)
    if not _truthy(system):
        return ""
    return system.get(key, _UNDEF) if _is_mapping(system) else _UNDEF


def _item_block(item: Mapping, text: Any, attrs: Mapping) -> str:
    """Block entry: title and content type uid."""
    title = _safe_fragment(_sanitize_value(_or(_get(item, "title"), _get(item, "uid"))))
    ctype = _safe_fragment(
        _sanitize_value(_or(_get(item, "_content_type_uid"), _system(item, "content_type_uid")))
    )
    return f"<div><p>{title}</p><p>Content type: <span>{ctype}</span></p></div>"


def _item_inline(item: Mapping, text: Any, attrs: Mapping) -> str:
    """Inline entry: its title in a span."""
    return f"<span>{_safe_fragment(_sanitize_value(_or(_get(item, 'title'), _get(item, 'uid'))))}</span>"


def _item_link(item: Mapping, text: Any, attrs: Mapping) -> str:
    """Entry as a link to its ``url``."""
    url = escape_attr(_sanitized_url(_or(_get(item, "url"), "undefined")))
    label = _or(text, _get(item, "title"), _get(item, "uid"), _system(item, "uid"))
    return f'<a href="{url}">{_safe_fragment(_sanitize_value(label))}</a>'


def _item_display(item: Mapping, text: Any, attrs: Mapping) -> str:
    """Displayable asset: an img with an alt text."""
    url = escape_attr(_sanitized_url(_or(_get(item, "url"), "undefined")))
    alt = _or(
        _get(attrs, "alt"),
        _get(item, "title"),
        _get(item, "filename"),
        _get(item, "uid"),
        _system(item, "uid"),
    )
    return f'<img src="{url}" alt="{escape_attr(_sanitize_value(alt))}" />'


def _item_download(item: Mapping, text: Any, attrs: Mapping) -> str:
    """Downloadable asset: a link to its ``url``."""
    url = escape_attr(_sanitized_url(_or(_get(item, "url"), "undefined")))
    label = _or(text, _get(item, "title"), _get(item, "uid"), _system(item, "content_type_uid"))
    return f'<a href="{url}">{_safe_fragment(_sanitize_value(label))}</a>'


_ITEM_RENDERERS: dict[str, Callable[[Mapping, Any, Mapping], str]] = {
    "block": _item_block,
    "inline": _item_inline,
    "link": _item_link,
    "display": _item_display,
    "download": _item_download,
}


def _render_item(item: Mapping, style_type: Any, text: Any, attrs: Mapping) -> str:
    """Default HTML for a found item; an unknown display type (the reference throws) gives ""."""
    renderer = _ITEM_RENDERERS.get(style_type) if isinstance(style_type, str) else None
    return renderer(item, text, attrs) if renderer else ""


# --------------------------------------------------------------------------------------------
# Attributes of an embedded object as the embed hook sees them
# --------------------------------------------------------------------------------------------


def _safe_embed_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """An embedded object's attributes as a site's embed template sees them (HTML-RTE
    elements when sanitizing, JSON-RTE reference nodes always): no event handlers or
    ``srcdoc``, hostile URLs and styles neutralized, at any depth (``redactor-attributes``)
    and whatever the names' case, since a template may write any of them out."""
    safe: dict[str, Any] = {}
    for name, value in attrs.items():
        lowered = str(name).lower()
        if lowered.startswith("on") or lowered == "srcdoc":
            continue
        safe[name] = _safe_embed_value(lowered, value)
    return safe


def _safe_embed_value(name: str, value: Any) -> Any:
    """One attribute value for :func:`_safe_embed_attrs` (``name`` lowercased)."""
    if name == "style":
        text = _style_text(value)
        return value if not text or safe_style(text) else ""
    if isinstance(value, str):
        if name == "srcset":  # comma-separated "url 2x" candidates
            blocked = any(safe_url(part) == BLOCKED_URL for part in value.split(","))
            return BLOCKED_URL if blocked else value
        return safe_url(value) if name in _URL_ATTRS else value
    if _is_mapping(value):
        return _safe_embed_attrs(value)
    if isinstance(value, list):
        return [_safe_embed_value(name, element) for element in value]
    return value


_URL_ATTRS = frozenset(
    ["href", "src", "url", "link", "asset-link", "data-sys-asset-link", "action", "formaction",
     "poster", "data", "xlink:href", "background", "cite", "longdesc", "ping", "manifest",
     "codebase", "dynsrc", "lowsrc"]
)  # fmt: skip
