"""Entries written as Markdown files (``<uid>.<locale>.md``), served over the CDA as JSON."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.stack_fixtures import ENV, local_client

pytestmark = pytest.mark.anyio
DOCS_STACK = Path(__file__).parent.parent / "templates" / "docs" / "stack"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def stack_dir(tmp_path):
    dest = tmp_path / "stack"
    shutil.copytree(DOCS_STACK, dest)
    return dest


def write(path: Path, text: str) -> None:
    """Write a file so that its mtime moves (scans compare size and mtime)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


PAGE = """+++
title = "Markdown page"
url = "/docs/markdown-page/"
section = [{ uid = "guides", _content_type_uid = "section" }]
order = 9
summary = "Front matter in TOML."
+++

# Heading

Some *text*.
"""


async def test_a_markdown_entry_is_served_as_json_with_its_body_in_the_markdown_field(stack_dir):
    write(stack_dir / "entries" / "doc" / "md-page.en-us.md", PAGE)
    async with local_client(stack_dir, headers=None) as client:
        response = await client.get("/v3/content_types/doc/entries/md-page", params=ENV)
        assert response.status_code == 200, response.text
        entry = response.json()["entry"]
    assert entry["title"] == "Markdown page"
    assert entry["order"] == 9
    assert entry["section"] == [{"uid": "guides", "_content_type_uid": "section"}]
    assert entry["body"] == "# Heading\n\nSome *text*.\n"
    assert entry["locale"] == "en-us" and entry["uid"] == "md-page"


async def test_editing_a_markdown_entry_is_a_sync_delta(stack_dir, tmp_path):
    page = stack_dir / "entries" / "doc" / "md-page.en-us.md"
    write(page, PAGE)
    history = tmp_path / "history.sqlite"
    async with local_client(stack_dir, history_path=history) as client:
        first = await client.get("/v3/stacks/sync", params={**ENV, "init": "true"})
        token = first.json()["sync_token"]
        write(page, PAGE.replace("Some *text*.", "Changed text."))
        delta = (await client.get("/v3/stacks/sync", params={"sync_token": token})).json()
    changed = [i for i in delta["items"] if i["data"].get("uid") == "md-page"]
    assert [i["type"] for i in changed] == ["entry_published"]
    assert changed[0]["data"]["body"] == "# Heading\n\nChanged text.\n"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("doc/bad.en-us.md", "title = 'x'\n", 'starts with a "+++" line'),
        ("doc/bad.en-us.md", "+++\ntitle = 'x'\n", 'no closing "+++" line'),
        ("doc/bad.en-us.md", "+++\ntitle = x\n+++\n", "invalid TOML in the front matter"),
        ("doc/bad.en-us.md", "+++\ntitle = 'x'\nbody = 'y'\n+++\n", '"body" is the Markdown field'),
        ("section/bad.en-us.md", "+++\ntitle = 'x'\n+++\n", "exactly one Markdown field"),
        ("doc/quick-start.en-us.json", "{}", "also written as quick-start.en-us.md"),
    ],
)
async def test_a_bad_markdown_entry_names_the_file_and_the_fix(stack_dir, name, text, expected):
    write(stack_dir / "entries" / name, text)
    async with local_client(stack_dir) as client:
        response = await client.get("/v3/content_types/doc/entries", params=ENV)
    message = response.json()["error_message"]
    assert response.status_code >= 400
    assert expected in message, message
    assert name.split("/")[1].split(".")[0] in message


async def test_removing_an_asset_a_markdown_entry_uses_names_the_markdown_file(stack_dir, tmp_path):
    doc = stack_dir / "content_types" / "doc.json"
    schema = json.loads(doc.read_text())
    schema["schema"].append({"uid": "cover", "data_type": "file", "display_name": "Cover"})
    doc.write_text(json.dumps(schema))
    (stack_dir / "assets" / "pic").mkdir(parents=True)
    (stack_dir / "assets" / "pic" / "pic.svg").write_text("<svg/>")
    meta = {"title": "Pic", "filename": "pic.svg", "content_type": "image/svg+xml"}
    (stack_dir / "assets" / "pic.json").write_text(json.dumps(meta))
    write(
        stack_dir / "entries" / "doc" / "md-page.en-us.md",
        PAGE.replace("+++\n\n", 'cover = "pic"\n+++\n\n', 1),
    )
    async with local_client(stack_dir, history_path=tmp_path / "history.sqlite") as client:
        first = await client.get("/v3/stacks/sync", params={**ENV, "init": "true"})
        assert first.status_code == 200, first.text
        (stack_dir / "assets" / "pic.json").unlink()
        shutil.rmtree(stack_dir / "assets" / "pic")
        token = first.json()["sync_token"]
        after = await client.get("/v3/stacks/sync", params={"sync_token": token})
    assert after.status_code == 400
    assert "md-page.en-us.md: a file field points at asset" in after.json()["error_message"]
    assert "md-page.en-us.json" not in after.text
