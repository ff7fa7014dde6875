"""The entry point: render a rich-text field value, whichever form it takes.

A module of its own because it needs both renderers, which need nothing of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.content.rte.embedded import EmbeddedItems, EmbedRenderer
from sitegen.content.rte.errors import RteError, _describe
from sitegen.content.rte.html_rte import render_html_rte
from sitegen.content.rte.json_rte import _is_doc, render_json_rte


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
