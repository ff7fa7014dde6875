"""Replace embedded objects in HTML-RTE markup as the reference's ``render`` does.

The markup is parsed into a light tree (:class:`_EmbedFinder`, approximating the browser's
DOMParser the reference uses) only to find elements with an ``embedded-entry`` or
``embedded-asset`` class. Like the reference, each is then replaced by searching the string for
the element's serialized ``outerHTML`` and replacing its first occurrence, with JavaScript
``$`` replacement patterns; the rest of the markup is left as written (or reduced to an
allowlist when it is not trusted).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from sitegen.content.rte.context import _Context
from sitegen.content.rte.embedded import (
    EmbedContext,
    EmbeddedItems,
    EmbedRenderer,
    _render_item,
    _safe_embed_attrs,
)
from sitegen.content.rte.errors import RteError, _describe
from sitegen.content.rte.escape import _names
from sitegen.content.rte.jsformat import _UNDEF, _get, _or
from sitegen.content.sanitize import sanitize_html

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
