"""Hostile content from the CMS: sanitized or refused with the entry named, never escaping the
output folder, never running script in a visitor's browser, never hanging the build."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.content.rte import MAX_DEPTH, EmbedContext, RteError, render_rte
from sitegen.content.sanitize import BLOCKED_URL, safe_style, safe_url, sanitize_html
from sitegen.content.urls import check_url
from sitegen.errors import APIError, BuildError, ConfigError
from sitegen.stack.app import create_app
from tests.sites import API_KEY, TOKEN, make_site, serve_app, write_json
from tests.test_build import tree

WHERE = "entry 'p1' of content type 'page' in en-us"


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def dangers(html: str) -> list[str]:
    """Script-capable tags, event-handler attributes and hostile URLs in ``html``."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "svg", "math", "object", "base", "meta", "form", "style"):
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"{tag} {name}")
            hostile = safe_url(value) == BLOCKED_URL and value != BLOCKED_URL
            if name in ("href", "src", "action") and hostile:
                found.append(f"{tag} {name}={value}")
            if name == "style" and safe_style(value) == "":
                found.append(f"{tag} style={value}")
    return found


# --------------------------------------------------------------------------------------------
# url fields
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/CON", "reserved device name"),
        ("/blog/nul.html", "reserved device name"),
        ("/a/com1/", "reserved device name"),
        ("/Aux.txt", "reserved device name"),
        ("/LPT1.tar.gz", "reserved device name"),
        ("/a/prn%2Ehtml", "reserved device name"),
        ("/a./b", "ending in a dot or space"),
        ("/a%20/b", "ending in a dot or space"),
        ("/a:b", "not allowed in Windows file names"),
        ("/a%7Cb", "not allowed in Windows file names"),
        ("/a%01b", "encoded control character"),
        ("/a%3Fb", "encoded '?' or '#'"),
        ("/a/%2E%2E/%2E%2E/etc", "'..' segment"),
        ("/" + "é" * 128, "over 255 bytes"),
    ],
)
def test_more_unsafe_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(BuildError) as caught:
        check_url(url, WHERE)
    assert problem in str(caught.value) and WHERE in str(caught.value)


@pytest.mark.parametrize("url", ["/console/", "/nullable", "/com10/", "/a.b/c", "/lpt/", "/v1.2"])
def test_names_that_only_look_reserved_are_fine(url: str) -> None:
    assert check_url(url, WHERE) == url


