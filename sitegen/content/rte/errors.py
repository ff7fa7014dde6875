"""The one exception rich-text rendering raises, and the nesting limit behind one of its causes.

Kept apart from the renderers so that the JSON-RTE and HTML-RTE renderers and the entry point
share one error type (and one way of describing a bad value) without importing each other.
"""

from __future__ import annotations

from typing import Any

from sitegen.content.rte.jsformat import _is_mapping

MAX_DEPTH = 128
"""How deep JSON-RTE nodes may nest; real documents stay far below, a hostile one is refused
with a clear error instead of exhausting Python's stack."""


class RteError(TypeError, ValueError):
    """A rich-text value the renderer refuses: not rich text, or nested too deeply.

    The one exception rendering raises for any input (a ``TypeError`` for a value that is not
    rich text, a ``ValueError`` for one it cannot render), so callers catch one type.
    """


def _describe(value: Any) -> str:
    """A short description of a bad value for error messages."""
    if _is_mapping(value):
        return (
            f"a dict with type {value.get('type')!r}"
            if "type" in value
            else "a dict without a type"
        )
    return type(value).__name__
