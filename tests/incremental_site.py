"""A richer fixture site for incremental-build tests, with a twin that always builds fully.

Site ``a`` is built incrementally; site ``b`` shares a's stack folder (and so its history) and
templates but has its own output and state, and is always built with ``full=True``. After any
change to the stack or the templates, a's output must equal b's byte for byte.

The content: teams ← authors ← posts (two reference levels), categories, a home page listing
posts through ``entries()``, a paginated listing of posts, term pages per category (filtered),
an Atom feed, JSON-RTE bodies embedding other posts and assets, three locales
where fr-fr falls back to en-us and de-de falls back to fr-fr.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from tests.sites import embed_asset, embed_entry

_clock = itertools.count()

CONTENT_TYPES: dict[str, list[dict[str, Any]]] = {
    "team": [{"uid": "title", "data_type": "text"}],
    "author": [
        {"uid": "title", "data_type": "text"},
        {"uid": "team", "data_type": "reference", "reference_to": ["team"]},
        {"uid": "photo", "data_type": "file"},
    ],
    "category": [{"uid": "title", "data_type": "text"}, {"uid": "url", "data_type": "text"}],
    "post": [
        {"uid": "title", "data_type": "text"},
        {"uid": "url", "data_type": "text"},
        {"uid": "author", "data_type": "reference", "reference_to": ["author"]},
        {
            "uid": "categories",
            "data_type": "reference",
            "reference_to": ["category"],
            "multiple": True,
        },
        {"uid": "body", "data_type": "json", "field_metadata": {"allow_json_rte": True}},
        {"uid": "taxonomies", "data_type": "taxonomy", "taxonomies": [{"taxonomy_uid": "topics"}]},
    ],
    "home": [{"uid": "title", "data_type": "text"}, {"uid": "url", "data_type": "text"}],
}

TEMPLATES = {
    "base.html": (
        '<!doctype html><html lang="{{ locale }}"><title>{{ entry.title }}</title>'
        "{% include 'nav.html' %}<main>{% block main %}{% endblock %}</main></html>\n"
    ),
    "nav.html": (
        '<nav>{% for l in site.locales %}<a href="{{ url_for(entry, l.code) }}">{{ l.name }}</a>'
        "{% endfor %}</nav>"
    ),
    "home.html": (
        "{% extends 'base.html' %}{% block main %}<h1>{{ entry.title }}</h1><ul>"
        "{% for p in entries('post') %}<li><a href=\"{{ url_for(p) }}\">{{ p.title }}</a> by "
        "{{ p.author[0].title if p.author else 'nobody' }}</li>{% endfor %}</ul>"
        # kept orders: on a short field, and on a referenced entry's field (from the data)
        "{% for p in entries('post', sort=['-title'], limit=2) %}{{ p.title }};{% endfor %}|"
        "{% for p in entries('post', sort='author.title', limit=3) %}{{ p.uid }};{% endfor %}|"
        # a taxonomy query: the posts under "eng" wherever the tree puts it
        "{% for p in entries('post', taxonomy={'topics': {'$eq_below': 'eng'}}) %}"
        "{{ p.uid }};{% endfor %}"
        "{% endblock %}"
    ),
    "post.html": (
        "{% extends 'base.html' %}{% block main %}<h1>{{ entry.title }}</h1>"
        "{% for a in entry.author %}<p class=author>{{ a.title }}"
        "{% if a.team %} of {{ a.team[0].title }}{% endif %}"
        '{% if a.photo %} <img src="{{ a.photo.url }}" alt="{{ a.photo.title }}">{% endif %}</p>'
        "{% endfor %}"
        '{% for c in entry.categories %}<a href="{{ url_for(c) }}">{{ c.title }}</a>{% endfor %}'
        '{% for t in terms_of(entry, "topics") %}<a href="{{ t.url }}">{{ t.label }}</a>'
        "{% endfor %}{{ entry.body | rte }}{% endblock %}"
    ),
    "category.html": (
        "{% extends 'base.html' %}{% block main %}<h1>{{ entry.title }}</h1><ul>"
        "{% for p in entries('post') if entry.uid in (p.categories | map(attribute='uid') | list) %}"
        "<li>{{ p.title }}</li>{% endfor %}</ul>{% endblock %}"
    ),
    "embedded/post.html": '<aside class="embed">{{ item.title }} → {{ url_for(item) }}</aside>',
    "list.html": (
        '<!doctype html><html lang="{{ locale }}"><h1>Posts, page {{ paginator.number }} of '
        "{{ paginator.total_pages }} ({{ paginator.total_items }})</h1><ol>"
        '{% for p in paginator.items %}<li><a href="{{ url_for(p) }}">{{ p.title }}</a> by '
        "{{ p.author[0].title if p.author else 'nobody' }}</li>{% endfor %}</ol>"
        '{% if paginator.previous_url %}<a rel=prev href="{{ paginator.previous_url }}">←</a>{% endif %}'
        '{% if paginator.next_url %}<a rel=next href="{{ paginator.next_url }}">→</a>{% endif %}'
        '<nav>{% for t in terms("cats") %}<a href="{{ t.url }}">{{ t.label }} ({{ t.count }})</a>'
        "{% endfor %}</nav></html>\n"
    ),
    "topic.html": (
        '<!doctype html><html lang="{{ locale }}"><h1>{{ term.label }} ({{ term.count }})</h1>'
        '{% for a in term.ancestors %}<a href="{{ a.url }}">{{ a.label }}</a>/{% endfor %}'
        '{% for c in term.children %}<a href="{{ c.url }}">{{ c.label }} {{ c.count }}</a>'
        "{% endfor %}{% for p in paginator.items %}<p>{{ p.title }}</p>{% endfor %}"
        "<p>{{ paginator.number }}/{{ paginator.total_pages }}</p></html>\n"
    ),
    "term.html": (
        '<!doctype html><html lang="{{ locale }}"><h1>{{ term.label }}: {{ term.count }}</h1>'
        "{% for p in paginator.items %}<p>{{ p.title }} {{ url_for(p) }}</p>{% endfor %}"
        "<p>{{ paginator.number }}/{{ paginator.total_pages }}</p></html>\n"
    ),
}

LISTINGS = """
[[pages]]
path = "/posts/"
template = "list.html"
content_type = "post"
per_page = 2
sort = ["author.title", "-title"]

