"""The state store's own encodings: canonical JSON and the references an entry depends on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen.content import codec
from sitegen.store import Store, dumps, references


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


SPANNED = {
    "uid": "post1",
    "title": "Ünïcode 😀 title",
    "author": [{"uid": "jane", "_content_type_uid": "author", "title": "Jåne 日本"}],
    "body": {"type": "doc", "children": [{"text": "x" * 2000 + "😀"}]},
    "\uffff": ["last of the BMP"],
    "😀": {"astral": "key"},
    '"q': {"a\u2028": "line separator"},
    "count": 3,
}


@pytest.mark.parametrize("value", [SPANNED, {"b": [1], "a": {"x": "ascii only"}}, {}])
def test_field_spans_point_at_each_value_in_the_canonical_text(value: dict):
    text, spans = codec.dumps_fields(value, {"count"})
    assert text == dumps(value)
    assert spans is not None
    others = [key for key in sorted(value) if key != "count"]
    assert len(spans) == 2 * len(others)
    raw = text.encode()  # the spans count UTF-8 bytes
    for i, key in enumerate(others):
        assert json.loads(raw[spans[2 * i] : spans[2 * i + 1]]) == value[key]


def test_what_orjson_refuses_is_stored_without_spans():
    value = {"n": 2**70, "s": "x"}
    text, spans = codec.dumps_fields(value, ())
    assert text == dumps(value) and json.loads(text) == value and spans is None


def test_a_lazy_entry_decodes_only_the_fields_it_is_asked_for(tmp_path: Path):
    store = Store(tmp_path / "state.sqlite")
    store.content.put_entry("post", "en-us", SPANNED)
    store.db.execute(  # a corrupt body of the same length: reading it would fail
        "UPDATE entries SET data = replace(data, 'xx', '\\q') WHERE uid = 'post1'"
    )
    key = ("post", "post1", "en-us")
    [from_store] = store.content.lazy_entries("post", "en-us", ["post1"])
    with_data = store.content.lazy_by_key([key])[key]
    for entry in (from_store, with_data):
        assert entry["title"] == SPANNED["title"]  # from the summary
        assert entry["author"] == SPANNED["author"]  # its span alone, from store or text
        assert entry["😀"] == SPANNED["😀"] and entry['"q'] == SPANNED['"q']
        assert set(entry) == set(SPANNED) | {"_content_type_uid"}
        with pytest.raises(ValueError):
            entry["body"]  # the broken field is the only one that fails
        with pytest.raises(KeyError):
            entry["missing"]
    store.close()
