"""Conformance of sitegen's rich-text renderer with @contentstack/utils 1.9.1 default output.

Each case of ``data/contentstack-utils-rte-cases.json`` holds an entry, the field paths to
render and the HTML the JavaScript library produced for each; every path must match exactly.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sitegen.content.rte import render_rte

CASES_FILE = Path(__file__).parent / "data" / "contentstack-utils-rte-cases.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))


def test_case_file_is_complete() -> None:
    assert len(CASES) == 55
    assert len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_rte_case(case: dict) -> None:
    entry = case["entry"]
    before = copy.deepcopy(entry)
    for path in case["paths"]:
        expected = case["expected"][path]
        actual = render_rte(entry[path], entry)
        assert actual == expected, f"{case['name']}: path {path!r}"
        assert isinstance(actual, list) == isinstance(expected, list)
    assert entry == before, "rendering must not modify the entry"
