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
    """:func:`dumps` of an object, and where in that text the value of each of its keys not
    in ``skip`` is: [start, end, start, end, …] in key order (None when the text came from
    the fallback encoder, whose pieces this does not measure).

    orjson writes an object as ``{"key":value,…}`` with each value as it writes that value
    alone, so the spans follow from the lengths of the pieces.
    """
    try:
        whole = orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return dumps(value), None
    try:
        text = whole.decode()
    except UnicodeDecodeError:
        return dumps(value), None
    ascii_only = len(text) == len(whole)  # then bytes and characters count alike
    spans: list[int] = []
    at = 1  # after "{"
    for key in sorted(value):
        piece = orjson.dumps(value[key], option=_SORTED)
        size = len(piece) if ascii_only else len(piece.decode())
        start = at + len(orjson.dumps(key) if ascii_only else orjson.dumps(key).decode()) + 1
        at = start + size + 1  # past the "," (or the closing "}")
        if key not in skip:
            spans += (start, start + size)
    return text, spans


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
