"""Render Contentstack rich text (JSON-RTE documents and HTML-RTE strings) to HTML.

The default output matches, byte for byte, what Contentstack's JavaScript utils library
(@contentstack/utils 1.9.1, ``jsonToHTML`` and ``render``) produces with default options, so a
site moving to sitegen keeps its markup. The reference cases live in
``tests/data/contentstack-utils-rte-cases.json``.

Quirks of the reference that are reproduced on purpose:

* Every JSON-RTE node (and every text mark) passes its children's HTML through the library's
  regex "sanitizer" (:func:`_sanitize`): newlines become ``<br />``, tags outside an allow list
  are dropped (``blockquote``, ``code``, ``hr``, ``iframe``, ``figure``, ``tfoot``...), and
  quoted attributes outside an allow list are dropped. The document's top-level nodes are *not*
  sanitized, so the same node renders differently at the top level and nested.
* Text is escaped with ``& < > "`` only; attribute values are interpolated unescaped.
* A nested ``ol``/``ul`` stored as the sibling of the ``li`` it belongs to is rendered inside
  that ``li`` (1.9.x behaviour, inferred from the reference cases).
* HTML-RTE embedded objects are replaced by searching for the element's serialized
  ``outerHTML`` and replacing its first occurrence, with JavaScript ``$`` replacement patterns.

Instead of re-running the sanitizer at every nesting level (cost proportional to size times
depth), every rendered fragment carries a *clean* flag: a fragment with no newline, whose every
``<`` starts a complete tag that is allowed and carries only allowed attributes, is a fixed
point of the sanitizer, and so is any concatenation of such fragments. The sanitizer only runs
on children that are not known to be clean, which keeps ordinary documents linear.

An optional ``embed`` hook renders embedded entries and assets (e.g. through a template); its
output is inserted verbatim, never sanitized or pattern-expanded.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from urllib.parse import quote

from sitegen.content.sanitize import (
    BLOCKED_URL,
    escape_attr,
    safe_style,
    safe_url,
    sanitize_html,
)

__all__ = [
    "MAX_DEPTH",
    "EmbedContext",
    "EmbedRenderer",
    "EmbeddedItems",
    "RteError",
    "render_html_rte",
    "render_json_rte",
    "render_rte",
]

MAX_DEPTH = 128
"""How deep JSON-RTE nodes may nest; real documents stay far below, a hostile one is refused
with a clear error instead of exhausting Python's stack."""


class RteError(TypeError, ValueError):
    """A rich-text value the renderer refuses: not rich text, or nested too deeply.

    The one exception rendering raises for any input (a ``TypeError`` for a value that is not
    rich text, a ``ValueError`` for one it cannot render), so callers catch one type.
    """


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


# --------------------------------------------------------------------------------------------
# JavaScript value semantics (truthiness, String(), number formatting, encodeURI)
# --------------------------------------------------------------------------------------------


class _Undefined:
    """Marks a missing key, which JavaScript renders as "undefined" (JSON null is "null")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


_UNDEF: Any = _Undefined()


def _truthy(value: Any) -> bool:
    """JavaScript truthiness: empty lists and objects are true, 0/""/null/undefined false."""
    if value is True:
        return True
    if value is None or value is False or value is _UNDEF:
        return False
    if type(value) is str:
        return value != ""
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def _or(*values: Any) -> Any:
    """JavaScript ``a || b || c``: the first truthy value, else the last one."""
    for value in values[:-1]:
        if _truthy(value):
            return value
    return values[-1]


def _js_number(value: float) -> str:
    """JavaScript Number::toString: shortest round-trip digits, exponent past 1e21."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + int(exponent)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if n - 1 > 0 else '-'}{abs(n - 1)}"


def _js_str(value: Any) -> str:
    """JavaScript ``String(value)`` / template interpolation for JSON-like values."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is _UNDEF:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 2**53 else _js_number(float(value))
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None or v is _UNDEF else _js_str(v) for v in value)
    if _is_mapping(value):
        return "[object Object]"
    return str(value)


def _js_keys(obj: Mapping) -> list:
    """Own-key order of a JavaScript object: array-index keys ascending, then insertion order."""
    index_keys, other_keys = [], []
    for key in obj:
        if (
            isinstance(key, str)
            and key.isdigit()
            and (key == "0" or key[0] != "0")
            and int(key) < 2**32 - 1
        ):
            index_keys.append(key)
            continue
        other_keys.append(key)
    if not index_keys:
        return other_keys
    return sorted(index_keys, key=int) + other_keys


def _js_to_fixed2(value: float) -> str:
    """JavaScript ``Number.prototype.toFixed(2)``: exact decimal value, ties away from zero."""
    if value != value:
        return "NaN"
    if abs(value) >= 1e21:
        return _js_number(value)
    if value == 0:
        value = 0.0
    return format(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


_URI_SAFE = "-_.!~*'();/?:@&=+$,#"


def _encode_uri(value: str) -> str:
    """JavaScript ``encodeURI`` (which also re-encodes an existing ``%``)."""
    return quote(value, safe=_URI_SAFE, errors="surrogatepass")


def _get(mapping: Mapping, key: str) -> Any:
    """Property access that tells a missing key (undefined) from JSON null."""
    return mapping.get(key, _UNDEF)


def _is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, with plain dicts kept off the slow ABC check."""
    return type(value) is dict or isinstance(value, Mapping)


