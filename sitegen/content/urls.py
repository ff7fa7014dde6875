"""Page URLs and the output files they map to.

A url field comes from the CMS, so it is untrusted: it must be a relative web path that stays
inside the output folder whatever the editor typed (``..``, backslashes, ``//host``, encoded
traversal, control characters are refused with the entry named).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sitegen.errors import BuildError

FILE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
MAX_SEGMENT_BYTES = 255


def check_url(url: object, where: str) -> str:
    """Return ``url`` if it is a safe site path like ``/blog/post/``; else raise BuildError.

    ``where`` names the entry (content type, uid, locale) in the message.
    """
    if not isinstance(url, str):
        raise BuildError(f"{where}: url must be a text field, got {type(url).__name__}")
    problem = _url_problem(url)
    if problem:
        raise BuildError(f"{where}: url {url!r} {problem}; fix the entry's url field")
    return url


def _url_problem(url: str) -> str | None:
    if not url.startswith("/"):
        return "must start with '/' (a path relative to the site root)"
    if url.startswith("//"):
        return "starts with '//', which browsers read as another host"
    if "\\" in url:
        return "contains a backslash"
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains a control character"
    if "?" in url or "#" in url:
        return "contains '?' or '#'; a page url is a path only"
    decoded = unquote(url)
    if "\\" in decoded or "\x00" in decoded:
        return "contains an encoded backslash or NUL"
    for segment in decoded.split("/")[1:]:
        if segment in (".", ".."):
            return "contains a '.' or '..' segment, which would leave its folder"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"has a path segment over {MAX_SEGMENT_BYTES} bytes"
    if "//" in url:
        return "contains an empty path segment ('//')"
    return None


def output_file(url: str, prefix: str = "") -> str:
    """The file (relative to the output folder, '/'-separated) that serves ``prefix + url``.

    ``/blog/x/`` and ``/blog/x`` become ``blog/x/index.html``; ``/feed.xml`` stays a file.
    """
    path = unquote(prefix + url).lstrip("/")
    if not path or path.endswith("/"):
        return path + "index.html"
    last = path.rsplit("/", 1)[-1]
    if FILE_SUFFIX.search(last):
        return path
    return path + "/index.html"


def page_url(url: str, prefix: str = "") -> str:
    """The public URL path of a page in a locale (``/fr`` + ``/blog/x/``)."""
    return prefix + url if url != "/" or not prefix else prefix + "/"
