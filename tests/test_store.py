"""The state store's own encodings: canonical JSON and the references an entry depends on."""

from __future__ import annotations

import json

from sitegen.store import dumps, references


def _doc(*children: dict) -> dict:
    return {"type": "doc", "uid": "d1", "attrs": {}, "children": list(children)}


def test_canonical_json_matches_the_standard_library_and_survives_what_orjson_refuses():
    value = {"b": [1, 2.5, None, True], "a": {"z": "é—\u2028", "y": 'line\nbreak\t"q"\x01'}}
    assert dumps(value) == json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    huge = {"n": 2**70, "s": "\ud800"}  # beyond 64-bit integers, a lone surrogate
    assert json.loads(dumps(huge)) == huge


def test_references_finds_includes_assets_embeds_and_rich_text_links():
    entry = {
        "uid": "post1",
        "_content_type_uid": "post",
        "title": "A post",
        "author": [
            {
                "uid": "jane",
                "_content_type_uid": "author",
                "name": "Jane",
                "team": [{"uid": "team1", "_content_type_uid": "team"}],
            }
        ],
        "hero": {"uid": "asset1", "filename": "a.png", "url": "https://x/a.png"},
        "blocks": [{"quote": {"by": [{"uid": "bob", "_content_type_uid": "author"}]}}],
        "body": _doc(
            {
                "type": "p",
                "uid": "n1",
                "attrs": {},
                "children": [
                    {
                        "type": "reference",
                        "uid": "n2",
                        "children": [{"text": ""}],
                        "attrs": {
                            "type": "entry",
                            "entry-uid": "embedded1",
                            "content-type-uid": "author",
                            "display-type": "block",
                        },
                    },
                    {
                        "type": "p",
                        "uid": "n3",
                        "attrs": {},
                        "children": [
                            {
                                "type": "reference",
                                "uid": "n4",
                                "children": [{"text": ""}],
                                "attrs": {
                                    "type": "asset",
                                    "asset-uid": "asset2",
                                    "display-type": "display",
                                },
                            }
                        ],
                    },
                ],
            },
        ),
        "html": "<p><img data-sys-asset-uid=\"asset3\"/><span data-sys-entry-uid='e4'></span></p>",
        "_embedded_items": {
            "body": [{"uid": "embedded1", "_content_type_uid": "author", "bio": _doc()}]
        },
        # a JSON-RTE node's own uid, and a plain field called uid, are not references
        "meta": {"uid": "not-a-ref"},
    }
    assert references(entry) == {
        "jane",
        "team1",
        "asset1",
        "bob",
        "embedded1",
        "asset2",
        "asset3",
        "e4",
    }
    assert references(entry, dumps(entry)) == references(entry)


def test_deeply_nested_rich_text_round_trips_and_deeper_is_a_value_error():
    from sitegen.content import codec

    doc: dict = {"type": "p", "children": [{"text": "deep"}]}
    for _ in range(1_000):  # a 1,000-level JSON-RTE document: 2,000 nested containers
        doc = {"type": "div", "children": [doc]}
    text = dumps({"body": doc})
    assert dumps(codec.loads(text)) == text  # (== on the dicts would itself recurse too deep)
    assert text.count('"type":"div"') == 1_000
    abyss = "[" * 6_000 + "]" * 6_000
    try:
        codec.loads(abyss)
    except ValueError as err:
        assert "nested more than 5,000 levels" in str(err)
    else:
        raise AssertionError("6,000 levels decoded")
