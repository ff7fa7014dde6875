"""Neutralize hostile rich-text values: URLs, inline styles, attribute values and HTML.

Rich text comes from the CMS, so it is untrusted: an editor account (or a stolen token) must not
be able to run script in a visitor's browser. The JSON-RTE renderer passes every URL, style and
attribute value it writes through :func:`safe_url`, :func:`safe_style` and :func:`escape_attr`;
HTML-RTE is re-serialized through the allowlist of :func:`sanitize_html` unless the site opts out
(``[rte] html = "trusted"``). Benign values come out unchanged, so the reference output of
@contentstack/utils is kept for ordinary content.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

__all__ = ["BLOCKED_URL", "escape_attr", "safe_style", "safe_url", "sanitize_html"]

BLOCKED_URL = "about:blank#blocked"
"""What a refused URL becomes: an empty page that loads nothing and says why."""

SAFE_SCHEMES = frozenset(["http", "https", "mailto", "tel", "ftp"])
_SAFE_DATA = re.compile(r"data:image/(png|gif|jpeg|webp)[;,]", re.IGNORECASE)
# Browsers drop ASCII tab/newline anywhere and C0 controls/space at the ends of a URL; we drop
# every control, space and invisible format character anywhere before reading the scheme.
_INVISIBLE = re.compile(
    "[\x00-\x20\x7f-\xa0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]+"
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def safe_url(value: str) -> str:
    """``value`` if it is relative or uses an allowed scheme, else :data:`BLOCKED_URL`.

    Entities (``&#106;``, ``&colon;``) are decoded and invisible characters removed first,
    because the browser does the same before it reads the scheme (``java&#9;script:``).
    ``data:`` is allowed only for PNG, GIF, JPEG and WebP images.
    """
    if not value:
        return value
    bare = _INVISIBLE.sub("", unescape(unescape(value)))
    match = _SCHEME.match(bare)
    if match is None:
        # No scheme: relative, or something browsers cannot read as a scheme (``%6Aava...``).
        return value if ":" not in re.split(r"[/?#]", bare, maxsplit=1)[0] else BLOCKED_URL
    scheme = match.group(1).lower()
    if scheme in SAFE_SCHEMES:
        return value
    if scheme == "data" and _SAFE_DATA.match(bare):
        return value
    return BLOCKED_URL


_CSS_ESCAPE = re.compile(r"\\([0-9a-f]{1,6})\s?|\\(.)", re.IGNORECASE | re.DOTALL)
_CSS_DANGER = re.compile(
    r"expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding|@import|url\s*\(",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)


def _css_unescape(match: re.Match[str]) -> str:
    """One CSS escape (``\\65`` or ``\\e``) as the character it stands for."""
    if match.group(1):
        code = int(match.group(1), 16)
        return chr(code) if 0 < code < 0x110000 else "\ufffd"
    return match.group(2)


def safe_style(value: str) -> str:
    """``value`` unless it could run script or load a hostile URL, in which case "".

    ``expression(``, ``javascript:``, ``behavior:``, ``-moz-binding`` and ``@import`` are refused
    after entities and CSS escapes are decoded; ``url(...)`` only with a safe URL. A comment
    (``/*``, raw or spelled with escapes) refuses the value: where a comment starts depends on
    how the browser tokenizes escapes, strings and ``url(``, so a checker that strips comments
    its own way can be shown a different declaration than the browser reads.
    """
    if not value:
        return value
    css = _CSS_ESCAPE.sub(_css_unescape, unescape(value))
    if "/*" in css:
        return ""
    css = _INVISIBLE.sub("", css)
    if not _CSS_DANGER.search(css):
        return value
    without_urls = _CSS_URL.sub("", css)
    if _CSS_DANGER.search(without_urls):
        return ""
    for match in _CSS_URL.finditer(css):
        if safe_url(match.group(2)) == BLOCKED_URL:
            return ""
    return value


def escape_attr(value: str) -> str:
    """Escape the characters that could end a quoted attribute or a tag (not ``&``).

    ``&`` stays as it is so URLs keep the reference's bytes; an entity inside a double-quoted
    value cannot close it.
    """
    return value.translate(_ATTR_ESCAPES)


_ATTR_ESCAPES = str.maketrans({'"': "&quot;", "'": "&#39;", "<": "&lt;", ">": "&gt;"})


# --------------------------------------------------------------------------------------------
# HTML allowlist
# --------------------------------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    """A set of tag or attribute names from a space-separated list."""
    return frozenset(text.split())


ALLOWED_TAGS = _names(
    "a abbr b blockquote br caption cite code col colgroup dd del div dl dt em figcaption "
    "figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strike "
    "strong sub sup table tbody td tfoot th thead time tr u ul var fragment"
)
ALLOWED_ATTRS = _names(
    "class id title lang dir style role href target rel name src alt width height colspan "
    "rowspan scope headers span start reversed value datetime cite type content-type-uid "
    "sys-style-type asset_uid"
)
URL_ATTRS = frozenset(["href", "src", "cite"])
# Dropped together with everything inside them (their content is code or raw text). Others,
# such as head, select and frameset, are unwrapped: left unclosed they would drop the rest.
DROPPED_WITH_CONTENT = _names(
    "script style iframe object embed applet template noscript noembed noframes textarea "
    "title xmp plaintext svg math"
)
_NUL_ENCLOSED = re.compile("\x00[^\x00]*\x00")
VOID_TAGS = _names("br hr img col wbr area base embed input link meta param source track frame")


def _attr_allowed(name: str) -> bool:
    """Allowed names, plus ``data-*`` and ``aria-*`` (never read as code by the browser)."""
    if name in ALLOWED_ATTRS:
        return True
    return (name.startswith("data-") or name.startswith("aria-")) and name.replace(
        "-", ""
    ).isalnum()


def _escape_text(text: str) -> str:
    """Text node escaping (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Sanitizer(HTMLParser):
    """Streams HTML into canonical markup that holds only allowlisted tags and attributes.

    Nothing is copied through as written: every kept tag is re-serialized with escaped,
    double-quoted values, so the browser parses the output exactly as it is built here.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip: list[str] = []  # open elements dropped with their content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep an allowed tag with its allowed attributes; start skipping dangerous ones."""
        if self.skip or tag in DROPPED_WITH_CONTENT:
            if tag not in VOID_TAGS and tag in DROPPED_WITH_CONTENT:
                self.skip.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return
        parts = [f"<{tag}"]
        seen: set[str] = set()
        for name, value in attrs:
            if name in seen or not _attr_allowed(name):
                continue
            seen.add(name)
            # NUL marks the renderer's placeholders for embed-template output, which must only
            # ever land in text: one in a value is dropped; any other NUL reads as U+FFFD.
            value = _NUL_ENCLOSED.sub("", value or "").replace("\x00", "\ufffd")
            if name in URL_ATTRS:
                value = safe_url(value)
            elif name == "style":
                value = safe_style(value)
                if not value:
                    continue
            parts.append(f' {name}="{escape_attr(value.replace("&", "&amp;"))}"')
        parts.append(" />" if tag in VOID_TAGS else ">")
        self.out.append("".join(parts))

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """``<![`` that html.parser cannot name (``<![=``, ``<![x y``) makes it raise
        AssertionError; keep the ``<`` as text instead and read on."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            self.handle_data("<")
            return i + 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """``<br/>`` and friends; a self-closing dangerous tag has no content to skip."""
        if tag in DROPPED_WITH_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and tag in ALLOWED_TAGS and not self.skip:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        """Close a kept tag, or stop skipping when the dropped element ends."""
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        """Text, escaped (outside dropped elements)."""
        if not self.skip:
            self.out.append(_escape_text(data))


def sanitize_html(html: str) -> str:
    """``html`` reduced to the allowlist: unknown tags unwrapped, dangerous ones removed with
    their content, event handlers and unknown attributes dropped, hostile URLs and styles
    neutralized, comments removed."""
    if not html:
        return html
    parser = _Sanitizer()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
