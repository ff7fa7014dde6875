"""JSON text for content: canonical dumps for hashing and storage, fast loads.

A full build encodes every delivered entry once and decodes every stored one at least once,
so this runs tens of thousands of times per build. orjson does both in C (sorting keys as
well); the standard library remains the fallback for the values orjson refuses (integers
beyond 64 bits, strings holding lone surrogates), so any JSON the CDA delivers is stored.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Container, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
DEEPEST = 5_000  # nesting levels the fallback decodes and encodes


class TooDeep(ValueError):
    """JSON nested past :data:`DEEPEST` levels: well-formed, perhaps, but not read."""


def dumps(value: Any) -> str:
    """Canonical JSON: the same data always gives the same text (and hash).

    Keys sorted, no spaces, non-ASCII as is; the same text as ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` for delivered content.
    """
    try:
        return orjson.dumps(value, option=_SORTED).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        with _deep():  # orjson stops at 255 levels; rich text can nest deeper
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def dumps_fields(value: dict[str, Any], skip: Container[str]) -> tuple[str, list[int] | None]:
    """:func:`dumps` of an object, and where in that text's UTF-8 bytes the value of each of
    its keys not in ``skip`` is: [start, end, start, end, …] in key order (None when a value
    needs the fallback encoder).

    The text is built from its pieces, as orjson writes an object (``{"key":value,…}``, each
    value as written alone), so the spans come from their lengths; when a piece needs the
    fallback, the whole object takes it, as :func:`dumps` would.
    """
    try:
        keys = sorted(value)
        pieces = [
            orjson.dumps(key) + b":" + orjson.dumps(value[key], option=_SORTED) for key in keys
        ]
    except (orjson.JSONEncodeError, TypeError):
        return dumps(value), None
    spans: list[int] = []
    at = 1  # after "{"
    for key, piece in zip(keys, pieces, strict=True):
        end = at + len(piece)
        if key not in skip:  # the value follows its key and ":"
            spans += (at + len(orjson.dumps(key)) + 1, end)
        at = end + 1  # past the ","
    return (b"{" + b",".join(pieces) + b"}").decode(), spans


def loads(text: str | bytes) -> Any:
    """Decode JSON text (raises ``ValueError`` on invalid input, as ``json.loads`` does)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # what orjson refuses but Python accepts: NaN, lone surrogates, over 1,024 levels
        with _deep():
            return json.loads(text)


@contextmanager
def _deep() -> Iterator[None]:
    """Room for documents nested up to DEEPEST levels (a 1,000-level JSON-RTE document is
    2,000), and :class:`TooDeep` rather than ``RecursionError`` beyond: bad input, not a crash."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEPEST + 200))
    try:
        yield
    except RecursionError:
        raise TooDeep(f"JSON nested more than {DEEPEST:,} levels deep") from None
    finally:
        sys.setrecursionlimit(limit)
