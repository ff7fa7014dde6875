"""Focused tests of sitegen.content.rte beyond the reference conformance cases."""

from __future__ import annotations

import random
from unittest import mock

import pytest

from sitegen.content.rte import (
    EmbedContext,
    EmbeddedItems,
    escape,
    jsformat,
    json_rte,
    render_html_rte,
    render_json_rte,
    render_rte,
)

ENTRY = {
    "uid": "page",
    "_embedded_items": {
        "body": [
            {"uid": "e1", "_content_type_uid": "author", "title": "Ada", "url": "/ada"},
            {
                "uid": "a1",
                "_content_type_uid": "sys_assets",
                "url": "/a1.png",
                "filename": "a1.png",
            },
        ],
        "other": [
            {"uid": "e1", "_content_type_uid": "author", "title": "Shadowed"},
            {"uid": "e2", "_content_type_uid": "author", "title": "Grace"},
        ],
    },
}


def doc(*children: dict) -> dict:
    return {"type": "doc", "attrs": {}, "uid": "d", "children": list(children)}


def p(*children: dict, **attrs: object) -> dict:
    return {"type": "p", "attrs": attrs, "children": list(children)}


def ref(**attrs: object) -> dict:
    return {"type": "reference", "attrs": attrs, "children": [{"text": ""}]}


ENTRY_BLOCK = ref(
    **{"type": "entry", "display-type": "block", "entry-uid": "e1", "content-type-uid": "author"}
)
ASSET_DISPLAY = ref(**{"type": "asset", "display-type": "display", "asset-uid": "a1"})
MISSING_ASSET = ref(
    **{
        "type": "asset",
        "display-type": "display",
        "asset-uid": "gone",
        "asset-link": "https://img.example/x y.png",
        "class-name": "embedded-asset",
    }
)
FIGURE_ENTRY = (
    '<figure class="embedded-entry inline-entry" type="entry" data-sys-entry-uid="e2" '
    'data-sys-content-type-uid="author" sys-style-type="inline"></figure>'
)


# ---- embedded items ----


def test_embedded_items_merge_paths_first_wins() -> None:
    items = EmbeddedItems.from_entry(ENTRY)
    assert items.find_entry("e1", "author")["title"] == "Ada"
    assert items.find_entry("e2", "author")["title"] == "Grace"
    assert items.find_entry("e2", "article") is None
    assert items.find_asset("a1")["url"] == "/a1.png"
    assert items.find_asset("missing") is None


def test_embedded_items_tolerate_missing_or_odd_shapes() -> None:
    assert len(EmbeddedItems.from_entry(None)) == 0
    assert len(EmbeddedItems.from_entry({"uid": "x"})) == 0
    odd = EmbeddedItems.from_entry({"_embedded_items": {"f": {"uid": "solo"}, "g": None}})
    assert odd.find_asset("solo") == {"uid": "solo"}
    gql = EmbeddedItems([{"system": {"uid": "s1", "content_type_uid": "blog"}}])
    assert gql.find_entry("s1", "blog") is not None


# ---- default rendering ----


def test_default_renders_found_items() -> None:
    html = render_rte(doc(ENTRY_BLOCK, ASSET_DISPLAY), ENTRY)
    assert html == (
        "<div><p>Ada</p><p>Content type: <span>author</span></p></div>"
        '<img src="/a1.png" alt="a1.png" />'
    )


def test_missing_item_renders_default_fallback() -> None:
    # An asset that is not embedded renders from the node's own attrs; an entry renders nothing.
    html = render_rte(doc(MISSING_ASSET, ENTRY_BLOCK), {"uid": "no-embedded-items"})
    assert html == (
        '<figure><img asset_uid="gone" class="embedded-asset" '
        'src="https://img.example/x%20y.png" /></figure>'
    )
    assert render_rte(FIGURE_ENTRY, {}) == ""


def test_nested_nodes_are_sanitized_but_top_level_is_not() -> None:
    quote = {"type": "blockquote", "attrs": {}, "children": [{"text": "q"}]}
    assert render_json_rte(doc(quote)) == "<blockquote>q</blockquote>"
    item = {"type": "li", "attrs": {}, "children": [quote]}
    assert render_json_rte(doc({"type": "ul", "attrs": {}, "children": [item]})) == (
        "<ul><li>q</li></ul>"
    )


def test_text_is_escaped_like_the_reference() -> None:
    html = render_json_rte(doc(p({"text": "a < b & \"c\" 'd'\nnext"})))
    assert html == "<p>a &lt; b &amp; &quot;c&quot; 'd'<br />next</p>"


def test_html_default_replacement_expands_javascript_patterns() -> None:
    # String.prototype.replace expands "$&" to the matched text: reproduced on purpose.
    entry = {
        "_embedded_items": {"f": [{"uid": "e2", "_content_type_uid": "author", "title": "$$1"}]}
    }
    assert render_html_rte(FIGURE_ENTRY, EmbeddedItems.from_entry(entry)) == "<span>$1</span>"


