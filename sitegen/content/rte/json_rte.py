"""Render JSON-RTE documents to HTML as the reference's ``jsonToHTML`` does.

Quirks of the reference reproduced on purpose:

* Every node (and every text mark) passes its children's HTML through the reference's
  sanitizer (see :mod:`sitegen.content.rte.escape`, which also explains the *clean* flag every
  rendered fragment here carries). The document's top-level nodes are *not* sanitized, so the
  same node renders differently at the top level and nested.
* A nested ``ol``/``ul`` stored as the sibling of the ``li`` it belongs to is rendered inside
  that ``li`` (1.9.x behaviour, inferred from the reference cases).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any

from sitegen.content.rte.context import _Context
from sitegen.content.rte.embedded import (
    EmbedContext,
    EmbeddedItems,
    EmbedRenderer,
    _render_item,
    _safe_embed_attrs,
)
from sitegen.content.rte.errors import MAX_DEPTH, RteError, _describe
from sitegen.content.rte.escape import (
    _ALLOWED_TAGS,
    _escape_text,
    _is_clean,
    _safe_fragment,
    _sanitize,
    _sanitize_value,
    _sanitized,
    _sanitized_url,
    _tag_is_clean,
    _url_attr,
)
from sitegen.content.rte.jsformat import (
    _UNDEF,
    _as_mapping,
    _encode_uri,
    _get,
    _is_mapping,
    _js_str,
    _js_to_fixed2,
    _or,
    _style_text,
    _truthy,
)
from sitegen.content.sanitize import escape_attr, safe_style, safe_url

_Rendered = tuple[str, bool]  # (html, clean)
_NodeRenderer = Callable[[Mapping, Mapping, _Context], _Rendered]


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
