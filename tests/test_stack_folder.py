"""Reading and validating a local stack folder: every error names the file at fault."""

from __future__ import annotations

import re

import pytest

from sitegen.errors import StackFolderError
from sitegen.stack import load_stack
from tests.stack_fixtures import copy_stack, read_json, write_json


def test_load_stack_reads_settings_and_content_types(tmp_path):
    stack = load_stack(copy_stack(tmp_path))
    assert stack.name == "Example"
    assert stack.api_key == "test_api_key"
    assert stack.delivery_token == "test_delivery_token"
    assert stack.environments == ["production", "staging"]
    assert [(loc.code, loc.fallback_locale) for loc in stack.locales] == [
        ("en-us", None),
        ("fr-fr", "en-us"),
        ("fr-ca", "fr-fr"),
    ]
    assert stack.master_locale == "en-us"
    assert stack.fallback_chain("fr-ca") == ["fr-ca", "fr-fr", "en-us"]
    assert sorted(stack.content_types) == ["author", "blog_post"]
    listing = stack.validate_all()
    assert len(listing.entries) == 8
    assert listing.asset_uids == {"doc_pdf", "hero_img", "jane_photo"}


def test_credentials_are_optional_and_fallback_defaults_to_master(tmp_path):
    root = copy_stack(tmp_path)
    settings = read_json(root / "stack.json")
    del settings["api_key"], settings["delivery_token"]
    settings["locales"][1].pop("fallback_locale")
    write_json(root / "stack.json", settings)
    stack = load_stack(root)
    assert stack.api_key is None and stack.delivery_token is None
    assert stack.locale("fr-fr").fallback_locale == "en-us"


def expect_error(root, *fragments):
    with pytest.raises(StackFolderError) as info:
        load_stack(root).validate_all()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_unknown_content_type_folder(tmp_path):
    root = copy_stack(tmp_path)
    write_json(root / "entries/product/p1.en-us.json", {"title": "P"})
    expect_error(root, "entries/product", '"product"', "content_types/product.json")


def test_entry_locale_not_in_stack_json(tmp_path):
    root = copy_stack(tmp_path)
    write_json(root / "entries/author/jane.de-de.json", {"title": "Jana"})
    expect_error(root, "jane.de-de.json", '"de-de"', "stack.json")


def test_entry_file_name_without_locale(tmp_path):
    root = copy_stack(tmp_path)
    write_json(root / "entries/author/jane.json", {"title": "Jana"})
    expect_error(root, "entries/author/jane.json", "<entry_uid>.<locale>.json")


def test_malformed_json_reports_file_and_line(tmp_path):
    root = copy_stack(tmp_path)
    (root / "entries/author/john.en-us.json").write_text('{\n  "title": "John"\n  "name": "J"\n}')
    expect_error(root, "entries/author/john.en-us.json", "line 3", "column 3")


def test_file_field_pointing_at_no_asset(tmp_path):
    root = copy_stack(tmp_path)
    write_json(root / "entries/author/john.en-us.json", {"title": "John", "photo": "missing_pic"})
    expect_error(root, "john.en-us.json", '"photo"', '"missing_pic"', "assets/missing_pic.json")


def test_file_field_inside_blocks_is_checked_too(tmp_path):
    root = copy_stack(tmp_path)
    post = read_json(root / "entries/blog_post/post_a.en-us.json")
    post["sections"][0]["hero"]["image"] = "nope"
    write_json(root / "entries/blog_post/post_a.en-us.json", post)
    expect_error(root, "post_a.en-us.json", '"sections.hero.image"', '"nope"')


def test_missing_reference_target_is_allowed_but_bad_shape_is_not(tmp_path):
    root = copy_stack(tmp_path)
    write_json(
        root / "entries/author/john.en-us.json",
        {"title": "John", "favourite_post": [{"uid": "nowhere", "_content_type_uid": "blog_post"}]},
    )
    load_stack(root).validate_all()  # a dangling reference is fine
    write_json(root / "entries/author/john.en-us.json", {"title": "John", "favourite_post": "x"})
    expect_error(root, "john.en-us.json", '"favourite_post"')
    write_json(
        root / "entries/author/john.en-us.json",
        {"title": "J", "favourite_post": [{"uid": "jane", "_content_type_uid": "author"}]},
    )
    expect_error(root, "john.en-us.json", "may point at blog_post", '"author"')


