"""Image sizes for include_dimension, read from file headers."""

from __future__ import annotations

import struct
import zlib

import pytest

from sitegen.stack.dimensions import image_size


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


@pytest.mark.parametrize(
    ("name", "data", "size"),
    [
        ("a.png", png(50, 40), (50, 40)),
        ("a.gif", b"GIF89a" + struct.pack("<HH", 31, 17) + b"\x00" * 8, (31, 17)),
        ("a.jpg", jpeg(640, 480), (640, 480)),
        (
            "a.webp",
            b"RIFF\x00\x00\x00\x00WEBPVP8X"
            + b"\x00" * 8
            + (99).to_bytes(3, "little")
            + (49).to_bytes(3, "little"),
            (100, 50),
        ),
        ("a.svg", b'<?xml version="1.0"?><svg xmlns="x" width="120px" height="80">', (120, 80)),
        ("b.svg", b'<svg viewBox="0 0 800 450" xmlns="x"></svg>', (800, 450)),
        ("c.svg", b'<svg width="100%" height="100%"></svg>', None),
        ("a.txt", b"hello", None),
    ],
)
def test_image_sizes(tmp_path, name, data, size):
    path = tmp_path / name
    path.write_bytes(data)
    assert image_size(path) == size


def test_a_missing_file_has_no_size(tmp_path):
    assert image_size(tmp_path / "nope.png") is None