def test_js_number_helpers() -> None:
    assert jsformat._js_to_fixed2(0.125) == "0.13"  # ties go up, unlike Python's format()
    assert jsformat._js_to_fixed2(100 / 3) == "33.33"
    assert jsformat._js_str(250.0) == "250"
    assert jsformat._js_str(1e21) == "1e+21"
    assert jsformat._js_str(1e-7) == "1e-7"
    assert jsformat._js_str([1, None, "a"]) == "1,,a"


# ---- the embed hook ----


def test_embed_hook_is_called_and_its_output_used_verbatim() -> None:
    calls: list[tuple[dict, EmbedContext]] = []

    def embed(item: dict, ctx: EmbedContext) -> str | None:
        calls.append((item, ctx))
        if ctx.kind == "entry":
            return f'<aside data-x="1">{item["title"]} $&</aside>'
        return None

    html = render_rte(doc(p({"text": "see "}, ENTRY_BLOCK), ASSET_DISPLAY), ENTRY, embed=embed)
    # Hook output is neither sanitized by the enclosing <p> nor pattern-expanded.
    assert html == ('<p>see <aside data-x="1">Ada $&</aside></p><img src="/a1.png" alt="a1.png" />')
    assert [(c.kind, c.display_type) for _, c in calls] == [
        ("entry", "block"),
        ("asset", "display"),
    ]
    item, ctx = calls[0]
    assert item["uid"] == "e1" and ctx.item is item
    assert ctx.attrs["entry-uid"] == "e1"


def test_embed_hook_sees_missing_items_and_can_defer() -> None:
    seen: list[EmbedContext] = []

    def embed(item: dict, ctx: EmbedContext) -> str | None:
        seen.append(ctx)
        assert item == {}
        return None

    html = render_rte(doc(MISSING_ASSET), {}, embed=embed)
    assert html.startswith("<figure><img asset_uid=") and seen[0].item is None


def test_embed_hook_for_html_rte() -> None:
    def embed(item: dict, ctx: EmbedContext) -> str | None:
        assert ctx.attrs["data-sys-entry-uid"] == "e2" and ctx.display_type == "inline"
        return f"<b>{item['title']}</b>"

    html = render_rte(["<p>x</p>" + FIGURE_ENTRY, None], ENTRY, embed=embed)
    assert html == ["<p>x</p><b>Grace</b>", ""]


# ---- value detection and errors ----


def test_render_rte_detects_kinds() -> None:
    assert render_rte(None) == ""
    assert render_rte("<p>plain</p>") == "<p>plain</p>"
    assert render_rte([doc(p({"text": "a"})), doc()]) == ["<p>a</p>", ""]
    assert render_rte([]) == []


@pytest.mark.parametrize(
    "value", [42, {"type": "p", "children": []}, {"children": []}, [doc(), 3], b"<p>"]
)
def test_render_rte_rejects_other_values(value: object) -> None:
    with pytest.raises(TypeError, match="rich-text"):
        render_rte(value)


def test_render_json_rte_rejects_non_documents() -> None:
    with pytest.raises(TypeError, match="document"):
        render_json_rte({"type": "p"})


def test_rendering_does_not_modify_input() -> None:
    value = doc(p({"text": "x"}, style={"color": "red"}))
    snapshot = repr(value)
    assert render_rte(value) == '<p style="color:red;">x</p>'
    assert repr(value) == snapshot


# ---- the clean-flag shortcut is exact ----

_VALUES = [
    "x",
    'q"',
    "it's",
    "<b>",
    "a>b",
    "\n",
    "",
    None,
    0,
    7,
    '" onclick="y',
    "<p",
    {"c": "<i>"},
]
_TYPES = ["p", "a", "img", "embed", "h2", "ol", "ul", "li", "fragment", "hr", "table", "tbody",
          "tfoot", "tr", "td", "blockquote", "code", "reference", "unknown"]  # fmt: skip
_MARKS = ["bold", "italic", "underline", "strikethrough", "inlineCode", "subscript", "break"]


def _random_node(rng: random.Random, depth: int) -> dict:
    if depth == 0 or rng.random() < 0.3:
        node: dict = {"text": rng.choice(["t", "a\nb", "<i>&</i>", "\n", ""])}
        for key in [*_MARKS, "classname", "id"]:
            if rng.random() < 0.15:
                node[key] = True if key in _MARKS else rng.choice(_VALUES)
        return node
    keys = ["style", "class-name", "id", "href", "src", "target", "type", "display-type"]
    attrs = {key: rng.choice(_VALUES) for key in keys if rng.random() < 0.25}
    if rng.random() < 0.3:
        attrs.update({"type": "entry", "entry-uid": "e1", "content-type-uid": "author"})
    children = [_random_node(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {"type": rng.choice(_TYPES), "attrs": attrs, "children": children}


def test_clean_flag_matches_sanitizing_at_every_level() -> None:
    """Skipping the sanitizer on clean fragments must give what sanitizing everywhere gives."""
    always = mock.patch.object(
        json_rte, "_sanitized", lambda html, clean: (escape._sanitize(html), False)
    )
    rng = random.Random(20240611)
    for _ in range(400):
        value = doc(*(_random_node(rng, 4) for _ in range(3)))
        fast = render_rte(value, ENTRY)
        with always:
            assert render_rte(value, ENTRY) == fast