# --------------------------------------------------------------------------------------------
# URLs and styles
# --------------------------------------------------------------------------------------------

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " \tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\x00script:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "ja\u200bvascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "livescript:alert(1)",
]
SAFE_URLS = [
    "https://example.com/a?b=1&c=2",
    "http://example.com",
    "mailto:a@example.com",
    "tel:+331234",
    "/relative/path",
    "relative",
    "#anchor:with-colon",
    "?q=a:b",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:image/webp;base64,UklGR",
    "",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_are_blocked(url: str) -> None:
    assert safe_url(url) == BLOCKED_URL


@pytest.mark.parametrize("url", SAFE_URLS)
def test_safe_urls_are_kept_byte_for_byte(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "style",
    [
        "width: expression(alert(1))",
        "width: EXPRESSION (alert(1))",
        "width: exp/**/ression(alert(1))",
        "width: \\65 xpression(alert(1))",
        "background: url(javascript:alert(1))",
        "background: url('java\\9script:alert(1)')",
        "background-image: URL( &quot;vbscript:x&quot; )",
        "behavior: url(x.htc)",
        "-moz-binding: url(x.xml#xss)",
        "@import 'x.css'",
        # an escaped "/" starts no comment: the browser reads the behavior declaration
        "x:\\/*;behavior:url(x.htc);/*/",
        "x:\\2f*;behavior:url(x.htc);/*/",
        "content:'/*';behavior:url(x.htc);/*'*/",
        "background:url(/*);behavior:url(x.htc);*/)",
    ],
)
def test_dangerous_styles_are_dropped(style: str) -> None:
    assert safe_style(style) == ""
    assert sanitize_html(f'<p style="{escape(style)}">x</p>') == "<p>x</p>"


@pytest.mark.parametrize(
    "style", ["color: red;", "text-align:center;", "background:url(/a.png)", "width:50%"]
)
def test_plain_styles_are_kept(style: str) -> None:
    assert safe_style(style) == style


# --------------------------------------------------------------------------------------------
# JSON-RTE
# --------------------------------------------------------------------------------------------


def doc(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "attrs": {}, "children": list(children)}


def link(attrs: dict[str, Any], text: str = "x") -> dict[str, Any]:
    return {"type": "a", "attrs": attrs, "children": [{"text": text}]}


def para(*children: dict[str, Any], **attrs: Any) -> dict[str, Any]:
    return {"type": "p", "attrs": attrs, "children": list(children)}


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_json_rte_links_images_and_embeds_never_carry_a_hostile_url(url: str) -> None:
    html = render_rte(
        doc(
            link({"href": url}),
            para(link({"url": url})),
            {"type": "img", "attrs": {"src": url}, "children": [{"text": ""}]},
            {"type": "embed", "attrs": {"url": url}, "children": [{"text": ""}]},
        )
    )
    assert "script" not in html.lower().replace("<br />", "")
    assert html.count(f'"{BLOCKED_URL}"') == 4


@pytest.mark.parametrize("url", ["<x/>javascript:alert(1)", "java<x/>script:alert(1)"])
def test_json_rte_urls_are_checked_after_the_reference_sanitizer_rewrites_them(url: str) -> None:
    """The reference's regex sanitizer drops tags from URLs; the URL written out is checked."""
    entry = {
        "_embedded_items": {
            "body": [
                {"uid": "e1", "_content_type_uid": "post", "url": url},
                {"uid": "a1", "_content_type_uid": "sys_assets", "url": url},
            ]
        }
    }
    asset = {"type": "asset", "asset-uid": "a1", "content-type-uid": "sys_assets"}
    json_html = render_rte(
        doc(
            para(link({"href": url}), link({"url": url})),
            para({"type": "img", "attrs": {"src": url}, "children": [{"text": ""}]}),
            {"type": "embed", "attrs": {"src": url}, "children": [{"text": ""}]},
            *(
                {"type": "reference", "attrs": {**asset, "display-type": shown}, "children": []}
                for shown in ("display", "download")
            ),
        ),
        entry,
    )
    figure = (
        '<a class="embedded-entry" type="entry" data-sys-entry-uid="e1" '
        'data-sys-content-type-uid="post" sys-style-type="link">e</a>'
    )
    html_html = render_rte(figure, entry, trusted_html=False)
    for html in (json_html, html_html):
        assert "javascript" not in html.replace("<br />", "")
    assert json_html.count(f'"{BLOCKED_URL}"') == 6
    assert html_html == f'<a href="{BLOCKED_URL}">e</a>'


def test_json_rte_attribute_values_cannot_close_the_attribute_or_tag() -> None:
    breakouts = [
        'x" onmouseover="alert(1)',
        "x' onmouseover='alert(1)",
        "x><script>alert(1)</script>",
    ]
    for value in breakouts:
        attrs = {"href": value, "target": value, "class-name": value, "id": value}
        html = render_rte(
            doc(link(attrs), para(link(attrs)), para({"text": "t", "classname": value}))
        )
        assert "onmouseover=" not in html.replace("onmouseover=&", "")
        assert "<script" not in html
        assert '"alert' not in html and "'alert" not in html


def test_json_rte_sanitizer_regex_cannot_be_used_to_merge_attributes() -> None:
    # The reference's sanitizer drops ` name="..."` pairs it does not know; quotes in values
    # would let that removal pull a value out of its quotes.
    attrs = {"class-name": "a onx='b", "href": " onmouseover=alert(1) x"}
    html = render_rte(doc(para(link(attrs))))
    assert html.count('"') % 2 == 0
    assert "onmouseover=alert" not in html.replace('onmouseover=alert(1) x"', "")
    assert ' onmouseover=alert(1) x"' in html  # still inside href's quotes


@pytest.mark.parametrize(
    "style",
    [
        "width:expression(alert(1))",
        {"background": "url(javascript:alert(1))"},
        'color:red" onmouseover="alert(1)',
    ],
)
def test_json_rte_dangerous_styles_are_dropped(style: Any) -> None:
    html = render_rte(doc(para({"text": "x"}, style=style), link({"href": "/", "style": style})))
    assert "expression" not in html and "javascript" not in html
    assert 'onmouseover="' not in html


def test_json_rte_embedded_items_cannot_inject_markup() -> None:
    item = {
        "uid": "e1",
        "_content_type_uid": "post",
        "title": "<img src=x onerror=alert(1)>T",
        "url": "javascript:alert(1)",
    }
    entry = {"_embedded_items": {"body": [item]}}
    nodes = [
        {
            "type": "reference",
            "attrs": {
                "type": "entry",
                "display-type": display,
                "entry-uid": "e1",
                "content-type-uid": "post",
            },
            "children": [{"text": ""}],
        }
        for display in ("block", "inline", "link")
    ]
    asset_fallback = {
        "type": "reference",
        "attrs": {
            "type": "asset",
            "display-type": "display",
            "asset-uid": "missing",
            "asset-link": "javascript:alert(1)",
            "link": "vbscript:x",
            "asset-caption": "<svg onload=alert(1)>c",
            "class-name": 'x" onclick="alert(1)',
        },
        "children": [{"text": ""}],
    }
    displayed = {
        "type": "reference",
        "attrs": {"type": "asset", "display-type": "display", "asset-uid": "e1"},
        "children": [{"text": ""}],
    }
    html = render_rte(doc(*nodes, asset_fallback, displayed, para(*nodes)), entry)
    assert dangers(html) == []
    assert "javascript" not in html and "vbscript" not in html
    assert '<img src="x" />T' in html  # the title's markup went through the allowlist


def test_json_rte_nested_too_deep_is_a_clear_error_not_a_crash() -> None:
    node: dict[str, Any] = {"text": "deep"}
    for _ in range(1000):
        node = para(node)
    with pytest.raises(RteError, match=f"more than {MAX_DEPTH} levels"):
        render_rte(doc(node))
    shallow: dict[str, Any] = {"text": "ok"}
    for _ in range(MAX_DEPTH - 2):
        shallow = para(shallow)
    assert "ok" in render_rte(doc(shallow))


def timed(seconds: float, fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    assert time.perf_counter() - start < seconds
    return result


def test_big_documents_render_within_seconds() -> None:
    big = doc(*(para({"text": "x" * 1000, "bold": True}) for _ in range(10_000)))
    assert len(timed(5, lambda: render_rte(big))) > 10_000_000
    html = "<p>" + "y" * 1000 + "</p>"
    assert len(timed(5, lambda: render_rte(html * 10_000, trusted_html=False))) > 10_000_000


ITEMS = [{"uid": f"e{i}", "_content_type_uid": "post", "title": f"T{i}"} for i in range(10_000)]


def test_ten_thousand_embedded_items_in_one_field_render_within_seconds() -> None:
    entry = {"_embedded_items": {"body": ITEMS}}
    nodes = [
        {
            "type": "reference",
            "attrs": {
                "type": "entry",
                "display-type": "block",
                "entry-uid": f"e{i}",
                "content-type-uid": "post",
            },
            "children": [{"text": ""}],
        }
        for i in range(10_000)
    ]
    assert timed(10, lambda: render_rte(doc(*nodes), entry)).count("<div>") == 10_000
    figures = "".join(
        f'<figure class="embedded-entry" type="entry" data-sys-entry-uid="e{i}" '
        f'data-sys-content-type-uid="post" sys-style-type="block"></figure>'
        for i in range(10_000)
    )
    html = timed(10, lambda: render_rte(figures, entry, trusted_html=False))
    assert html.count("<div>") == 10_000


# --------------------------------------------------------------------------------------------
# HTML-RTE
# --------------------------------------------------------------------------------------------

HOSTILE_HTML = (
    '<p onclick="alert(1)" class="lead">Hi <b onmouseover=\'alert(1)\'>there</b></p>'
    "<script>alert(1)</script><script src=//evil.example/x.js></script>"
    '<img src=x onerror="window.__pwned=1">'
    '<a href="javascript:alert(1)">a</a><a href="jav&#x09;ascript:alert(1)">b</a>'
    '<a href="https://example.com/?a=1&amp;b=2" target=_blank title=\'t"x\'>ok</a>'
    '<iframe src="javascript:alert(1)"></iframe><object data="x.swf"></object>'
    '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">s</a></svg>'
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mtext></math>"
    '<div style="width:expression(alert(1))">d</div><style>*{}</style>'
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'
    "<form action=javascript:alert(1)><input type=submit></form><!-- <script>x</script> -->"
    "<base href=javascript:/><meta http-equiv=refresh content='0;url=javascript:alert(1)'>"
)


def test_html_rte_is_reduced_to_the_allowlist() -> None:
    html = render_rte(HOSTILE_HTML, trusted_html=False)
    lowered = html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "onmouseover",
        "javascript",
        "<iframe",
        "<object",
        "<svg",
        "<math",
        "<style",
        "<form",
        "<input",
        "<base",
        "<meta",
        "expression",
        "<!--",
        "<noscript",
    ):
        assert bad not in lowered, bad
    assert '<p class="lead">Hi <b>there</b></p>' in html
    assert (
        '<a href="https://example.com/?a=1&amp;b=2" target="_blank" title="t&quot;x">ok</a>' in html
    )
    assert sanitize_html(html) == html  # the output is a fixed point


def test_html_rte_trusted_mode_keeps_the_markup() -> None:
    assert render_rte(HOSTILE_HTML) == HOSTILE_HTML
    assert render_rte(HOSTILE_HTML, trusted_html=True) == HOSTILE_HTML


def test_html_rte_embedded_objects_keep_working_and_lose_hostile_attributes() -> None:
    entry = {
        "_embedded_items": {"html": [{"uid": "e1", "_content_type_uid": "post", "title": "T"}]}
    }
    figure = (
        '<figure class="embedded-entry" type="entry" data-sys-entry-uid="e1" '
        'data-sys-content-type-uid="post" sys-style-type="block" onclick="alert(1)" '
        'href="javascript:alert(1)" style="x:expression(1)"><b onmouseover="alert(2)">i</b>'
        "</figure><script>alert(3)</script>"
    )
    seen: list[EmbedContext] = []

    def hook(item: dict, ctx: EmbedContext) -> str:
        seen.append(ctx)
        return (
            f'<section data-embed="{item["uid"]}"><script>/* the site\'s own */</script></section>'
        )

    html = render_rte(figure, entry, embed=hook, trusted_html=False)
    assert html == '<section data-embed="e1"><script>/* the site\'s own */</script></section>'
    attrs = seen[0].attrs
    assert "onclick" not in attrs and attrs["href"] == BLOCKED_URL and attrs["style"] == ""
    assert attrs["data-sys-entry-uid"] == "e1"
    assert seen[0].text == "<b>i</b>"
    # without a hook, the default rendering is kept (and sanitized)
    assert render_rte(figure, entry, trusted_html=False) == (
        "<div><p>T</p><p>Content type: <span>post</span></p></div>"
    )


def test_html_rte_embed_output_never_lands_inside_an_attribute() -> None:
    """The embedded element's markup also sits, earlier, in a single-quoted attribute: the
    first-occurrence replacement puts the placeholder there, and the template's output (with
    its quotes) must not be pasted into the attribute value."""
    figure = (
        '<figure class="embedded-entry" type="entry" data-sys-entry-uid="e1" '
        'data-sys-content-type-uid="post" sys-style-type="block"></figure>'
    )
    title = '" onmouseover=alert(1) x="'
    entry = {
        "_embedded_items": {"html": [{"uid": "e1", "_content_type_uid": "post", "title": title}]}
    }

    def hook(item: dict, ctx: EmbedContext) -> str:
        return f'<img alt="{escape(item["title"])}">'

    html = render_rte(f"<p title='{figure}'>x</p>{figure}", entry, embed=hook, trusted_html=False)
    assert dangers(html) == [] and "onmouseover" not in html
    assert "<img" not in html.split("</p>")[0]
    assert "\x00" not in html and "\ufffd" not in html  # no trace of the placeholder


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<![=", "&lt;![="),
        ("<p>x</p><![x y", "<p>x</p>&lt;![x y"),
        ("<![x y]]><img src=x onerror=alert(1)>z", '&lt;![x y]]&gt;<img src="x" />z'),
        ("<![CDATA[<img src=x onerror=alert(1)>]]>ok", "ok"),
    ],
)
def test_html_rte_odd_marked_sections_are_text_not_a_crash(html: str, expected: str) -> None:
    assert render_rte(html, trusted_html=False) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<frame>after", "after"),
        ("<head><title>t</title><meta charset=utf-8>after", "after"),
        ("<select><option>a</option></select>after", "aafter"),
        ("<select>after", "after"),
        ("<frameset><frame src=x>after", "after"),
    ],
)
def test_html_rte_text_after_dropped_elements_is_kept(html: str, expected: str) -> None:
    assert sanitize_html(html) == expected


