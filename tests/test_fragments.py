"""Converted rich text and Markdown kept between builds (sitegen/store/fragments.py).

The example site (JSON-RTE and HTML-RTE bodies, Markdown pages) is built for real. A second
full build reads what the first converted (proved by marking one stored fragment and finding
the mark in the page), cached and uncached builds write byte-identical sites, in one process
and in workers, a setting the HTML depends on leaves the old fragments unused, and a damaged
cache file costs nothing but the conversion.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.config import load_config
from tests.test_build import tree

ROOT = Path(__file__).parent.parent


@pytest.fixture
def site(tmp_path: Path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(ROOT / "example_site", dest, ignore=shutil.ignore_patterns("public", ".*"))
    return dest


def build(site: Path, *, jobs: int = 1, full: bool = True):
    return build_site(load_config(site, env={}), full=full, jobs=jobs)


def fragments(site: Path) -> sqlite3.Connection:
    return sqlite3.connect(site / ".sitegen" / "fragments.sqlite")


def test_cached_and_uncached_builds_write_the_same_site(site: Path):
    build(site)
    first = tree(site / "public")
    with fragments(site) as db:
        stored = db.execute("SELECT COUNT(*) FROM fragments").fetchone()[0]
    assert stored > 20, stored
    build(site, jobs=2)  # workers read (and add to) the same file
    assert tree(site / "public") == first
    (site / ".sitegen" / "fragments.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        (site / ".sitegen" / f"fragments.sqlite{extra}").unlink(missing_ok=True)
    build(site, jobs=2)
    assert tree(site / "public") == first


def test_a_full_build_uses_the_stored_fragments_until_a_setting_changes(site: Path):
    build(site)
    pages = sorted((site / "public").rglob("index.html"))
    with fragments(site) as db:
        key, html = db.execute(
            "SELECT key, html FROM fragments WHERE length(html) > 200 ORDER BY key LIMIT 1"
        ).fetchone()
        db.execute("UPDATE fragments SET html = ? WHERE key = ?", (html + "<!--MARK-->", key))
    build(site)  # a forced full build: the fragment comes from the file
    assert any("<!--MARK-->" in p.read_text() for p in pages)

    # HTML-RTE trusted instead of sanitized: other keys, converted again, no mark
    toml = site / "sitegen.toml"
    toml.write_text(toml.read_text() + '\n[rte]\nhtml = "trusted"\n')
    build(site)
    assert not any("<!--MARK-->" in p.read_text() for p in (site / "public").rglob("*.html"))


def test_a_damaged_cache_file_only_costs_the_conversion(site: Path):
    build(site)
    first = tree(site / "public")
    state = site / ".sitegen"
    for name in ("fragments.sqlite-wal", "fragments.sqlite-shm"):
        (state / name).unlink(missing_ok=True)
    (state / "fragments.sqlite").write_bytes(b"not a database" * 100)
    result = build(site)
    assert result.kind == "full"
    assert tree(site / "public") == first
