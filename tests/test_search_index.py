"""[search] pagefind: the Pagefind index is written with the site and kept in step with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from sitegen.build import build_site
from sitegen.cli import cli
from sitegen.config import load_config


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "docs"
    result = CliRunner().invoke(cli, ["init", str(site), "--starter", "docs"])
    assert result.exit_code == 0, result.output
    return site


def _index_words(site: Path) -> int:
    """The number of files in the bundle (fragments grow with the pages)."""
    return sum(len(files) for _, _, files in os.walk(site / "public" / "pagefind"))


def test_full_build_writes_the_bundle_and_reports_its_files(tmp_path: Path):
    site = _site(tmp_path)
    result = build_site(load_config(site, env={}))
    bundle = [name for name in result.added if name.startswith("pagefind/")]
    assert "pagefind/pagefind-ui.js" in bundle and "pagefind/pagefind-entry.json" in bundle
    entry = json.loads((site / "public" / "pagefind" / "pagefind-entry.json").read_text())
    # one index per <html lang>: the starter is in English and French
    assert set(entry["languages"]) == {"en-us", "fr-fr"}
    assert sum(lang["page_count"] for lang in entry["languages"].values()) >= 12


def test_an_edit_reindexes_and_no_change_does_not(tmp_path: Path):
    site = _site(tmp_path)
    build_site(load_config(site, env={}))
    again = build_site(load_config(site, env={}))
    assert again.kind == "incremental"
    assert not [n for n in again.added + again.changed + again.removed if "pagefind" in n]
    page = site / "stack" / "entries" / "doc" / "quick-start.en-us.md"
    page.write_text(page.read_text().replace("That is all", "Zanzibar is all"), encoding="utf-8")
    edited = build_site(load_config(site, env={}))
    touched = [n for n in edited.added + edited.changed if n.startswith("pagefind/")]
    assert touched, "the index was not updated after an edit"
    # nothing of the old bundle is left behind that the new one does not list
    for name in edited.removed:
        assert not (site / "public" / name).exists(), name
    assert _index_words(site) > 0


def test_without_the_setting_there_is_no_bundle(tmp_path: Path):
    site = _site(tmp_path)
    config = site / "sitegen.toml"
    config.write_text(config.read_text().replace("pagefind = true", "pagefind = false"))
    result = build_site(load_config(site, env={}))
    assert not (site / "public" / "pagefind").exists()
    assert not any("pagefind" in n for n in result.added)
    html = (site / "public" / "docs" / "quick-start" / "index.html").read_text()
    assert "pagefind-ui.js" not in html and 'id="search"' not in html
