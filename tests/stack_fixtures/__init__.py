"""Helpers for the local stack tests: fixture folders, file edits and an in-process client."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from sitegen.stack import create_app

FIXTURES = Path(__file__).parent
EXAMPLE_STACK = FIXTURES.parent.parent / "example_site" / "stack"
API_KEY = "test_api_key"
DELIVERY_TOKEN = "test_delivery_token"
HEADERS = {"api_key": API_KEY, "access_token": DELIVERY_TOKEN}
ENV = {"environment": "production"}


def copy_stack(tmp_path: Path, name: str = "basic") -> Path:
    """A writable copy of a committed fixture folder, at tmp_path/stack."""
    dest = tmp_path / "stack"
    shutil.copytree(FIXTURES / name, dest)
    return dest


def add_branch(stack_dir: Path, uid: str, aliases: dict[str, str] | None = None) -> Path:
    """branches/<uid>/ as a copy of the main folder's content (its stack.json left out, so the
    branch shares main's), and ``aliases`` written into stack.json; returns the branch folder."""
    branch = stack_dir / "branches" / uid
    branch.mkdir(parents=True)
    for item in stack_dir.iterdir():
        if item.name in ("branches", "stack.json") or item.name.startswith("."):
            continue
        shutil.copytree(item, branch / item.name)
    if aliases:
        settings = json.loads((stack_dir / "stack.json").read_text(encoding="utf-8"))
        settings["branch_aliases"] = aliases
        write_json(stack_dir / "stack.json", settings)
    return branch


def copy_example_stack(dest: Path) -> Path:
    """The example site's stack at ``dest``, with a ``develop`` branch (alias ``staging``) in
    which the post typography-for-forms is retitled "… (develop)", for the SDK tests."""
    shutil.copytree(EXAMPLE_STACK, dest)
    develop = add_branch(dest, "develop", {"staging": "develop"})
    post = develop / "entries" / "blog_post" / "typography-for-forms.en-us.json"
    data = read_json(post)
    write_json(post, {**data, "title": data["title"] + " (develop)"})
    return dest


def write_json(path: Path, data: Any) -> None:
    """Write a JSON file and make sure its mtime moves (scans compare size and mtime)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    before = path.stat().st_mtime_ns if existed else 0
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    after = path.stat().st_mtime_ns
    if existed and after <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def read_json(path: Path) -> Any:
    """Parse a JSON file of a fixture folder."""
    return json.loads(path.read_text(encoding="utf-8"))


@asynccontextmanager
async def local_client(
    stack_dir: Path, *, history_path: Path | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to a fresh app over the folder, in-process."""
    app = create_app(stack_dir, history_path=history_path)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://local-stack",
            headers=HEADERS if headers is None else headers,
        ) as client:
            yield client
    finally:
        app.state.service.close()
