"""Page URLs and the output files they map to.

A url field comes from the CMS, so it is untrusted: it must be a relative web path that stays
inside the output folder whatever the editor typed (``..``, backslashes, ``//host``, encoded
traversal, control characters, Windows reserved names and characters, segments ending in a dot
or space are refused with the entry named). Two pages whose files differ only by case are
refused by the page store (see :func:`case_key`): on macOS and Windows they are one file.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from sitegen.errors import BuildError

FILE_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
MAX_SEGMENT_BYTES = 255
# Device names Windows reserves in every folder, with or without an extension ("con.html").
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{name}{digit}" for name in ("COM", "LPT") for digit in "0123456789\u00b9\u00b2\u00b3"]
)
WINDOWS_FORBIDDEN = frozenset('<>:"|*')


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
    if "%2f" in url.lower():
        return "contains an encoded '/' (%2F), which servers treat differently"
    decoded = unquote(url)
    if "\\" in decoded or "\x00" in decoded:
        return "contains an encoded backslash or NUL"
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return "contains an encoded control character"
    if "?" in decoded or "#" in decoded:
        return "contains an encoded '?' or '#', which a server would not map back to the file"
    for segment in decoded.split("/")[1:]:
        if segment in (".", ".."):
            return "contains a '.' or '..' segment, which would leave its folder"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"has a path segment over {MAX_SEGMENT_BYTES} bytes"
        problem = _windows_problem(segment)
        if problem:
            return problem
    if "//" in url:
        return "contains an empty path segment ('//')"
    return None


def _windows_problem(segment: str) -> str | None:
    """Why a segment cannot be a file name on Windows (sites are often built or synced there)."""
    if not segment:
        return None
    if segment[-1] in ". ":
        return f"has a segment {segment!r} ending in a dot or space, which Windows drops"
    bad = WINDOWS_FORBIDDEN.intersection(segment)
    if bad:
        return f"contains {''.join(sorted(bad))!r}, not allowed in Windows file names"
    if segment.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        return f"has a segment {segment!r} that is a reserved device name on Windows"
    return None


def case_key(file: str) -> str:
    """The key under which two output files collide on a case-insensitive file system."""
    return file.casefold()


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
