"""Byte sort keys (content/order.py) order entries exactly as ``[[pages]] sort`` does."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.content.order import order_key
from sitegen.content.query import sort_value

LIMIT = 2**53  # doubles hold every integer up to here: beyond it, keys may tie
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-LIMIT, LIMIT),
    st.floats(allow_nan=False),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
    st.sampled_from(["", "a", "a\x00", "a\x00b", "ab", "é", "\x00"]),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.dates().map(lambda d: d.isoformat()),
    st.lists(st.integers(-3, 3), max_size=2),
    st.dictionaries(st.sampled_from("xy"), st.integers(0, 2), max_size=2),
)
DOCS = st.lists(
    st.fixed_dictionaries(
        {"f": VALUES, "g": VALUES, "uid": st.text("abc", min_size=1, max_size=3)}
    ),
    max_size=25,
)
ORDERS = st.lists(st.tuples(st.sampled_from(["f", "g"]), st.booleans()), min_size=1, max_size=2)


@settings(max_examples=300, deadline=None)
@given(docs=DOCS, order=ORDERS)
def test_byte_keys_sort_as_sort_values_with_uid_last(docs, order):
    expected = sorted(docs, key=lambda d: d["uid"])
    for field, descending in reversed(order):
        expected.sort(key=lambda d, f=field: sort_value(d, f), reverse=descending)

    def key(doc: dict) -> bytes:
        values = [sort_value(doc, field) for field, _ in order]
        return order_key(values, [desc for _, desc in order], doc["uid"])

    got = sorted(docs, key=key)
    # the same sequence of keys: documents may swap places only where their keys are equal,
    # which means equal sort values and the same uid, so neither order tells them apart
    assert [key(d) for d in got] == [key(d) for d in expected]


def test_dates_sort_by_moment_not_text():
    early = sort_value({"d": "2024-01-01T10:00:00+02:00"}, "d")  # 08:00 UTC
    late = sort_value({"d": "2024-01-01T09:00:00Z"}, "d")
    assert order_key([early], [False], "b") < order_key([late], [False], "a")
    assert datetime(2024, 1, 1, 8, tzinfo=UTC).timestamp() == early[1]
