"""The CDA query language over plain dicts: operators, paths, sorting, projection."""

from __future__ import annotations

import json

import pytest

from sitegen.content.query import (
    MatchContext,
    QueryError,
    filter_docs,
    matches,
    parse_query,
    project,
    sort_docs,
)

DOCS = [
    {
        "uid": "a",
        "title": "Redmi Note 3",
        "price": 146,
        "color": "Gold",
        "tags": ["phone", "android"],
        "start_date": "2017-12-08T00:00:00.000Z",
        "bank_offers": {"card_type": "Debit Card", "discount": 12},
        "additional_info": [{"deals": {"deal_name": "Christmas Deal"}}, {"rating": {"stars": 2}}],
        "author": [{"uid": "jane", "_content_type_uid": "author"}],
    },
    {
        "uid": "b",
        "title": "iPhone 7",
        "price": 749,
        "color": "Black",
        "tags": ["phone"],
        "start_date": "2018-01-01T00:00:00.000Z",
        "bank_offers": [{"card_type": "Credit Card", "discount": 25}],
        "additional_info": [{"rating": {"stars": 4}}],
        "author": [{"uid": "john", "_content_type_uid": "author"}],
    },
    {"uid": "c", "title": "Nokia 3310", "price": 101, "tags": []},
]


def uids(query: dict, ctx: MatchContext | None = None) -> list[str]:
    return [d["uid"] for d in filter_docs(DOCS, query, ctx)]


def test_equality_on_scalars_arrays_groups_blocks_and_references():
    assert uids({"title": "iPhone 7"}) == ["b"]
    assert uids({"tags": "android"}) == ["a"]  # any array element
    assert uids({"tags": ["phone"]}) == ["b"]  # the whole array
    assert uids({"bank_offers.card_type": "Credit Card"}) == ["b"]  # group (multiple)
    assert uids({"additional_info.deals.deal_name": "Christmas Deal"}) == ["a"]  # blocks
    assert uids({"author.uid": "john"}) == ["b"]  # reference stub
    assert uids({"price": 146, "color": "Gold"}) == ["a"]  # implicit and
    assert uids({"price": {"$eq": 101}}) == ["c"]


def test_ne_in_nin_and_exists():
    assert uids({"price": {"$ne": 146}}) == ["b", "c"]
    assert uids({"color": {"$ne": "Gold"}}) == ["b", "c"]  # missing field matches $ne
    assert uids({"price": {"$in": [101, 749]}}) == ["b", "c"]
    assert uids({"tags": {"$in": ["android", "tablet"]}}) == ["a"]
    assert uids({"price": {"$nin": [101, 749]}}) == ["a"]
    assert uids({"color": {"$exists": True}}) == ["a", "b"]
    assert uids({"color": {"$exists": False}}) == ["c"]
    assert uids({"additional_info.rating.stars": {"$exists": True}}) == ["a", "b"]


def test_comparisons_on_numbers_and_dates():
    assert uids({"price": {"$lt": 146}}) == ["c"]
    assert uids({"price": {"$lte": 146}}) == ["a", "c"]
    assert uids({"price": {"$gt": 146}}) == ["b"]
    assert uids({"price": {"$gte": 146}}) == ["a", "b"]
    assert uids({"start_date": {"$gt": "2017-12-31"}}) == ["b"]
    assert uids({"bank_offers.discount": {"$gte": 20}}) == ["b"]
    assert uids({"title": {"$gt": 5}}) == []  # strings never compare with numbers


def test_regex_with_options():
    assert uids({"title": {"$regex": "^i"}}) == ["b"]
    assert uids({"title": {"$regex": "^I", "$options": "i"}}) == ["b"]
    assert uids({"title": {"$regex": "3"}}) == ["a", "c"]


def test_and_or():
    assert uids({"$and": [{"title": "Redmi Note 3"}, {"color": "Gold"}]}) == ["a"]
    assert uids({"$and": [{"title": "Redmi Note 3"}, {"color": "Black"}]}) == []
    assert uids({"$or": [{"color": "Gold"}, {"color": "Black"}]}) == ["a", "b"]
    assert uids({"$or": [{"price": {"$lt": 120}}, {"$and": [{"price": 749}]}]}) == ["b", "c"]


def test_in_query_resolves_references():
    authors = {"jane": {"uid": "jane", "name": "Jane"}, "john": {"uid": "john", "name": "John"}}

    def lookup(stubs):
        return [("author", authors[s["uid"]]) for s in stubs if s["uid"] in authors]

    ctx = MatchContext("product", lookup)
    assert uids({"author": {"$in_query": {"name": "Jane"}}}, ctx) == ["a"]
    assert uids({"author": {"$nin_query": {"name": "Jane"}}}, ctx) == ["b", "c"]
    assert uids({"author": {"$in_query": {"_content_type_uid": "author"}}}, ctx) == ["a", "b"]
    assert uids({"_content_type_uid": "product", "price": 101}, ctx) == ["c"]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"price": {"$between": [1, 2]}}',
        '{"price": {"$in": 5}}',
        '{"$or": {"a": 1}}',
        '{"$nor": [{"a": 1}]}',
        '{"title": {"$regex": "("}}',
        '{"title": {"$regex": "a", "$options": "q"}}',
        '{"title": {"$exists": "yes"}}',
    ],
)
def test_malformed_queries_are_rejected(text):
    with pytest.raises(QueryError):
        parse_query(text)