_EMPTY: Mapping = {}


def _as_mapping(value: Any) -> Mapping:
    """Node attrs as a mapping; a missing or malformed ``attrs`` behaves like ``{}``."""
    return value if _is_mapping(value) else _EMPTY


# --------------------------------------------------------------------------------------------
# The reference library's sanitizer and the "clean" fixed-point test
# --------------------------------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    """A set of tag or attribute names from a space-separated list."""
    return frozenset(text.split())


_ALLOWED_TAGS = _names(
    "p a strong em ul ol li h1 h2 h3 h4 h5 h6 sub u table thead tbody tr th td span fragment "
    "sup strike br img colgroup col div"
)
_ALLOWED_ATTRS = _names(
    "href title target alt src class id style colspan rowspan content-type-uid "
    "data-sys-asset-uid sys-style-type data-type data-width data-rows data-cols data-mtec"
)
# JavaScript's \s (Python's differs: it includes \x1c-\x1f and \x85).
_JS_SPACE = "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
# re.ASCII: JavaScript's \b and case-insensitive [a-z] are ASCII-only.
_TAG_RE = re.compile(r"</?([a-z][a-z0-9]*)\b[^<>]*>", re.IGNORECASE | re.ASCII)
_OPEN_TAG_RE = re.compile(r"<([a-z][a-z0-9]*)\b[^<>]*>", re.IGNORECASE | re.ASCII)
_ATTR_RE = re.compile(_JS_SPACE + r"([a-z\-]+)=['\"][^'\"]*['\"]", re.IGNORECASE | re.ASCII)


def _drop_disallowed_tag(match: re.Match) -> str:
    """Step 2 of sanitizeHTML: keep a tag only if its name is allowed."""
    return match.group(0) if match.group(1).lower() in _ALLOWED_TAGS else ""


def _drop_disallowed_attr(match: re.Match) -> str:
    """Keep a quoted attribute only if its name is allowed."""
    return match.group(0) if match.group(1).lower() in _ALLOWED_ATTRS else ""


def _filter_attrs(match: re.Match) -> str:
    """Step 3 of sanitizeHTML: strip disallowed attributes from allowed opening tags."""
    if match.group(1).lower() not in _ALLOWED_TAGS:
        return match.group(0)
    return _ATTR_RE.sub(_drop_disallowed_attr, match.group(0))


def _sanitize(html: str) -> str:
    """The reference's ``sanitizeHTML`` exactly: newline to <br />, then tag/attribute filter."""
    html = html.replace("\n", "<br />")
    if "<" not in html:
        return html
    return _OPEN_TAG_RE.sub(_filter_attrs, _TAG_RE.sub(_drop_disallowed_tag, html))


def _is_clean(html: str) -> bool:
    """Whether ``html`` is a fixed point of :func:`_sanitize` that stays one when concatenated.

    True when there is no newline and every ``<`` starts a complete tag whose name is allowed
    and whose quoted attributes are all allowed. Tag matches then cannot span two fragments, so
    the sanitizer leaves any concatenation of clean fragments unchanged.
    """
    if "\n" in html:
        return False
    count = 0
    for match in _TAG_RE.finditer(html):
        count += 1
        if match.group(1).lower() not in _ALLOWED_TAGS:
            return False
        tag = match.group(0)
        if tag[1] != "/":
            for attr in _ATTR_RE.finditer(tag):
                if attr.group(1).lower() not in _ALLOWED_ATTRS:
                    return False
    return count == html.count("<")


_TAG_CLEAN_CACHE: dict[str, bool] = {}


def _tag_is_clean(tag: str) -> bool:
    """:func:`_is_clean` for an opening tag, memoized because the same tags recur constantly."""
    clean = _TAG_CLEAN_CACHE.get(tag)
    if clean is None:
        if len(_TAG_CLEAN_CACHE) > 8192:
            _TAG_CLEAN_CACHE.clear()
        clean = _TAG_CLEAN_CACHE[tag] = _is_clean(tag)
    return clean


def _sanitized(html: str, clean: bool) -> tuple[str, bool]:
    """Children HTML as the reference sees it after ``sanitizeHTML``, plus its clean flag."""
    if clean:
        return html, True
    html = _sanitize(html)
    return html, _is_clean(html)


def _sanitize_value(value: Any) -> str:
    """``sanitizeHTML`` of a scalar (missing values, where the reference throws, become "")."""
    if value is None or value is _UNDEF:
        return ""
    return _sanitize(_js_str(value))


