"""Markdown fields to HTML: CommonMark plus tables, through markdown-it-py.

Two additions every docs reader expects, both done at build time so pages need no JavaScript:
headings get ``id`` anchors (for links and the on-page table of contents, :func:`headings`),
and fenced code with a language is highlighted by Pygments into ``<span class="…">`` tokens
that the site's stylesheet colours (the starters ship a light and a dark palette).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import NamedTuple

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound


class Heading(NamedTuple):
    """A heading of a Markdown text: its level (2 for ``##``), anchor id and plain text."""

    level: int
    id: str
    text: str


@cache
def _parser() -> MarkdownIt:
    # "commonmark" disables raw-HTML-unsafe extras we do not want; tables are a GFM addition
    # every docs site expects. Raw HTML stays allowed as in CommonMark (editors are trusted
    # authors; see the trust model in the docs).
    md = MarkdownIt("commonmark", {"highlight": _highlight}).enable("table")
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def render_markdown(text: str | None) -> str:
    """Render a markdown field; None (an empty field) renders as an empty string."""
    if not text:
        return ""
    return _render(text)


@lru_cache(maxsize=2048)
def _render(text: str) -> str:
    # The same text is rendered again for every locale that falls back to it, and for every
    # listing or feed that shows it: the output depends on the text alone.
    return _parser().render(text)


def headings(text: str | None, levels: tuple[int, ...] = (2, 3)) -> list[Heading]:
    """The headings of a Markdown text with the ids :func:`render_markdown` gives them."""
    if not text:
        return []
    return [h for h in _headings(text) if h.level in levels]


@lru_cache(maxsize=2048)
def _headings(text: str) -> tuple[Heading, ...]:
    tokens = _parser().parse(text)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[i + 1]
            found.append(Heading(int(token.tag[1]), token.attrGet("id") or "", _plain(inline)))
    return tuple(found)


def _heading_ids(state: StateCore) -> None:
    """Give every heading an id from its text ("Full builds" → "full-builds"), unique per text."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.attrGet("id"):
            continue
        base = slugify(_plain(tokens[i + 1])) or "section"
        count = seen.get(base, 0)
        seen[base] = count + 1
        token.attrSet("id", base if count == 0 else f"{base}-{count}")


def _plain(inline) -> str:
    """The text of an inline token: code spans and text, without markup."""
    return "".join(
        child.content for child in inline.children or () if child.type in ("text", "code_inline")
    )


def slugify(text: str) -> str:
    """Lower-case words joined by "-": letters (any script), digits, "_" and "-" are kept."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s-]+", "-", text).strip("-")


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """A fenced block in a language Pygments knows, as highlighted HTML; others stay plain."""
    name = (lang or "").strip().lower()
    if not name:
        return ""
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return ""  # markdown-it escapes and wraps it as usual
    body = highlight(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{escapeHtml(name)}">{body}</code></pre>\n'


@cache
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True)
