"""Sort keys as bytes: comparing the bytes orders entries as comparing their sort values does.

``sort_value`` gives tuples like ``(3, timestamp, text)``; for SQLite to keep and order them
(an index, ``ORDER BY … LIMIT``) they are encoded so that ``memcmp`` order is tuple order:
a type tag, then numbers as sign-adjusted big-endian doubles and text as NUL-escaped UTF-8
with a terminator. Each field's encoding is prefix-free, so a descending field is its
bytes inverted, and the uid last breaks ties, as ``[[pages]] sort`` does.
"""

from __future__ import annotations

import re
import struct

FIELD_UID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INVERT = bytes(range(255, -1, -1))  # bytes.translate table: every byte to 255 - byte


def order_key(values: list[tuple], descending: list[bool], uid: str) -> bytes:
    """The key of one entry: its sort values (as ``sort_value`` gives them), then its uid."""
    parts = []
    for value, desc in zip(values, descending, strict=True):
        encoded = _value(value)
        parts.append(encoded.translate(INVERT) if desc else encoded)
    parts.append(_text(uid))
    return b"".join(parts)


def _value(value: tuple) -> bytes:
    tag = value[0]
    head = bytes((tag,))
    if tag == 0:  # no value
        return head
    if tag == 1:  # a boolean
        return head + (b"\x01" if value[1] else b"\x00")
    if tag == 2:  # a number
        return head + _number(value[1])
    if tag == 3:  # a date or time: its moment, then its text
        return head + _number(value[1]) + _text(value[2])
    return head + _text(value[1])  # text, or an object or array as canonical JSON


def _number(number: float) -> bytes:
    try:
        packed = struct.pack(">d", float(number) + 0.0)  # + 0.0: -0.0 equals 0.0
    except OverflowError:  # an integer beyond any double
        packed = struct.pack(">d", float("inf") if number > 0 else float("-inf"))
    if packed[0] & 0x80:  # negative: larger magnitudes first
        return packed.translate(INVERT)
    return bytes((packed[0] | 0x80,)) + packed[1:]


def _text(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff") + b"\x00\x00"


def parse_sort(sort: object) -> tuple[tuple[str, bool], ...] | None:
    """``"-date"`` or ``["-date", "title"]`` as ((field, descending), …); None if malformed.

    The one reading of a sort spec, for ``[[pages]] sort`` and ``entries(sort=…)``.
    """
    fields = [sort] if isinstance(sort, str) else sort
    if not isinstance(fields, list | tuple) or not all(
        isinstance(f, str) and f.lstrip("-").strip() for f in fields
    ):
        return None
    return tuple((f.lstrip("-").strip(), f.startswith("-")) for f in fields)
