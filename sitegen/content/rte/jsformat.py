"""JavaScript value semantics that the reference library's output depends on.

@contentstack/utils builds its HTML with template strings, so the output carries JavaScript's
``String()`` of numbers, lists and objects, its truthiness in ``a || b`` fallbacks, its object
key order, ``toFixed`` rounding, ``encodeURI`` and the library's style-object stringifier.
Reproducing them here is what keeps sitegen's output byte-identical to the reference's. A
missing key is :data:`_UNDEF` (rendered "undefined"), distinct from JSON null.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote


class _Undefined:
    """Marks a missing key, which JavaScript renders as "undefined" (JSON null is "null")."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


_UNDEF: Any = _Undefined()


def _truthy(value: Any) -> bool:
    """JavaScript truthiness: empty lists and objects are true, 0/""/null/undefined false."""
    if value is True:
        return True
    if value is None or value is False or value is _UNDEF:
        return False
    if type(value) is str:
        return value != ""
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def _or(*values: Any) -> Any:
    """JavaScript ``a || b || c``: the first truthy value, else the last one."""
    for value in values[:-1]:
        if _truthy(value):
            return value
    return values[-1]


def _js_number(value: float) -> str:
    """JavaScript Number::toString: shortest round-trip digits, exponent past 1e21."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + int(exponent)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if n - 1 > 0 else '-'}{abs(n - 1)}"


def _js_str(value: Any) -> str:
    """JavaScript ``String(value)`` / template interpolation for JSON-like values."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is _UNDEF:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 2**53 else _js_number(float(value))
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None or v is _UNDEF else _js_str(v) for v in value)
    if _is_mapping(value):
        return "[object Object]"
    return str(value)


def _js_keys(obj: Mapping) -> list:
    """Own-key order of a JavaScript object: array-index keys ascending, then insertion order."""
    index_keys, other_keys = [], []
    for key in obj:
        if (
            isinstance(key, str)
            and key.isdigit()
            and (key == "0" or key[0] != "0")
            and int(key) < 2**32 - 1
        ):
            index_keys.append(key)
            continue
        other_keys.append(key)
    if not index_keys:
        return other_keys
    return sorted(index_keys, key=int) + other_keys


def _js_to_fixed2(value: float) -> str:
    """JavaScript ``Number.prototype.toFixed(2)``: exact decimal value, ties away from zero."""
    if value != value:
        return "NaN"
    if abs(value) >= 1e21:
        return _js_number(value)
    if value == 0:
        value = 0.0
    return format(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


_URI_SAFE = "-_.!~*'();/?:@&=+$,#"


def _encode_uri(value: str) -> str:
    """JavaScript ``encodeURI`` (which also re-encodes an existing ``%``)."""
    return quote(value, safe=_URI_SAFE, errors="surrogatepass")


def _get(mapping: Mapping, key: str) -> Any:
    """Property access that tells a missing key (undefined) from JSON null."""
    return mapping.get(key, _UNDEF)


def _is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, with plain dicts kept off the slow ABC check."""
    return type(value) is dict or isinstance(value, Mapping)


_EMPTY: Mapping = {}


def _as_mapping(value: Any) -> Mapping:
    """Node attrs as a mapping; a missing or malformed ``attrs`` behaves like ``{}``."""
    return value if _is_mapping(value) else _EMPTY


def _style_text(style: Any) -> str:
    """The reference's styleObjectToString: objects become ``key:value;`` pairs."""
    if not _truthy(style):
        return ""
    if isinstance(style, str):
        return style
    if _is_mapping(style):
        return "".join(f"{key}:{_js_str(style[key])};" for key in _js_keys(style))
    if isinstance(style, list):
        return "".join(f"{index}:{_js_str(value)};" for index, value in enumerate(style))
    return ""
