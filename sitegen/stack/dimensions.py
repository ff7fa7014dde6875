"""Image sizes for ``include_dimension=true``: an asset's ``dimension: {"height", "width"}``.

Read from the first bytes of the file the folder holds (PNG, GIF, JPEG, WebP, and SVG's
``width``/``height`` or ``viewBox``); an asset known only by its URL has none. No image
library: the headers are a few fixed fields.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

HEAD = 64 * 1024  # enough for any JPEG's frame header in practice, and an SVG's root element
SVG_ROOT = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE | re.DOTALL)
SVG_ATTR = re.compile(rb"""\b(width|height|viewBox)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
SVG_LENGTH = re.compile(rb"^\s*([0-9.]+)\s*(px)?\s*$")


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image file, or None when it is not one this can read."""
    try:
        with path.open("rb") as f:
            head = f.read(HEAD)
    except OSError:
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"\xff\xd8"):
        return _jpeg(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    match = SVG_ROOT.search(head)
    return _svg(match.group(0)) if match else None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    if chunk == b"VP8 " and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _svg(root: bytes) -> tuple[int, int] | None:
    attrs = {name.lower(): value for name, value in SVG_ATTR.findall(root)}
    width, height = attrs.get(b"width"), attrs.get(b"height")
    if width and height:
        w, h = SVG_LENGTH.match(width), SVG_LENGTH.match(height)
        if w and h:
            return round(float(w.group(1))), round(float(h.group(1)))
    box = attrs.get(b"viewbox")
    if box:
        parts = box.replace(b",", b" ").split()
        if len(parts) == 4:
            try:
                return round(float(parts[2])), round(float(parts[3]))
            except ValueError:
                return None
    return None