def test_html_rte_deep_nesting_renders_or_fails_clearly() -> None:
    deep = "<div>" * 1000 + "x" + "</div>" * 1000
    assert "x" in timed(5, lambda: render_rte(deep, trusted_html=False))
    entry = {"_embedded_items": {"html": [{"uid": "e1", "_content_type_uid": "post"}]}}
    figure = (
        '<figure class="embedded-entry" type="entry" data-sys-entry-uid="e1" '
        'data-sys-content-type-uid="post">' + deep + "</figure>"
    )
    try:
        render_rte(figure, entry)
    except RteError as err:
        assert "nested too deeply" in str(err)


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------


def test_rte_html_setting(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    assert load_config(site, env={}).rte_html == "sanitize"
    toml = site / "sitegen.toml"
    original = toml.read_text()
    toml.write_text(original + '[rte]\nhtml = "trusted"\n')
    assert load_config(site, env={}).rte_html == "trusted"
    toml.write_text(original + '[rte]\nhtml = "off"\n')
    with pytest.raises(ConfigError, match=r"rte\.html must be \"sanitize\" or \"trusted\""):
        load_config(site, env={})
    toml.write_text(original + "[rte]\nhtml = true\n")
    with pytest.raises(ConfigError, match=r"rte\.html"):
        load_config(site, env={})
    toml.write_text(original + '[rte]\nhtlm = "trusted"\n')
    with pytest.raises(ConfigError, match=r"rte\.htlm is not a known setting"):
        load_config(site, env={})


# --------------------------------------------------------------------------------------------
# end to end: a site whose entries carry hostile values
# --------------------------------------------------------------------------------------------

PAGE_SCHEMA = [
    {"uid": "title", "data_type": "text"},
    {"uid": "url", "data_type": "text"},
    {"uid": "body", "data_type": "json", "field_metadata": {"allow_json_rte": True}},
    {"uid": "html", "data_type": "text", "field_metadata": {"allow_rich_text": True}},
]
PAGE_TEMPLATE = (
    '{% extends "base.html" %}{% block title %}{{ entry.title }}{% endblock %}'
    "{% block main %}<h1>{{ entry.title }}</h1>{{ entry.body | rte }}"
    "<section>{{ entry.html | rte }}</section>{% endblock %}"
)
PWN = "window.__pwned=1;alert(1)"
HOSTILE_JSON_RTE = doc(
    para(
        link({"href": f"javascript:{PWN}"}, "js"),
        link({"href": f"java\tscript:{PWN}"}, "tab"),
        link({"href": f"&#106;avascript:{PWN}"}, "entity"),
        link({"href": f"vbscript:{PWN}"}, "vb"),
        link({"href": f"data:text/html,<script>{PWN}</script>"}, "data"),
        link({"href": f'x" onmouseover="{PWN}" y="', "class-name": f"c' onclick='{PWN}"}, "q"),
        link({"href": "/", "style": "background:url(javascript:alert(1))"}, "style"),
        link({"href": "/", "id": f"i><img src=x onerror={PWN}>"}, "close"),
    ),
    {"type": "img", "attrs": {"src": f"javascript:{PWN}"}, "children": [{"text": ""}]},
    {"type": "img", "attrs": {"src": 'x" onerror="' + PWN}, "children": [{"text": ""}]},
    {"type": "embed", "attrs": {"url": f"javascript:{PWN}"}, "children": [{"text": ""}]},
    para({"text": f"<script>{PWN}</script>", "bold": True}, style="width:expression(alert(1))"),
)
HOSTILE_HTML_RTE = (
    f'<p onclick="{PWN}">p</p><script>{PWN}</script><img src=x onerror="{PWN}">'
    f'<a href="javascript:{PWN}">a</a><a href="java&#x09;script:{PWN}">b</a>'
    f'<svg onload="{PWN}"></svg><iframe src="javascript:{PWN}"></iframe>'
    f'<details open ontoggle="{PWN}"><summary>s</summary></details>'
    f'<figure class="embedded-entry" type="entry" data-sys-entry-uid="post0" '
    f'data-sys-content-type-uid="post" sys-style-type="block" onmouseover="{PWN}"></figure>'
)


def hostile_site(root: Path) -> Path:
    site = make_site(root)
    stack = site / "stack"
    write_json(
        stack / "content_types/page.json", {"uid": "page", "title": "Page", "schema": PAGE_SCHEMA}
    )
    (site / "templates/page.html").write_text(PAGE_TEMPLATE)
    write_json(
        stack / "entries/page/evil.en-us.json",
        {
            "title": f"<script>{PWN}</script>",
            "url": "/evil/",
            "body": HOSTILE_JSON_RTE,
            "html": HOSTILE_HTML_RTE,
        },
    )
    return site


def build(site: Path) -> Any:
    return build_site(load_config(site, env={}))


def test_hostile_site_builds_inside_its_output_folder(tmp_path: Path) -> None:
    site = hostile_site(tmp_path / "site")
    before = {
        p
        for p in tmp_path.rglob("*")
        if not {"public", ".sitegen"} & set(p.parts) and not p.name.startswith(".stack")
    }
    build(site)
    after = {
        p
        for p in tmp_path.rglob("*")
        if not {"public", ".sitegen"} & set(p.parts) and not p.name.startswith(".stack")
    }
    assert after == before  # nothing written outside the output and state folders
    html = (site / "public/evil/index.html").read_text()
    assert dangers(html) == []
    for bad in ("javascript:", "vbscript:", "<script", "<svg", "expression("):
        assert bad not in html, bad
    assert (
        f'<iframe src="{BLOCKED_URL}">' in html
    )  # a JSON-RTE embed node keeps its iframe, not its URL
    assert "Content type: <span>post</span>" in html  # the embedded entry still renders


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("/../../outside/", "'..' segment"),
        ("/%2e%2e/%2e%2e/outside/", "'..' segment"),
        ("/a\\..\\..\\outside", "backslash"),
        ("//evil.example/", "another host"),
        ("/con/", "reserved device name"),
        ("/x\x00y", "control character"),
        ("/" + "a" * 300 + "/", "over 255 bytes"),
    ],
)
def test_hostile_urls_fail_the_build_with_the_entry_named(
    tmp_path: Path, url: str, problem: str
) -> None:
    site = make_site(tmp_path / "site")
    write_json(site / "stack/entries/post/bad.en-us.json", {"title": "Bad", "url": url})
    with pytest.raises(BuildError) as caught:
        build(site)
    assert problem in str(caught.value) and "'bad'" in str(caught.value)
    assert not (tmp_path / "outside").exists()