def _escape_text(text: str) -> str:
    """The reference's ``replaceHtmlEntities``: ``& < > "`` only (not ``'``), in one pass."""
    return text.translate(_TEXT_ESCAPES)


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _sanitized_url(value: Any) -> str:
    """The reference's ``sanitizeHTML`` of a URL, checked before the sanitizer rewrites
    newlines (``java\\nscript:``) and again after it drops tags (``java<x/>script:``), so the
    URL written out is one whose scheme the browser reads as allowed."""
    if value is None or value is _UNDEF:
        return ""
    return safe_url(_sanitize(safe_url(_js_str(value))))


def _url_attr(value: str) -> str:
    """A URL attribute value: hostile schemes neutralized, then escaped so it stays quoted."""
    return escape_attr(safe_url(value))


def _safe_fragment(html: str) -> str:
    """Item fields the reference passes through as markup (titles, captions): plain text stays
    byte for byte, anything with a tag goes through the HTML allowlist."""
    return sanitize_html(html) if "<" in html else html


# --------------------------------------------------------------------------------------------
# Embedded items
# --------------------------------------------------------------------------------------------


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
# Render state
# --------------------------------------------------------------------------------------------


class _Context:
    """Per-call state: embedded items, the hook, and verbatim hook outputs awaiting insertion."""

    __slots__ = ("depth", "embed", "embedded", "outputs", "token")

    def __init__(self, embedded: EmbeddedItems | None, embed: EmbedRenderer | None) -> None:
        self.embedded = embedded
        self.embed = embed
        self.depth = 0
        self.outputs: list[str] = []
        self.token = ""

    def lookup(self, kind: Any, uid: Any, content_type_uid: Any) -> dict | None:
        """The embedded item the reference would find, or None."""
        if self.embedded is None:
            return None
        return self.embedded.find(kind, uid, content_type_uid)

    def call_hook(self, item: dict | None, context: EmbedContext) -> str | None:
        """Run the embed hook; a string result is parked behind a placeholder (see finish)."""
        if self.embed is None:
            return None
        result = self.embed(item if item is not None else {}, context)
        if result is None:
            return None
        if not self.token:
            # Placeholders contain no "<", newline or quote, so the sanitizer leaves them alone
            # in text; it drops one from an attribute value, so none is filled there.
            self.token = "\x00" + secrets.token_hex(8) + ":"
        # Resolve placeholders of inner hook outputs the hook may have copied from ctx.text.
        self.outputs.append(self.finish(str(result)))
        return f"{self.token}{len(self.outputs) - 1}\x00"

    def finish(self, html: str) -> str:
        """Put the hook outputs in place of their placeholders."""
        if not self.outputs:
            return html
        pattern = re.compile(re.escape(self.token) + r"(\d+)\x00")
        return pattern.sub(lambda m: self.outputs[int(m.group(1))], html)


# --------------------------------------------------------------------------------------------
# JSON-RTE
# --------------------------------------------------------------------------------------------

_Rendered = tuple[str, bool]  # (html, clean)
_NodeRenderer = Callable[[Mapping, Mapping, _Context], _Rendered]


def _style_text(style: Any) -> str:
    """The reference's styleObjectToString: objects become ``key:value;`` pairs."""
    if not _truthy(style):
        return ""
    if isinstance(style, str):
        return style
    if _is_mapping(style):
        return "".join(f"{key}:{_js_str(style[key])};" for key in _js_keys(style))
    if isinstance(style, list):
        return "".join(f"{index}:{_js_str(value)};" for index, value in enumerate(style))
    return ""


def _style_string(style: Any) -> str:
    """A node's ``style`` as an attribute value: hostile CSS dropped, then escaped."""
    return escape_attr(safe_style(_style_text(style)))


def _attr_part(name: str, value: Any) -> str:
    """`` name="value"`` when the value is truthy, as the reference's templates do."""
    return f' {name}="{escape_attr(_js_str(value))}"' if _truthy(value) else ""


def _common_attrs(attrs: Mapping, with_style: bool = True) -> str:
    """The ``style``, ``class`` (from ``class-name``) and ``id`` attributes most nodes get."""
    if not attrs:
        return ""
    style = _style_string(attrs.get("style")) if with_style else ""
    return (
        (f' style="{style}"' if style else "")
        + _attr_part("class", attrs.get("class-name"))
        + _attr_part("id", attrs.get("id"))
    )


def _render_children(children: Any, ctx: _Context) -> _Rendered:
    """Render and join a node list; clean only if every part is clean."""
    if not isinstance(children, list) or not children:
        return "", True
    if ctx.depth >= MAX_DEPTH:
        raise RteError(
            f"JSON-RTE nodes are nested more than {MAX_DEPTH} levels deep; "
            "the document is malformed or hostile"
        )
    parts: list[str] = []
    clean = True
    ctx.depth += 1
    try:
        for child in children:
            html, child_clean = _render_node(child, ctx)
            parts.append(html)
            clean = clean and child_clean
    finally:
        ctx.depth -= 1
    return "".join(parts), clean