[[pages]]
path = "/by-category/{term}/"
name = "cats"
template = "term.html"
content_type = "post"
per_page = 2
sort = "title"
terms = "categories"
filter = { title = { "$regex" = "^(Post|Edited|Zed)" } }

[[pages]]
path = "/topics/{term}/"
name = "topics"
template = "topic.html"
content_type = "post"
per_page = 2
sort = "title"
terms = "taxonomies.topics"

[personalize]
variants = ["cs_personalize_0_0"]
content_types = ["post", "home"]

[[feeds]]
path = "/feed.xml"
content_type = "post"
limit = 3
sort = "-title"
summary = "title"
content = "body"
"""

LOCALES = ["en-us", "fr-fr", "de-de"]

# Shapes of the "topics" taxonomy the tests switch between: the first is where it starts. Each
# is (uid, fr-fr name or None, children); moves, renames and a deleted term ("design" is gone
# from the last, "ops" moves under "web", "perf" is renamed).
TOPIC_TREES: list[list[Any]] = [
    [
        ("eng", "Ingénierie", [("web", None, [("perf", "Performance", [])]), ("ops", None, [])]),
        ("design", "Conception", []),
    ],
    [
        ("eng", None, [("web", "Toile", [("perf", "Vitesse", []), ("ops", None, [])])]),
        ("design", "Conception", []),
    ],
    [
        ("design", None, [("eng", "Ingénierie", [("ops", None, []), ("web", None, [])])]),
        ("perf", "Performance", []),
    ],
    [("eng", "Ingénierie", [("web", None, [("perf", None, []), ("ops", None, [])])])],
]
TOPIC_TAGS = [[], ["perf"], ["ops"], ["design", "web"], ["eng"]]


def write_json(path: Path, data: Any) -> None:
    """Write a file with a modification time that always moves forward.

    The local stack notices edits by size and mtime first; back-to-back test edits can land in
    the same clock tick, so each write gets its own, later mtime.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    touch(path)


def touch(path: Path) -> None:
    stamp = time.time_ns() + next(_clock) * 1_000_000
    os.utime(path, ns=(stamp, stamp))


def body(text: str, embeds: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "type": "doc",
        "uid": "d",
        "attrs": {},
        "children": [{"type": "p", "uid": "p", "attrs": {}, "children": [{"text": text}]}, *embeds],
    }


def tags(terms: list[str]) -> list[dict[str, str]]:
    return [{"taxonomy_uid": "topics", "term_uid": term} for term in terms]


def ref(uid: str, content_type: str) -> list[dict[str, str]]:
    return [{"uid": uid, "_content_type_uid": content_type}]