def test_case_only_collision_names_both_entries(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    write_json(site / "stack/entries/post/upper.en-us.json", {"title": "U", "url": "/About/"})
    write_json(site / "stack/entries/post/lower.en-us.json", {"title": "L", "url": "/about/"})
    with pytest.raises(BuildError) as caught:
        build(site)
    message = str(caught.value)
    assert "differ only by case" in message
    assert "'upper'" in message and "'lower'" in message


MARKER = "DEEP-MARKER"


class DeepRte:
    """The local stack on a port, with each text node ``MARKER`` in its answers replaced by
    a paragraph nested 1,000 levels deep, as a real CDA could deliver (a stack folder cannot
    hold it: 2,000 nested JSON containers are past what its loader reads)."""

    def __init__(self, stack: Path, levels: int = 1000):
        self.app = create_app(stack)
        self.deep = (
            '{"type":"p","attrs":{},"children":[' * levels + '{"text":"deep"}' + "]}" * levels
        ).encode()
        self.replaced = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def collect(message):
            if message["type"] == "http.response.start":
                started.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        body = b"".join(chunks)
        marker = json.dumps({"text": MARKER}, separators=(",", ":")).encode()
        self.replaced += body.count(marker)
        body = body.replace(marker, self.deep)
        headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**started, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def deep_site(root: Path, levels: int = 1000) -> Iterator[tuple[Path, DeepRte]]:
    """A site whose stack is served through :class:`DeepRte` on a loopback port."""
    holder: dict[str, DeepRte] = {}

    async def app(scope, receive, send):
        await holder["app"](scope, receive, send)

    with serve_app(app) as url:
        site = make_site(
            root,
            stack_toml=f'host = "{url}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
            'environment = "production"\n',
        )
        holder["app"] = stack = DeepRte(site / "stack", levels)
        yield site, stack


@pytest.mark.parametrize("kind", ["full", "incremental"])
def test_rte_nested_1000_levels_over_http_fails_the_build_naming_the_entry(
    tmp_path: Path, kind: str
) -> None:
    with deep_site(tmp_path / "site") as (site, stack):
        deep = site / "stack/entries/page/deep.en-us.json"
        fields = {"title": "Deep", "url": "/deep/", "body": doc(para({"text": MARKER}))}
        if kind == "incremental":  # first a good build; the deep version comes through sync
            write_json(deep, {**fields, "body": doc(para({"text": "shallow"}))})
            build(site)
        before = tree(site / "public") if kind == "incremental" else None
        write_json(deep, fields)
        start = time.perf_counter()
        with pytest.raises(BuildError) as caught:
            build(site)
        assert time.perf_counter() - start < 30
        assert stack.replaced >= 1  # the 1,000 levels really came over HTTP
        message = str(caught.value)
        assert "nested more than" in message and "entry deep of page in en-us" in message
        if kind == "incremental":
            assert tree(site / "public") == before  # the last good site stays
        else:
            assert not (site / "public").exists()  # no partial site left as if complete
        write_json(deep, {**fields, "body": doc(para({"text": "fixed"}))})
        assert build(site).kind == kind
        assert "fixed" in (site / "public/deep/index.html").read_text()


def test_json_nested_past_what_sitegen_reads_is_refused_once_naming_the_request(
    tmp_path: Path,
) -> None:
    with deep_site(tmp_path / "site", levels=3000) as (site, _):  # 6,000 nested containers
        fields = {"title": "Deep", "url": "/deep/", "body": doc(para({"text": MARKER}))}
        write_json(site / "stack/entries/page/deep.en-us.json", fields)
        with pytest.raises(APIError) as caught:
            build(site)
    message = str(caught.value)
    assert "GET /v3/content_types/page/entries" in message
    assert "nested more than 5,000 levels deep" in message and "fix or unpublish" in message
    assert "after" not in message  # not retried as if the body had been cut short


def test_reference_cycles_end(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    stack = site / "stack"
    team = json.loads((stack / "content_types/team.json").read_text())
    team["schema"].append({"uid": "lead", "data_type": "reference", "reference_to": ["author"]})
    write_json(stack / "content_types/team.json", team)
    write_json(
        stack / "entries/team/core.en-us.json",
        {"title": "Core Team", "lead": [{"uid": "ada", "_content_type_uid": "author"}]},
    )
    start = time.perf_counter()
    build(site)
    assert time.perf_counter() - start < 30
    assert "Ada of Core Team" in (site / "public/posts/post-1/index.html").read_text()


def test_hostile_pages_run_no_script_in_a_browser(tmp_path: Path) -> None:
    from tests.browser import browser_page, serve_folder

    site = hostile_site(tmp_path)
    build(site)
    with serve_folder(site / "public") as url, browser_page() as page:
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            with contextlib.suppress(Exception):  # the page may be closing already
                dialog.dismiss()

        page.on("dialog", on_dialog)  # type: ignore[attr-defined]
        page.set_default_timeout(15_000)  # type: ignore[attr-defined]
        page.goto(url + "/evil/", wait_until="domcontentloaded")  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        # hover and click everything: inline handlers and javascript: links would run now
        page.evaluate(  # type: ignore[attr-defined]
            """() => { setTimeout(() => {  // later: an alert must not block this call
                   for (const el of document.querySelectorAll('main *')) {
                       // clicking a link to another page would leave the page under test
                       const away = el.tagName === 'A' && el.protocol !== 'javascript:'
                           && el.href.split('#')[0] !== location.href.split('#')[0];
                       for (const type of away ? ['mouseover'] : ['mouseover', 'click'])
                           el.dispatchEvent(new MouseEvent(type, {bubbles: true}));
                   }
                   window.__dispatched = true;
               }, 0); }"""
        )
        page.wait_for_function("() => window.__dispatched === true")  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        assert page.evaluate("() => location.pathname") == "/evil/"  # type: ignore[attr-defined]
        assert page.evaluate("() => window.__pwned") is None  # type: ignore[attr-defined]
        handlers = page.evaluate(  # type: ignore[attr-defined]
            """() => [...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
                 .filter(a => a.name.startsWith('on') || /^\\s*(javascript|vbscript|data):/i
                     .test(a.value.replace(/[\\s\\u0000]/g, '')))
                 .map(a => el.tagName + ' ' + a.name + '=' + a.value))"""
        )
        assert handlers == []
        assert page.evaluate("() => document.querySelectorAll('main script, svg').length") == 0  # type: ignore[attr-defined]
        frames = page.evaluate("() => [...document.querySelectorAll('iframe')].map(f => f.src)")  # type: ignore[attr-defined]
        assert frames == [BLOCKED_URL]  # the JSON-RTE embed node, its URL neutralized
    assert dialogs == []


def test_switching_the_html_trust_setting_re_renders_the_pages(tmp_path: Path) -> None:
    site = hostile_site(tmp_path)
    build(site)
    page = site / "public/evil/index.html"
    assert "<script" not in page.read_text()
    toml = site / "sitegen.toml"
    toml.write_text(toml.read_text() + '[rte]\nhtml = "trusted"\n')
    result = build(site)  # incremental: the content is the same, the rendering is not
    assert result.kind == "incremental" and "evil/index.html" in result.changed
    assert "<script" in page.read_text()


def test_json_rte_embed_templates_get_neutralized_attrs() -> None:
    """A site's embedded-entry template sees a reference node's attrs without handlers or
    hostile URLs, as HTML-RTE's embedded elements are seen."""
    seen: list[dict] = []

    def hook(item: Any, context: EmbedContext) -> str:
        seen.append(dict(context.attrs))
        return "<aside>embedded</aside>"

    node = {
        "type": "reference",
        "uid": "r1",
        "children": [{"text": ""}],
        "attrs": {
            "type": "entry",
            "entry-uid": "e1",
            "content-type-uid": "post",
            "display-type": "block",
            "href": "javascript:alert(1)",
            "url": " JaVa\tScRiPt:alert(1)",
            "onclick": "alert(1)",
            "style": "width: expression(alert(1))",
            "width": 300,
        },
    }
    doc = {"type": "doc", "uid": "d", "attrs": {}, "children": [node]}
    entry = {"uid": "p1", "_embedded_items": {"body": [{"uid": "e1", "_content_type_uid": "post"}]}}
    html = render_rte(doc, entry, embed=hook)
    assert "<aside>embedded</aside>" in html
    (attrs,) = seen
    assert attrs["href"] == attrs["url"] == BLOCKED_URL
    assert "onclick" not in attrs and attrs["style"] == "" and attrs["width"] == 300
    assert attrs["entry-uid"] == "e1"


def test_embed_templates_get_neutralized_attrs_whatever_the_case_or_depth() -> None:
    """Names are compared lowercased, nested values are neutralized too, and every
    URL-bearing name is checked (``srcdoc`` is dropped: it is a whole document)."""
    seen: list[dict] = []

    def hook(item: Any, context: EmbedContext) -> str:
        seen.append(dict(context.attrs))
        return "<aside>embedded</aside>"

    hostile = "javascript:alert(1)"
    attrs: dict[str, Any] = {
        "type": "entry",
        "entry-uid": "e1",
        "content-type-uid": "post",
        "display-type": "block",
        "OnClick": "alert(1)",
        "HREF": hostile,
        "xlink:href": hostile,
        "srcdoc": "<script>alert(1)</script>",
        "srcset": f"/a.png 1x, {hostile} 2x",
        **dict.fromkeys(["data", "formaction", "action", "poster", "background"], hostile),
        "STYLE": "width: expression(alert(1))",
        "redactor-attributes": {
            "href": hostile,
            "onclick": "alert(1)",
            "style": {"background": "url(javascript:alert(1))"},
            "links": [{"src": hostile}, "kept"],
        },
        "safe": {"style": {"color": "red"}, "srcset": "/a.png 1x, /b.png 2x", "alt": "a:b"},
    }
    node = {"type": "reference", "uid": "r1", "children": [{"text": ""}], "attrs": attrs}
    entry = {"uid": "p1", "_embedded_items": {"body": [{"uid": "e1", "_content_type_uid": "post"}]}}
    render_rte({"type": "doc", "uid": "d", "attrs": {}, "children": [node]}, entry, embed=hook)
    figure = (
        '<figure class="embedded-entry" type="entry" data-sys-entry-uid="e1" '
        'data-sys-content-type-uid="post" sys-style-type="block" ONCLICK="alert(1)" '
        f'xlink:href="{hostile}" srcdoc="x" formaction="{hostile}"></figure>'
    )
    render_rte(figure, entry, embed=hook, trusted_html=False)
    json_attrs, html_attrs = seen
    assert "OnClick" not in json_attrs and "srcdoc" not in json_attrs
    for name in ("HREF", "xlink:href", "srcset", "data", "formaction", "action", "poster"):
        assert json_attrs[name] == BLOCKED_URL, name
    assert json_attrs["background"] == BLOCKED_URL and json_attrs["STYLE"] == ""
    assert json_attrs["redactor-attributes"] == {
        "href": BLOCKED_URL,
        "style": "",
        "links": [{"src": BLOCKED_URL}, "kept"],
    }
    assert json_attrs["safe"] == attrs["safe"]
    assert "onclick" not in html_attrs and "srcdoc" not in html_attrs
    assert html_attrs["xlink:href"] == html_attrs["formaction"] == BLOCKED_URL
