"""Markdown fields to HTML: CommonMark plus tables, through markdown-it-py."""

from __future__ import annotations

from functools import cache, lru_cache

from markdown_it import MarkdownIt


@cache
def _parser() -> MarkdownIt:
    # "commonmark" disables raw-HTML-unsafe extras we do not want; tables are a GFM addition
    # every docs site expects. Raw HTML stays allowed as in CommonMark (editors are trusted
    # authors; see the README's trust model).
    return MarkdownIt("commonmark").enable("table")


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