class TwinSites:
    """Site a (incremental) and site b (always full) over one stack folder."""

    def __init__(self, root: Path, posts: int = 6):
        self.a = root / "a"
        self.b = root / "b"
        self.stack = self.a / "stack"
        self._write_stack(posts)
        for name, text in TEMPLATES.items():
            self.write_template(name, text)
        (self.a / "sitegen.toml").write_text(self._toml('local = "stack"', "templates"))
        self.b.mkdir()
        (self.b / "sitegen.toml").write_text(self._toml('local = "../a/stack"', "../a/templates"))

    @staticmethod
    def _toml(local: str, templates: str) -> str:
        return (
            f'[stack]\n{local}\nenvironment = "production"\ninclude_depth = 2\n'
            f'[site]\nbase_url = "https://example.com"\ntemplates = "{templates}"\n'
            f"locales = {json.dumps(LOCALES)}\n"
            '[locales.fr-fr]\nprefix = "/fr"\n[locales.de-de]\nprefix = "/de"\n' + LISTINGS
        )

    def _write_stack(self, posts: int) -> None:
        write_json(
            self.stack / "stack.json",
            {
                "name": "Twins",
                "environments": ["production"],
                "locales": [
                    {"code": "en-us", "name": "English"},
                    {"code": "fr-fr", "name": "Français", "fallback_locale": "en-us"},
                    {"code": "de-de", "name": "Deutsch", "fallback_locale": "fr-fr"},
                ],
            },
        )
        for uid, schema in CONTENT_TYPES.items():
            write_json(
                self.stack / f"content_types/{uid}.json",
                {"uid": uid, "title": uid, "schema": schema},
            )
        for i in range(2):
            self.put_asset(f"img{i}", f"picture {i}")
        self.put("team", "core", "en-us", {"title": "Core"})
        self.put("team", "docs", "en-us", {"title": "Docs"})
        self.put(
            "author", "ada", "en-us", {"title": "Ada", "team": ref("core", "team"), "photo": "img0"}
        )
        self.put("author", "bob", "en-us", {"title": "Bob", "team": ref("docs", "team")})
        for c in ("news", "howto"):
            self.put("category", c, "en-us", {"title": c.title(), "url": f"/c/{c}/"})
        self.put_topics(0)
        write_json(
            self.stack / "variant_groups/visitors.json",
            {
                "name": "Visitors",
                "content_types": ["post", "home"],
                "personalize_metadata": {"experience_short_uid": "0"},
                "variants": [
                    {
                        "uid": "returning",
                        "name": "Returning",
                        "personalize_metadata": {"variant_short_uid": "0"},
                    }
                ],
            },
        )
        self.put("home", "home", "en-us", {"title": "Home", "url": "/"})
        self.put("home", "home", "fr-fr", {"title": "Accueil", "url": "/"})
        for i in range(posts):
            self.put("post", f"p{i}", "en-us", self.post_fields(i))

    @staticmethod
    def post_fields(
        i: int, title: str | None = None, author: str = "ada", embed: str | None = None
    ) -> dict:
        embeds = [embed_entry(embed)] if embed else []
        if i % 3 == 0:
            embeds.append(embed_asset("img1", "img1.svg"))
        return {
            "title": title or f"Post {i}",
            "url": f"/posts/p{i}/",
            "author": ref(author, "author"),
            "categories": ref("news" if i % 2 else "howto", "category"),
            "body": body(f"Body of post {i}.", embeds),
            "taxonomies": tags(TOPIC_TAGS[i % 4]),
        }

    def put_topics(self, shape: int) -> set[str]:
        """Write the topics taxonomy in one of TOPIC_TREES; returns its term uids."""
        found: set[str] = set()

        def terms(nodes: list[Any]) -> list[dict[str, Any]]:
            out = []
            for uid, french, children in nodes:
                found.add(uid)
                term: dict[str, Any] = {"uid": uid, "name": uid.title()}
                if french:
                    term["names"] = {"fr-fr": french}
                if children:
                    term["terms"] = terms(children)
                out.append(term)
            return out

        write_json(
            self.stack / "taxonomies/topics.json",
            {"name": "Topics", "terms": terms(TOPIC_TREES[shape])},
        )
        return found

    def variant_path(self, content_type: str, uid: str, locale: str) -> Path:
        """The file of the "returning" variant's changes to an entry."""
        return self.stack / f"variants/returning/{content_type}/{uid}.{locale}.json"

    def path(self, content_type: str, uid: str, locale: str) -> Path:
        return self.stack / f"entries/{content_type}/{uid}.{locale}.json"

    def put(self, content_type: str, uid: str, locale: str, fields: dict[str, Any]) -> None:
        write_json(self.path(content_type, uid, locale), fields)

    def read(self, content_type: str, uid: str, locale: str) -> dict[str, Any]:
        return json.loads(self.path(content_type, uid, locale).read_text(encoding="utf-8"))

    def put_asset(self, uid: str, title: str) -> None:
        svg = f"<svg xmlns='http://www.w3.org/2000/svg'><title>{title}</title></svg>"
        folder = self.stack / "assets" / uid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uid}.svg").write_text(svg)
        touch(folder / f"{uid}.svg")
        write_json(
            self.stack / f"assets/{uid}.json",
            {"title": title, "filename": f"{uid}.svg", "content_type": "image/svg+xml"},
        )

    def write_template(self, name: str, text: str) -> None:
        path = self.a / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        touch(path)
