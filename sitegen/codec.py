"""JSON text for content: canonical dumps for hashing and storage, fast loads.

A full build encodes every delivered entry once and decodes every stored one at least once,
so this runs tens of thousands of times per build. orjson does both in C (sorting keys as
well); the standard library remains the fallback for the values orjson refuses (integers
beyond 64 bits, strings holding lone surrogates), so any JSON the CDA delivers is stored.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    """Canonical JSON: the same data always gives the same text (and hash).

    Keys sorted, no spaces, non-ASCII as is; the same text as ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` for delivered content.
    """
    try:
        return orjson.dumps(value, option=_SORTED).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def loads(text: str | bytes) -> Any:
    """Decode JSON text (raises ``ValueError`` on invalid input, as ``json.loads`` does)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # what orjson refuses but Python accepts (NaN, surrogates)
