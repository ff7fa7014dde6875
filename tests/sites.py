"""Small fixture sites written into a temporary folder: a local stack plus templates.

Kept in code (not committed folders) so each test can change one thing and see its effect.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

API_KEY = "blt_fixture_key_7f3a"
TOKEN = "cs_fixture_token_91bd"

CONTENT_TYPES: dict[str, list[dict[str, Any]]] = {
    "page": [
        {"uid": "title", "data_type": "text", "display_name": "Title"},
        {"uid": "url", "data_type": "text", "display_name": "URL"},
        {
            "uid": "body",
            "data_type": "json",
            "display_name": "Body",
            "field_metadata": {"allow_json_rte": True},
        },
    ],
    "post": [
        {"uid": "title", "data_type": "text", "display_name": "Title"},
        {"uid": "url", "data_type": "text", "display_name": "URL"},
        {
            "uid": "author",
            "data_type": "reference",
            "display_name": "Author",
            "reference_to": ["author"],
        },
        {
            "uid": "notes",
            "data_type": "text",
            "display_name": "Notes",
            "field_metadata": {"markdown": True},
        },
    ],
    "author": [
        {"uid": "title", "data_type": "text", "display_name": "Name"},
        {"uid": "team", "data_type": "reference", "display_name": "Team", "reference_to": ["team"]},
    ],
    "team": [{"uid": "title", "data_type": "text", "display_name": "Name"}],
}

TEMPLATES = {
    "base.html": (
        '<!doctype html><html lang="{{ locale }}"><title>{% block title %}{% endblock %}</title>'
        "<main>{% block main %}{% endblock %}</main></html>\n"
    ),
    "page.html": (
        '{% extends "base.html" %}{% block title %}{{ entry.title }}{% endblock %}'
        "{% block main %}<h1>{{ entry.title }}</h1>{{ entry.body | rte }}"
        "<ul>{% for p in entries('post') %}<li><a href=\"{{ url_for(p) }}\">{{ p.title }}</a></li>"
        "{% endfor %}</ul>{% endblock %}"
    ),
    "post.html": (
        '{% extends "base.html" %}{% block title %}{{ entry.title }}{% endblock %}'
        "{% block main %}<h1>{{ entry.title }}</h1>"
        '<p class="author">{{ entry.author[0].title }} of {{ entry.author[0].team[0].title }}</p>'
        '<div class="notes">{{ entry.notes | markdown }}</div>'
        '<nav>{% for l in site.locales %}<a hreflang="{{ l.code }}" href="{{ url_for(entry, l.code) }}">'
        "{{ l.name }}</a>{% endfor %}</nav>{% endblock %}"
    ),
}


def rte_doc(text: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "doc",
        "uid": "doc1",
        "attrs": {},
        "children": [
            {"type": "p", "uid": "p1", "attrs": {}, "children": [{"text": text}]},
            *extra,
        ],
    }


def embed_entry(
    uid: str, content_type: str = "post", display_type: str = "block"
) -> dict[str, Any]:
    """A JSON-RTE reference node embedding an entry."""
    return {
        "type": "reference",
        "uid": f"r-{uid}",
        "attrs": {
            "type": "entry",
            "display-type": display_type,
            "entry-uid": uid,
            "content-type-uid": content_type,
            "locale": "en-us",
        },
        "children": [{"text": ""}],
    }


def embed_asset(uid: str, filename: str) -> dict[str, Any]:
    """A JSON-RTE reference node displaying an asset."""
    return {
        "type": "reference",
        "uid": f"r-{uid}",
        "attrs": {
            "type": "asset",
            "display-type": "display",
            "asset-uid": uid,
            "asset-link": f"/assets/{uid}/{filename}",
            "asset-name": filename,
            "content-type-uid": "sys_assets",
        },
        "children": [{"text": ""}],
    }


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def _day(i: int) -> str:
    return (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_stack(root: Path, posts: int = 3) -> Path:
    """A two-locale stack: fr-fr falls back to en-us for what is not localized."""
    stack = root / "stack"
    write_json(
        stack / "stack.json",
        {
            "name": "Fixture",
            "api_key": API_KEY,
            "delivery_token": TOKEN,
            "environments": ["production"],
            "locales": [
                {"code": "en-us", "name": "English"},
                {"code": "fr-fr", "name": "Français", "fallback_locale": "en-us"},
            ],
        },
    )
    for uid, schema in CONTENT_TYPES.items():
        write_json(
            stack / "content_types" / f"{uid}.json",
            {"uid": uid, "title": uid.title(), "schema": schema},
        )
    entries = stack / "entries"
    write_json(entries / "team" / "core.en-us.json", {"title": "Core Team"})
    write_json(
        entries / "author" / "ada.en-us.json",
        {"title": "Ada", "team": [{"uid": "core", "_content_type_uid": "team"}]},
    )
    write_json(
        entries / "page" / "home.en-us.json",
        {"title": "Home", "url": "/", "body": rte_doc("Welcome")},
    )
    write_json(
        entries / "page" / "home.fr-fr.json",
        {"title": "Accueil", "url": "/", "body": rte_doc("Bienvenue")},
    )
    for i in range(posts):
        write_json(
            entries / "post" / f"post{i}.en-us.json",
            {
                "title": f"Post {i}",
                "url": f"/posts/post-{i}/",
                "author": [{"uid": "ada", "_content_type_uid": "author"}],
                "notes": f"Some *notes* for post {i}.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
                "created_at": _day(i),
                "updated_at": _day(i),
            },
        )
    return stack


def make_site(root: Path, *, posts: int = 3, stack_toml: str | None = None) -> Path:
    """A site folder using the fixture stack in-process (or ``stack_toml`` for [stack])."""
    make_stack(root, posts)
    for name, text in TEMPLATES.items():
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "templates" / name).write_text(text, encoding="utf-8")
    stack_section = stack_toml or 'local = "stack"\nenvironment = "production"\n'
    (root / "sitegen.toml").write_text(
        f"[stack]\n{stack_section}\n"
        '[site]\nbase_url = "https://example.com"\ntitle = "Fixture"\n'
        'locales = ["en-us", "fr-fr"]\n[locales.fr-fr]\nprefix = "/fr"\nname = "Français"\n',
        encoding="utf-8",
    )
    return root


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """An ASGI app (the local stack, or one in front of it) on a real loopback port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
