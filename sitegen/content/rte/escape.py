"""The reference library's regex sanitizer and escapes, and the "clean" fixed-point test.

Quirks of the reference reproduced on purpose:

* Every JSON-RTE node (and every text mark) passes its children's HTML through the library's
  regex "sanitizer" (:func:`_sanitize`): newlines become ``<br />``, tags outside an allow list
  are dropped (``blockquote``, ``code``, ``hr``, ``iframe``, ``figure``, ``tfoot``...), and
  quoted attributes outside an allow list are dropped.
* Text is escaped with ``& < > "`` only; attribute values are interpolated unescaped (sitegen
  escapes them and neutralizes hostile URLs, see :mod:`sitegen.content.sanitize`).

Instead of re-running the sanitizer at every nesting level (cost proportional to size times
depth), every rendered fragment carries a *clean* flag: a fragment with no newline, whose every
``<`` starts a complete tag that is allowed and carries only allowed attributes, is a fixed
point of the sanitizer, and so is any concatenation of such fragments. The sanitizer only runs
on children that are not known to be clean (:func:`_sanitized`), which keeps ordinary documents
linear.
"""

from __future__ import annotations

import re
from typing import Any

from sitegen.content.rte.jsformat import _UNDEF, _js_str
from sitegen.content.sanitize import escape_attr, safe_url, sanitize_html


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