def _render_node(node: Any, ctx: _Context) -> _Rendered:
    """Dispatch one node: text leaf, reference, known element, or the default."""
    if not _is_mapping(node):
        return "", True
    node_type = node.get("type")
    if not _truthy(node_type):
        return _render_text(node)
    renderer = _NODE_RENDERERS.get(node_type) if isinstance(node_type, str) else None
    return (renderer or _render_default)(node, _as_mapping(node.get("attrs")), ctx)


def _inner(node: Mapping, ctx: _Context) -> _Rendered:
    """A node's children after the reference's per-node ``sanitizeHTML``."""
    return _sanitized(*_render_children(node.get("children"), ctx))


def _wrap(tag: str, attributes: str, inner: _Rendered) -> _Rendered:
    """``<tag attributes>inner</tag>`` with its clean flag."""
    open_tag = f"<{tag}{attributes}>"
    clean = inner[1] and tag in _ALLOWED_TAGS and (not attributes or _tag_is_clean(open_tag))
    return f"{open_tag}{inner[0]}</{tag}>", clean


def _element(tag: str, *, with_style: bool = True) -> _NodeRenderer:
    """Renderer for the many nodes that are ``<tag style class id>children</tag>``."""

    def render(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
        return _wrap(tag, _common_attrs(attrs, with_style), _inner(node, ctx))

    render.__name__ = f"_render_{tag}"
    render.__doc__ = f"``<{tag}>`` with style, class and id."
    return render


_LIST_TYPES = ("ol", "ul")


def _nest_sibling_lists(children: Any) -> Any:
    """Move a list that directly follows a list item into that item, as 1.9.x renders it.

    The editor can store a nested list as a sibling of the ``li`` it belongs to; the reference
    then renders it inside the preceding ``li`` (valid HTML). Consecutive lists join the same
    item. Nodes are shallow-copied, never modified.
    """
    if not isinstance(children, list):
        return children
    moves = any(
        _is_mapping(prev)
        and prev.get("type") == "li"
        and _is_mapping(child)
        and child.get("type") in _LIST_TYPES
        for prev, child in pairwise(children)
    )
    if not moves:
        return children
    result: list[Any] = []
    item: dict | None = None
    for child in children:
        child_type = child.get("type") if _is_mapping(child) else None
        if child_type in _LIST_TYPES and item is not None:
            item["children"].append(child)
            continue
        if child_type == "li":
            grandchildren = child.get("children")
            item = {
                **child,
                "children": list(grandchildren) if isinstance(grandchildren, list) else [],
            }
            result.append(item)
        else:
            item = None
            result.append(child)
    return result


def _list(tag: str) -> _NodeRenderer:
    """Renderer for ol/ul, nesting sibling sub-lists into the preceding list item first."""

    def render(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
        children = _nest_sibling_lists(node.get("children"))
        inner = _sanitized(*_render_children(children, ctx))
        return _wrap(tag, _common_attrs(attrs), inner)

    render.__name__ = f"_render_{tag}"
    render.__doc__ = f"``<{tag}>`` list."
    return render


def _render_default(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """Unknown node types render their (sanitized) children only."""
    return _inner(node, ctx)


def _render_doc(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """A nested ``doc`` node renders as nothing."""
    return "", True


def _render_fragment(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``<fragment>`` is emitted literally (it is on the reference's allow list)."""
    return _wrap("fragment", "", _inner(node, ctx))


def _render_hr(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``<hr>``; not an allowed tag, so a parent's sanitizer drops it."""
    return "<hr>", False


def _render_link(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``<a>`` from ``href`` (or ``url``) plus ``target``."""
    href = escape_attr(_sanitized_url(_or(_get(attrs, "href"), _get(attrs, "url"))))
    attributes = f'{_common_attrs(attrs)} href="{href}"{_attr_part("target", attrs.get("target"))}'
    return _wrap("a", attributes, _inner(node, ctx))


def _media_src(attrs: Mapping) -> str:
    """``encodeURI(sanitizeHTML(src || url))`` for img and embed nodes."""
    src = _sanitized_url(_or(_get(attrs, "src"), _get(attrs, "url")))
    return escape_attr(_encode_uri(src))


def _render_img(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``<img ... />`` followed by the node's children."""
    tag = f'<img{_common_attrs(attrs)} src="{_media_src(attrs)}" />'
    inner, clean = _inner(node, ctx)
    return tag + inner, clean and _tag_is_clean(tag)


def _render_embed(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``embed`` nodes become an iframe (dropped by a parent's sanitizer)."""
    html = (
        f'<iframe{_common_attrs(attrs)} src="{_media_src(attrs)}">{_inner(node, ctx)[0]}</iframe>'
    )
    return html, False


def _colgroup(widths: Any) -> str:
    """``<colgroup>`` with percentage widths, from a table's ``colWidths`` (numbers)."""
    if not (_truthy(widths) and isinstance(widths, list)):
        return ""
    numbers = [
        w if isinstance(w, (int, float)) and not isinstance(w, bool) else float("nan")
        for w in widths
    ]
    total = sum(numbers)
    cols = []
    for width in numbers:
        if total:
            share = width / total * 100
        else:  # JavaScript division by zero
            share = float("nan") if width == 0 or width != width else width * float("inf")
        cols.append(f'<col style="width:{_js_to_fixed2(share)}%"/>')
    return f'<colgroup data-width="{_js_str(total)}">{"".join(cols)}</colgroup>'


def _render_table(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """``<table>`` with an optional colgroup before its (sanitized) rows."""
    open_tag = f"<table{_common_attrs(attrs)}>"
    colgroup = _colgroup(attrs.get("colWidths"))
    inner, clean = _inner(node, ctx)
    clean = clean and _tag_is_clean(open_tag) and (not colgroup or _is_clean(colgroup))
    return f"{open_tag}{colgroup}{inner}</table>", clean


def _cell(tag: str) -> _NodeRenderer:
    """Renderer for th/td: nothing for merged-away (``void``) cells, row/col spans first."""

    def render(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
        if _truthy(attrs.get("void")):
            return "", True
        spans = _attr_part("rowspan", attrs.get("rowSpan")) + _attr_part(
            "colspan", attrs.get("colSpan")
        )
        return _wrap(tag, spans + _common_attrs(attrs), _inner(node, ctx))

    render.__name__ = f"_render_{tag}"
    render.__doc__ = f"``<{tag}>`` table cell."
    return render


# ---- references (embedded entries and assets) ----


def _reference_link(attrs: Mapping, inner: _Rendered) -> _Rendered:
    """An entry or asset embedded as a link: an ``<a>`` built from the node's own attrs."""
    href = _url_attr(_js_str(_or(_get(attrs, "href"), _get(attrs, "url"))))
    attributes = f'{_common_attrs(attrs)} href="{href}"{_attr_part("target", attrs.get("target"))}'
    if attrs.get("type") == "asset":
        uid = attrs.get("asset-uid")
        uid_part = f'data-sys-asset-uid="{escape_attr(_js_str(uid))}"' if _truthy(uid) else ""
        attributes += (
            f' type="asset" content-type-uid="sys_assets" {uid_part} sys-style-type="download"'
        )
    html = f"<a{attributes}>{inner[0]}</a>"
    return html, inner[1] and _tag_is_clean(f"<a{attributes}>")


def _reference_fallback(attrs: Mapping) -> _Rendered:
    """A reference whose item is not embedded: assets become a figure, entries nothing."""
    if attrs.get("type") != "asset":
        return "", True
    redactor = _as_mapping(attrs.get("redactor-attributes"))
    src = escape_attr(_encode_uri(safe_url(_js_str(_get(attrs, "asset-link")))))
    alt = redactor.get("alt")
    link = attrs.get("link")
    target = _or(_get(attrs, "target"), "")
    caption = _or(_get(redactor, "asset-caption"), _get(attrs, "asset-caption"), "")
    style = _style_string(attrs.get("style"))
    class_name = attrs.get("class-name")
    img = (
        "<img"
        + _attr_part("asset_uid", attrs.get("asset-uid"))
        + (f' class="{escape_attr(_sanitize_value(class_name))}"' if _truthy(class_name) else "")
        + (f' src="{_sanitize(src)}"' if src else "")
        + _attr_part("alt", alt)
        + (' target="_blank"' if target == "_blank" else "")
        + (f' style="{style}"' if style else "")
        + " />"
    )
    if _truthy(link):
        link_attrs = f'href="{_url_attr(_js_str(link))}" target="{escape_attr(_js_str(target))}"'
        img = f"<a {link_attrs}>{img}</a>"
    figcaption = (
        f"<figcaption>{_safe_fragment(_js_str(caption))}</figcaption>" if _truthy(caption) else ""
    )
    figure_style = f' style="{style}"' if style else ""
    return f"<figure{figure_style}>{img}{figcaption}</figure>", False


def _render_reference(node: Mapping, attrs: Mapping, ctx: _Context) -> _Rendered:
    """An embedded entry or asset: the hook, else the reference library's default."""
    ref_type = attrs.get("type")
    display_type = attrs.get("display-type")
    inner = _inner(node, ctx)
    uid = _or(_get(attrs, "entry-uid"), _get(attrs, "asset-uid"))
    item = ctx.lookup(ref_type, uid, _get(attrs, "content-type-uid"))
    if ctx.embed is not None:
        kind = "entry" if ref_type == "entry" else "asset"
        context = EmbedContext(item, kind, display_type, _safe_embed_attrs(attrs), inner[0])
        placeholder = ctx.call_hook(item, context)
        if placeholder is not None:
            return placeholder, True
    if ref_type in ("entry", "asset") and display_type == "link":
        return _reference_link(attrs, inner)
    if item is None:
        return _reference_fallback(attrs)
    children = node.get("children")
    first = children[0] if isinstance(children, list) and children else {}
    text = _get(first, "text") if _is_mapping(first) else _UNDEF
    html = _render_item(item, display_type, text, attrs)
    return html, _is_clean(html)


# ---- text leaves and marks ----

_MARK_TAGS: tuple[tuple[str, str, str], ...] = (
    ("superscript", "<sup>", "</sup>"),
    ("subscript", "<sub>", "</sub>"),
    ("inlineCode", "<span data-type='inlineCode'>", "</span>"),
    ("strikethrough", "<strike>", "</strike>"),
    ("underline", "<u>", "</u>"),
    ("italic", "<em>", "</em>"),
    ("bold", "<strong>", "</strong>"),
)
_ONLY_NEWLINES = re.compile(r"\n+")
_TEXT_MARK_KEYS = frozenset(
    ["classname", "id", "break"] + [mark for mark, _open, _close in _MARK_TAGS]
)


def _render_text(node: Mapping) -> _Rendered:
    """A text leaf: escaped text wrapped in its marks, innermost first as the reference does."""
    text = node.get("text")
    html = _escape_text(text if type(text) is str else _js_str(text)) if text is not None else ""
    clean = "\n" not in html  # escaped text has no "<"
    if _TEXT_MARK_KEYS.isdisjoint(node):  # the common case: plain text
        return (html, True) if clean else (html.replace("\n", "<br />"), True)
    marked = False
    classname, node_id = node.get("classname"), node.get("id")
    if _truthy(classname) or _truthy(node_id):
        open_tag = f"<span{_attr_part('class', classname)}{_attr_part('id', node_id)}>"
        html, clean = _sanitized(html, clean)
        html, clean = f"{open_tag}{html}</span>", clean and _tag_is_clean(open_tag)
        marked = True
    if _truthy(node.get("break")):
        only_newlines = _ONLY_NEWLINES.fullmatch(html) is not None
        html, clean = _sanitized(html, clean)
        if not only_newlines:
            html = "<br />" + html
        marked = True
    for mark, open_tag, close_tag in _MARK_TAGS:
        if _truthy(node.get(mark)):
            html, clean = _sanitized(html, clean)
            html = f"{open_tag}{html}{close_tag}"
            marked = True
    if not marked and not clean:
        html, clean = _sanitized(html, clean)  # plain text: newlines become <br />
    return html, clean


_NODE_RENDERERS: dict[str, _NodeRenderer] = {
    "doc": _render_doc,
    "p": _element("p"),
    "a": _render_link,
    "img": _render_img,
    "embed": _render_embed,
    **{f"h{level}": _element(f"h{level}") for level in range(1, 7)},
    "ol": _list("ol"),
    "ul": _list("ul"),
    "li": _element("li"),
    "fragment": _render_fragment,
    "hr": _render_hr,
    "table": _render_table,
    "thead": _element("thead"),
    "tbody": _element("tbody"),
    "tfoot": _element("tfoot"),
    "tr": _element("tr"),
    "th": _cell("th"),
    "td": _cell("td"),
    "blockquote": _element("blockquote", with_style=False),
    "code": _element("code", with_style=False),
    "reference": _render_reference,
}


def _is_doc(value: Any) -> bool:
    """A JSON-RTE document: a mapping whose ``type`` is "doc"."""
    return _is_mapping(value) and value.get("type") == "doc"


def _render_doc_html(doc: Mapping, ctx: _Context) -> str:
    """A document's top-level nodes, joined without sanitizing (as the reference does)."""
    return ctx.finish(_render_children(doc.get("children"), ctx)[0])


def render_json_rte(
    doc: Mapping | list,
    embedded: EmbeddedItems | None = None,
    *,
    embed: EmbedRenderer | None = None,
) -> str | list[str]:
    """Render a JSON-RTE document (or a list of them, giving a list) to HTML."""
    ctx = _Context(embedded, embed)
    if isinstance(doc, list):
        results = []
        for index, element in enumerate(doc):
            if not _is_doc(element):
                raise RteError(
                    f"JSON-RTE list element {index} is not a document (a dict with "
                    f'"type": "doc"), got {type(element).__name__}'
                )
            results.append(_render_doc_html(element, ctx))
        return results
    if not _is_doc(doc):
        raise RteError(
            'a JSON-RTE value must be a document (a dict with "type": "doc") or a list of them, '
            f"got {_describe(doc)}"
        )
    return _render_doc_html(doc, ctx)


# --------------------------------------------------------------------------------------------
# HTML-RTE
# --------------------------------------------------------------------------------------------

_VOID_ELEMENTS = _names(
    "area base br col embed hr img input link meta source track wbr basefont bgsound frame "
    "keygen param"
)
_RAW_TEXT_PARENTS = _names("style script xmp iframe noembed noframes plaintext")
# Start tags that close an open <p> (HTML tree construction, "in body" insertion mode).
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section "
    "summary table ul li dd dt listing plaintext search"
)
_P_SCOPE_BOUNDARIES = _names("applet caption html table td th marquee object template button")
_EMBED_CLASSES = ("embedded-entry", "embedded-asset")
_ASCII_SPACE = re.compile("[\t\n\f\r ]+")


class _Element:
    """A parsed HTML element: just what outerHTML serialization and metadata need."""

    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Element | str | _Comment] = []


class _Comment(str):
    """A comment node's data."""

    __slots__ = ()


class _EmbedFinder(HTMLParser):
    """Parses HTML-RTE into a light tree and collects elements with an embedded-object class.

    Approximates the browser's DOMParser, which the reference uses: void elements, ignored
    self-closing flags, duplicate attributes (first wins), and ``<p>`` closed by block starts.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", {})
        self.stack: list[_Element] = [self.root]
        self.found: dict[str, list[_Element]] = {name: [] for name in _EMBED_CLASSES}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element (void elements are never pushed)."""
        if tag in _CLOSES_P:
            self._close_p()
        attributes: dict[str, str] = {}
        for name, value in attrs:
            attributes.setdefault(name, "" if value is None else value)
        element = _Element(tag, attributes)
        self.stack[-1].children.append(element)
        classes = attributes.get("class")
        if classes and "embedded-" in classes:
            tokens = _ASCII_SPACE.split(classes)
            for name in _EMBED_CLASSES:
                if name in tokens:
                    self.found[name].append(element)
        if tag not in _VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """HTML ignores the self-closing flag on non-void elements."""
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        """Close the nearest open element of that name; a stray ``</p>`` makes an empty p."""
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return
        if tag == "p":
            self.stack[-1].children.append(_Element("p", {}))
        elif tag == "br":
            self.stack[-1].children.append(_Element("br", {}))

    def handle_data(self, data: str) -> None:
        """Text, merged with a preceding text node as the DOM does."""
        children = self.stack[-1].children
        if children and type(children[-1]) is str:
            children[-1] += data
        else:
            children.append(data)

    def handle_comment(self, data: str) -> None:
        """Comments are kept: they are part of an element's outerHTML."""
        self.stack[-1].children.append(_Comment(data))

    def _close_p(self) -> None:
        """Close an open <p> in button scope before a block-level start tag."""
        for index in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[index].tag
            if tag == "p":
                del self.stack[index:]
                return
            if tag in _P_SCOPE_BOUNDARIES:
                return


def _escape_attr(value: str) -> str:
    """HTML serialization escaping for attribute values."""
    return value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")


def _escape_node_text(value: str) -> str:
    """HTML serialization escaping for text nodes."""
    return (
        value.replace("&", "&amp;")
        .replace("\u00a0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _inner_html(element: _Element) -> str:
    """Serialize an element's children as ``innerHTML`` does."""
    parts: list[str] = []
    for child in element.children:
        if isinstance(child, _Element):
            parts.append(_outer_html(child))
        elif isinstance(child, _Comment):
            parts.append(f"<!--{child}-->")
        elif element.tag in _RAW_TEXT_PARENTS:
            parts.append(child)
        else:
            parts.append(_escape_node_text(child))
    return "".join(parts)


def _outer_html(element: _Element) -> str:
    """Serialize an element as ``outerHTML`` does."""
    attributes = "".join(
        f' {name}="{_escape_attr(value)}"' for name, value in element.attrs.items()
    )
    if element.tag in _VOID_ELEMENTS:
        return f"<{element.tag}{attributes}>"
    return f"<{element.tag}{attributes}>{_inner_html(element)}</{element.tag}>"


def _element_text(element: _Element) -> Any:
    """The reference's ``#text`` metadata: the last direct text child (undefined if none)."""
    for child in reversed(element.children):
        if type(child) is str:
            return child
    return _UNDEF


_REPLACEMENT_PATTERN = re.compile(r"\$([$&`'])")


def _js_replace_first(content: str, target: str, replacement: str, *, patterns: bool) -> str:
    """``content.replace(target, replacement)`` for a string target, with ``$`` patterns."""
    index = content.find(target)
    if index < 0:
        return content
    end = index + len(target)
    if patterns and "$" in replacement:
        expansions = {"$": "$", "&": target, "`": content[:index], "'": content[end:]}
        replacement = _REPLACEMENT_PATTERN.sub(lambda m: expansions[m.group(1)], replacement)
    return content[:index] + replacement + content[end:]


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


def _render_embedded_element(
    element: _Element, ctx: _Context, trusted: bool = True
) -> tuple[str, bool]:
    """(replacement HTML, whether it is the default) for one embedded-object element."""
    attrs = element.attrs
    kind_attr = _get(attrs, "type")
    uid = _or(_get(attrs, "data-sys-entry-uid"), _get(attrs, "data-sys-asset-uid"))
    item = ctx.lookup(kind_attr, uid, _get(attrs, "data-sys-content-type-uid"))
    style_type = attrs.get("sys-style-type")
    if ctx.embed is not None:
        kind = "entry" if kind_attr == "entry" else "asset"
        if trusted:
            context = EmbedContext(item, kind, style_type, dict(attrs), _inner_html(element))
        else:
            inner = sanitize_html(_inner_html(element))
            context = EmbedContext(item, kind, style_type, _safe_embed_attrs(attrs), inner)
        placeholder = ctx.call_hook(item, context)
        if placeholder is not None:
            return placeholder, False
    if item is None:
        return "", True
    return _render_item(item, style_type, _element_text(element), attrs), True


def _render_html_string(content: str, ctx: _Context, trusted: bool = True) -> str:
    """Replace each embedded entry, then each embedded asset, as the reference does; unless
    ``trusted``, reduce the result to the HTML allowlist (hook outputs are kept as they are).

    Each replacement targets the first occurrence of the element's serialized outerHTML in the
    content as modified so far, so cost is O(objects x length) for one field.
    """
    if not content:
        return ""
    # An element can only carry the class if the text (or a numeric reference) spells it.
    if "embedded-" not in content and "&#" not in content:
        return content if trusted else sanitize_html(content)
    finder = _EmbedFinder()
    try:
        finder.feed(content)
        finder.close()
    except Exception:  # html.parser can assert on odd markup: keep what it found
        pass
    elements = finder.found["embedded-entry"] + finder.found["embedded-asset"]
    for element in elements:
        replacement, is_default = _render_embedded_element(element, ctx, trusted)
        content = _js_replace_first(content, _outer_html(element), replacement, patterns=is_default)
    if not trusted:
        content = sanitize_html(content)  # placeholders are plain text: they survive
    return ctx.finish(content)


def render_html_rte(
    html: str | list,
    embedded: EmbeddedItems | None = None,
    *,
    embed: EmbedRenderer | None = None,
    trusted_html: bool = True,
) -> str | list[str]:
    """Replace embedded ``<figure>``/``<img>`` objects in HTML-RTE markup (or a list of it).

    ``trusted_html=False`` also reduces the markup to the allowlist of
    :func:`sitegen.content.sanitize.sanitize_html`; sites do that by default (``[rte] html``).
    """
    if isinstance(html, list):
        results = []
        for index, element in enumerate(html):
            if element is None:
                results.append("")
            elif isinstance(element, str):
                ctx = _Context(embedded, embed)
                results.append(_render_html_string(element, ctx, trusted_html))
            else:
                raise RteError(
                    f"HTML-RTE list element {index} must be a string, got {_describe(element)}"
                )
        return results
    if html is None:
        return ""
    if not isinstance(html, str):
        raise RteError(
            f"an HTML-RTE value must be a string or a list of strings, got {_describe(html)}"
        )
    return _render_html_string(html, _Context(embedded, embed), trusted_html)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    """A short description of a bad value for error messages."""
    if _is_mapping(value):
        return (
            f"a dict with type {value.get('type')!r}"
            if "type" in value
            else "a dict without a type"
        )
    return type(value).__name__


def render_rte(
    value: Any,
    entry: Mapping | None = None,
    *,
    embed: EmbedRenderer | None = None,
    trusted_html: bool = True,
) -> str | list[str]:
    """Render a rich-text field value, detecting JSON-RTE or HTML-RTE.

    A document dict (``"type": "doc"``) renders as JSON-RTE, a string as HTML-RTE, a list
    element by element (giving a list), None as "". Embedded objects are looked up in
    ``entry["_embedded_items"]``. JSON-RTE URLs, styles and attribute values are always
    neutralized; HTML-RTE is reduced to an allowlist when ``trusted_html`` is False (the
    default of the library is the reference's output; sites default to sanitizing). A value
    nested too deeply raises :class:`RteError`.
    """
    if value is None:
        return ""
    embedded = EmbeddedItems.from_entry(entry)
    try:
        if _is_doc(value):
            return render_json_rte(value, embedded, embed=embed)
        if isinstance(value, str):
            return render_html_rte(value, embedded, embed=embed, trusted_html=trusted_html)
        if isinstance(value, list):
            return [
                _render_list_element(element, index, embedded, embed, trusted_html)
                for index, element in enumerate(value)
            ]
    except RecursionError:
        raise RteError("rich text nested too deeply to render") from None
    raise RteError(
        'a rich-text value must be a JSON-RTE document (a dict with "type": "doc"), an '
        f"HTML string, a list of those, or None; got {_describe(value)}"
    )


def _render_list_element(
    element: Any,
    index: int,
    embedded: EmbeddedItems,
    embed: EmbedRenderer | None,
    trusted_html: bool = True,
) -> str:
    """One element of a multiple rich-text field."""
    if element is None:
        return ""
    if _is_doc(element):
        return render_json_rte(element, embedded, embed=embed)  # type: ignore[return-value]
    if isinstance(element, str):
        return render_html_rte(  # type: ignore[return-value]
            element, embedded, embed=embed, trusted_html=trusted_html
        )
    raise RteError(
        f"rich-text list element {index} must be a JSON-RTE document or an HTML string, "
        f"got {_describe(element)}"
    )
