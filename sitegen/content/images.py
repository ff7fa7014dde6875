"""Contentstack Images API URLs for templates: ``image_url()`` and ``srcset()``.

Assets served from Contentstack's image and asset hosts (``images.contentstack.io``,
``assets.contentstack.io`` and the regional ``<region>-images.contentstack.com`` /
``<region>-assets.contentstack.com``) accept transformation parameters in the query string.
Any other URL (a local stack's ``/assets/<uid>/<file>``, an external image) is passed through
unchanged, since its server would ignore or reject them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IMAGE_HOSTS = frozenset({"images.contentstack.io", "assets.contentstack.io"})
REGIONAL_HOST = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-(?:images|assets)\.contentstack\.com$")

FORMATS = ("jpg", "pjpg", "png", "webp", "webply", "gif", "auto")
FITS = ("bounds", "crop")
AUTOS = ("webp", "avif")
DEFAULT_WIDTHS = (320, 640, 960, 1280)

# the order the parameters appear in the query string
_PARAMS = ("width", "height", "format", "quality", "fit", "auto")


def asset_url(asset: Any) -> str:
    """The URL of an asset (a Mapping with ``url``) or of a URL string; "" for None/undefined."""
    if isinstance(asset, str):
        return asset
    if isinstance(asset, Mapping):
        url = asset.get("url")
        if url is None or not url:  # None, "" or a Jinja Undefined
            return ""
        if not isinstance(url, str):
            raise ValueError(f"image_url(): the asset's url must be a string, got {url!r}")
        return url
    if asset is None or not asset:  # None or a Jinja Undefined (falsy)
        return ""
    raise ValueError(f"image_url(): expected an asset (with a url) or a URL string, got {asset!r}")


def is_image_host(url: str) -> bool:
    """True when ``url`` is on one of Contentstack's image/asset hosts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https", "") or not parts.netloc:
        return False
    host = (parts.hostname or "").lower()
    return host in IMAGE_HOSTS or REGIONAL_HOST.match(host) is not None


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"image_url(): {name} must be a positive integer, got {value!r}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"image_url(): {name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def image_params(
    width: Any = None,
    height: Any = None,
    format: Any = None,  # the Images API's parameter name
    quality: Any = None,
    fit: Any = None,
    auto: Any = None,
) -> list[tuple[str, str]]:
    """Validated Images API parameters, in query order, for those given (not None)."""
    values: dict[str, str] = {}
    if width is not None:
        values["width"] = str(_positive_int("width", width))
    if height is not None:
        values["height"] = str(_positive_int("height", height))
    if format is not None:
        values["format"] = _choice("format", format, FORMATS)
    if quality is not None:
        if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
            raise ValueError(
                f"image_url(): quality must be an integer from 1 to 100, got {quality!r}"
            )
        values["quality"] = str(quality)
    if fit is not None:
        values["fit"] = _choice("fit", fit, FITS)
    if auto is not None:
        values["auto"] = _choice("auto", auto, AUTOS)
    return [(name, values[name]) for name in _PARAMS if name in values]


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended; existing parameters of the same names are replaced,
    the others kept as written."""
    if not params:
        return url
    parts = urlsplit(url)
    names = {name for name, _ in params}
    kept = [
        piece for piece in parts.query.split("&") if piece and piece.split("=", 1)[0] not in names
    ]
    query = "&".join(kept + [f"{name}={value}" for name, value in params])
    return urlunsplit(parts._replace(query=query))


def image_url(
    asset: Any,
    width: Any = None,
    height: Any = None,
    format: Any = None,  # the Images API's parameter name
    quality: Any = None,
    fit: Any = None,
    auto: Any = None,
) -> str:
    """An Images API URL for an asset or URL; other hosts' URLs are returned unchanged.

    Parameters are validated whatever the host, so a template that works against a local
    stack also works against Contentstack.
    """
    params = image_params(width, height, format, quality, fit, auto)
    url = asset_url(asset)
    if not url or not is_image_host(url):
        return url
    return _with_query(url, params)


def srcset(asset: Any, widths: Iterable[Any] = DEFAULT_WIDTHS, **params: Any) -> str:
    """``"<url> 320w, <url> 640w, …"`` for an image host; the URL alone for other hosts."""
    if "width" in params:
        raise ValueError("srcset(): the widths come from the widths argument; drop width=")
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise ValueError(f"srcset(): unknown image parameter {unknown[0]!r}")
    widths = list(widths)
    if not widths:
        raise ValueError("srcset(): widths must not be empty")
    for width in widths:
        _positive_int("width", width)
    url = image_url(asset, **params)
    if not url or not is_image_host(url):
        return url
    return ", ".join(f"{image_url(asset, width=width, **params)} {width}w" for width in widths)