def test_reserved_keys_in_entries(tmp_path):
    root = copy_stack(tmp_path)
    write_json(root / "entries/author/john.en-us.json", {"title": "John", "_version": 3})
    expect_error(root, "john.en-us.json", '"_version"', "_published")
    write_json(root / "entries/author/john.en-us.json", {"title": "John", "_published": "no"})
    expect_error(root, "john.en-us.json", '"_published" must be true or false')
    write_json(root / "entries/author/john.en-us.json", {"title": "J", "updated_at": "yesterday"})
    expect_error(root, "john.en-us.json", '"updated_at"', "ISO 8601")
    write_json(root / "entries/author/john.en-us.json", {"title": "J", "uid": "jim"})
    expect_error(root, "john.en-us.json", '"uid" is "jim"')


def test_fallback_locale_unknown_or_cyclic(tmp_path):
    root = copy_stack(tmp_path)
    settings = read_json(root / "stack.json")
    settings["locales"][2]["fallback_locale"] = "es-es"
    write_json(root / "stack.json", settings)
    expect_error(root, "stack.json", '"fr-ca"', '"es-es"')
    settings["locales"][1]["fallback_locale"] = "fr-ca"
    settings["locales"][2]["fallback_locale"] = "fr-fr"
    write_json(root / "stack.json", settings)
    expect_error(root, "stack.json", "cycle", "fr-fr -> fr-ca -> fr-fr")


def test_missing_required_keys(tmp_path):
    root = copy_stack(tmp_path)
    settings = read_json(root / "stack.json")
    del settings["environments"]
    write_json(root / "stack.json", settings)
    expect_error(root, "stack.json", '"environments"')

    root = copy_stack(tmp_path / "two")
    asset = read_json(root / "assets/hero_img.json")
    del asset["filename"]
    write_json(root / "assets/hero_img.json", asset)
    expect_error(root, "assets/hero_img.json", '"filename"')

    root = copy_stack(tmp_path / "three")
    ct = read_json(root / "content_types/author.json")
    del ct["schema"]
    write_json(root / "content_types/author.json", ct)
    expect_error(root, "content_types/author.json", '"schema"')


def test_content_type_problems(tmp_path):
    root = copy_stack(tmp_path)
    ct = read_json(root / "content_types/author.json")
    ct["uid"] = "writer"
    write_json(root / "content_types/author.json", ct)
    expect_error(root, "content_types/author.json", '"writer"', "author.json")

    ct["uid"] = "author"
    ct["schema"].append({"uid": "books", "data_type": "reference", "reference_to": ["book"]})
    write_json(root / "content_types/author.json", ct)
    expect_error(root, "content_types/author.json", '"books"', '"book"')

    ct["schema"][-1] = {"uid": "books", "data_type": "strings"}
    write_json(root / "content_types/author.json", ct)
    expect_error(root, "content_types/author.json", '"books"', "data_type")


def test_asset_problems(tmp_path):
    root = copy_stack(tmp_path)
    (root / "assets/hero_img/hero.png").unlink()
    expect_error(root, "assets/hero_img.json", "assets/hero_img/hero.png", '"url"')

    root = copy_stack(tmp_path / "two")
    write_json(root / "assets/hero_img.json", {**read_json(root / "assets/hero_img.json"), "x": 1})
    expect_error(root, "assets/hero_img.json", "unknown key", "x")

    root = copy_stack(tmp_path / "three")
    (root / "assets/orphan").mkdir()
    (root / "assets/orphan/file.txt").write_text("hi")
    expect_error(root, "assets/orphan", "assets/orphan.json")


def test_not_a_folder(tmp_path):
    with pytest.raises(StackFolderError, match="is not a folder"):
        load_stack(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StackFolderError, match=r"stack\.json"):
        load_stack(tmp_path / "empty")


