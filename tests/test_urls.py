"""Page urls from the CMS are untrusted: only safe site paths become output files."""

from __future__ import annotations

import pytest

from sitegen.content.urls import check_url, output_file, page_url
from sitegen.errors import BuildError


@pytest.mark.parametrize(
    ("url", "prefix", "file"),
    [
        ("/", "", "index.html"),
        ("/", "/fr", "fr/index.html"),
        ("/blog/x/", "", "blog/x/index.html"),
        ("/blog/x", "", "blog/x/index.html"),
        ("/feed.xml", "", "feed.xml"),
        ("/v1.2", "", "v1.2/index.html"),
        ("/blog/caf%C3%A9/", "/fr", "fr/blog/café/index.html"),
    ],
)
def test_output_file(url: str, prefix: str, file: str):
    assert output_file(check_url(url, "e"), prefix) == file


def test_page_url_with_prefix():
    assert page_url("/", "/fr") == "/fr/"
    assert page_url("/blog/x/", "/fr") == "/fr/blog/x/"
    assert page_url("/blog/x/", "") == "/blog/x/"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("blog/x", "must start with '/'"),
        ("//evil.example/x", "another host"),
        ("/a/../../etc/passwd", "'..' segment"),
        ("/a/%2e%2e/%2e%2e/x", "'..' segment"),
        ("/a\\b", "backslash"),
        ("/a%5cb", "encoded backslash"),
        ("/a\x00b", "control character"),
        ("/a%00b", "NUL"),
        ("/a?x=1", "path only"),
        ("/" + "a" * 256, "over 255 bytes"),
        ("/a//b", "empty path segment"),
        ("/a/%2F/b/", "encoded '/'"),  # a///b on disk: would dodge the duplicate-page check
        ("/a/%2f%2fevil.example", "encoded '/'"),
        ("/a%2Fb/", "encoded '/'"),
        ("/conin$/", "reserved device name"),
        ("/CONOUT$.html", "reserved device name"),
        ("/com0/", "reserved device name"),
        ("/LPT0.txt", "reserved device name"),
        (42, "must be a text field"),
    ],
)
def test_unsafe_urls_are_refused_with_the_entry_named(url: object, problem: str):
    with pytest.raises(BuildError) as caught:
        check_url(url, "entry 'p1' of content type 'page' in en-us")
    assert problem in str(caught.value)
    assert "entry 'p1' of content type 'page' in en-us" in str(caught.value)