def test_parse_query_accepts_empty_and_valid():
    assert parse_query(None) == {}
    assert parse_query("  ") == {}
    assert parse_query('{"price": {"$gt": 1}}') == {"price": {"$gt": 1}}
    assert matches(DOCS[0], parse_query('{"tags": {"$in": ["phone"]}}'))


def test_sorting_is_stable_and_puts_missing_values_first():
    assert [d["uid"] for d in sort_docs(DOCS, "price", descending=False)] == ["c", "a", "b"]
    assert [d["uid"] for d in sort_docs(DOCS, "price", descending=True)] == ["b", "a", "c"]
    assert [d["uid"] for d in sort_docs(DOCS, "color", descending=False)] == ["c", "b", "a"]
    assert [d["uid"] for d in sort_docs(DOCS, "start_date", descending=True)] == ["b", "a", "c"]


def test_projection_only_and_except_keep_uid():
    doc = DOCS[0]
    assert project(doc, only=["title"]) == {"title": "Redmi Note 3", "uid": "a"}
    assert project(doc, only=["bank_offers.card_type"]) == {
        "bank_offers": {"card_type": "Debit Card"},
        "uid": "a",
    }
    assert project(doc, only=["additional_info.rating.stars"])["additional_info"] == [
        {},
        {"rating": {"stars": 2}},
    ]
    trimmed = project(doc, exclude=["price", "bank_offers.discount", "uid"])
    assert "price" not in trimmed
    assert trimmed["bank_offers"] == {"card_type": "Debit Card"}
    assert trimmed["uid"] == "a"
    assert "price" in doc  # the input is not modified


def fake_terms(taxonomy, operator, term, levels):
    """A two-level tree: engineering > frontend > perf (levels cut the depth)."""
    assert taxonomy == "topics"
    below = ["frontend", "perf"][:levels] if term == "engineering" else []
    if term == "frontend":
        below = ["perf"]
    found = set(below) if "below" in operator else {"engineering"} if term == "frontend" else set()
    return frozenset(found | ({term} if operator.startswith("$eq_") else set()))


TAGGED = [
    {"uid": "p1", "taxonomies": [{"taxonomy_uid": "topics", "term_uid": "perf"}]},
    {"uid": "p2", "taxonomies": [{"taxonomy_uid": "topics", "term_uid": "engineering"}]},
    {"uid": "p3", "taxonomies": [{"taxonomy_uid": "other", "term_uid": "perf"}]},
    {"uid": "p4"},
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"taxonomies.topics": {"$in": ["perf"]}}, ["p1"]),
        ({"taxonomies.topics": {"$exists": True}}, ["p1", "p2"]),
        ({"taxonomies.topics": {"$eq_below": "engineering"}}, ["p1", "p2"]),
        ({"taxonomies.topics": {"$below": "engineering"}}, ["p1"]),
        ({"taxonomies.topics": {"$eq_below": "engineering", "levels": 1}}, ["p2"]),
        # levels 0 is the term alone (contentstack-python's own tests send it)
        ({"taxonomies.topics": {"$eq_below": "engineering", "levels": 0}}, ["p2"]),
        ({"taxonomies.topics": {"$below": "engineering", "levels": 0}}, []),
        ({"taxonomies.topics": {"$above": "frontend"}}, ["p2"]),
        ({"taxonomies.topics": {"$eq_above": "perf"}}, ["p1"]),
    ],
)
def test_taxonomy_paths_and_hierarchy_operators(query, expected):
    ctx = MatchContext(terms=fake_terms)
    assert [d["uid"] for d in TAGGED if matches(d, parse_query(json.dumps(query)), ctx)] == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"title": {"$eq_below": "x"}}',
        '{"taxonomies.topics": {"$eq_below": "x", "levels": -1}}',
        '{"taxonomies.topics": {"$eq_below": "x", "levels": 1.5}}',
        '{"taxonomies.topics": {"$eq_below": "x", "levels": true}}',
        '{"taxonomies.topics": {"$below": 3}}',
        '{"taxonomies.topics": {"$in": ["x"], "levels": 2}}',
    ],
)
def test_malformed_hierarchy_queries_are_rejected(text):
    with pytest.raises(QueryError):
        parse_query(text)


def test_hierarchy_operators_without_taxonomies_are_an_error_not_a_silent_miss():
    with pytest.raises(QueryError, match="taxonomies"):
        matches(TAGGED[0], parse_query('{"taxonomies.topics": {"$below": "x"}}'))