def test_global_fields_are_inlined_where_content_types_name_them(tmp_path):
    root = copy_stack(tmp_path)
    fields = [{"uid": "meta", "data_type": "text"}]
    write_json(root / "global_fields/seo.json", {"uid": "seo", "title": "SEO", "schema": fields})
    ct = read_json(root / "content_types/author.json")
    ct["schema"].append({"uid": "seo", "data_type": "global_field", "reference_to": "seo"})
    write_json(root / "content_types/author.json", ct)
    stack = load_stack(root)
    assert sorted(stack.global_fields) == ["seo"]
    inlined = next(f for f in stack.content_types["author"]["schema"] if f["uid"] == "seo")
    assert inlined["schema"] == fields and inlined["reference_to"] == "seo"

    ct["schema"][-1]["reference_to"] = "nope"
    write_json(root / "content_types/author.json", ct)
    with pytest.raises(
        StackFolderError, match=r"author\.json: global field \"seo\" refers to \"nope\""
    ):
        load_stack(root)
    ct["schema"][-1] = {"uid": "seo", "data_type": "global_field"}
    write_json(root / "content_types/author.json", ct)
    with pytest.raises(StackFolderError, match='needs "reference_to"'):
        load_stack(root)


def test_global_fields_that_include_each_other_are_refused(tmp_path):
    root = copy_stack(tmp_path)
    for uid, other in (("a", "b"), ("b", "a")):
        schema = [{"uid": "x", "data_type": "global_field", "reference_to": other}]
        write_json(root / f"global_fields/{uid}.json", {"uid": uid, "title": uid, "schema": schema})
    with pytest.raises(
        StackFolderError, match=r"global fields include each other in a loop \(a -> b -> a\)"
    ):
        load_stack(root)


def _with_topics(root):
    terms = [{"uid": "eng", "name": "Engineering", "terms": [{"uid": "web", "name": "Web"}]}]
    write_json(root / "taxonomies/topics.json", {"name": "Topics", "terms": terms})
    ct = read_json(root / "content_types/author.json")
    ct["schema"].append(
        {"uid": "taxonomies", "data_type": "taxonomy", "taxonomies": [{"taxonomy_uid": "topics"}]}
    )
    write_json(root / "content_types/author.json", ct)


def test_taxonomies_are_read_and_entry_tags_checked(tmp_path):
    root = copy_stack(tmp_path)
    _with_topics(root)
    stack = load_stack(root)
    topics = stack.taxonomies["topics"]
    assert topics.terms["web"].parent == "eng" and topics.terms["web"].depth == 2
    entry = root / "entries/author/jane.en-us.json"
    data = read_json(entry)
    write_json(entry, {**data, "taxonomies": [{"taxonomy_uid": "topics", "term_uid": "web"}]})
    stack.validate_all()
    write_json(entry, {**data, "taxonomies": [{"taxonomy_uid": "topics", "term_uid": "nope"}]})
    with pytest.raises(
        StackFolderError, match=r'jane\.en-us\.json: taxonomy field "taxonomies" names term "nope"'
    ):
        load_stack(root).validate_all()


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        (
            "topics",
            {"name": "T", "terms": [{"uid": "a", "name": "A"}, {"uid": "a", "name": "B"}]},
            'term "a" appears twice',
        ),
        ("entries", {"name": "T", "terms": []}, 'taxonomy uid "entries"'),
        ("topics", {"name": "T", "terms": [{"uid": "a"}]}, 'term "a" needs a non-empty "name"'),
        ("topics", {"name": "T", "names": {"xx-yy": "?"}}, '"xx-yy", which is not a locale'),
    ],
)
def test_taxonomy_file_problems_name_the_file(tmp_path, name, data, problem):
    root = copy_stack(tmp_path)
    write_json(root / f"taxonomies/{name}.json", data)
    with pytest.raises(StackFolderError, match=rf"taxonomies/{name}\.json: .*{re.escape(problem)}"):
        load_stack(root)


def test_variant_groups_are_read_with_their_personalize_aliases(tmp_path):
    root = copy_stack(tmp_path)
    group = {
        "name": "Audience",
        "content_types": ["author"],
        "personalize_metadata": {"experience_short_uid": "3"},
        "variants": [
            {"uid": "new", "name": "New", "personalize_metadata": {"variant_short_uid": "1"}}
        ],
    }
    write_json(root / "variant_groups/audience.json", group)
    stack = load_stack(root)
    assert stack.variants["new"].alias == "cs_personalize_3_1"
    write_json(root / "variant_groups/other.json", {**group, "name": "Other"})
    with pytest.raises(
        StackFolderError, match=r'other\.json: variant "new" is also in group "audience"'
    ):
        load_stack(root)
    write_json(root / "variant_groups/other.json", {**group, "content_types": ["nope"]})
    with pytest.raises(StackFolderError, match=r'other\.json: content type "nope"'):
        load_stack(root)
