"""Property-based fuzzing of the two loaders a user feeds by hand: sitegen.toml and a stack folder.

Both are edited by people, so any document, however broken, must end in sitegen's own error
(:class:`~sitegen.errors.SitegenError`, which the CLI prints as one line naming the file) or in a
loaded value: never a ``KeyError``/``TypeError``/``AttributeError`` traceback. The documents are
hostile but plausible: the valid fixtures mutated (wrong types, unknown keys, nested tables,
huge, unicode and NUL strings, bad ``${VAR}`` references, malformed JSON, odd file names).

Bounded for CI: a fixed number of examples per property and no deadline (file I/O is noisy).
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.config import load_config
from sitegen.errors import ConfigError, SitegenError, StackFolderError
from sitegen.stack import load_stack
from tests.stack_fixtures import FIXTURES

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # CI runs the same documents every time; a failure reproduces
)

# -- values ---------------------------------------------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "${NOPE}",
            "${}",
            "$",
            "$$",
            "${HOME",
            "${1BAD}",
            "${SET}",
            "..",
            "/",
            "../../etc",
            "//x",
            "/a/../b/",
            "/{term}/",
            "{",
            "en-us",
            "fr-fr",
            "post",
            "production",
            "http://",
            "https://example.com",
            "ftp://x",
            "é" * 3,
            "\u202e\ufeff",
            "x" * 5000,
        ]
    ),
)
JSON_SCALARS = st.one_of(
    HOSTILE_TEXT,
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 5, 65, 601, 10_001, 86_401, 0.0, 1e308, -0.0]),
)
STACK_KEYS = [  # every [stack] setting
    "local",
    "host",
    "region",
    "environment",
    "api_key",
    "delivery_token",
    "branch",
    "include_depth",
    "concurrency",
    "timeout",
    "max_tries",
]
# TOML has dates and times too
SCALARS = JSON_SCALARS | st.datetimes(timezones=st.none() | st.just(UTC)) | st.dates() | st.times()
KEYS = st.one_of(
    st.sampled_from(
        [
            "site",
            "stack",
            "locales",
            "content_types",
            "extra",
            "pages",
            "feeds",
            "sitemap",
            "hook",
            "analytics",
            "assets",
            "preview",
            *STACK_KEYS,
            "base_url",
            "title",
            "output",
            "templates",
            "static",
            "state_dir",
            "path",
            "template",
            "content_type",
            "sort",
            "filter",
            "terms",
            "per_page",
            "limit",
            "name",
            "prefix",
            "summary",
            "content",
            "enabled",
            "download",
            "deploy_command",
            "build_hook_url",
            "debounce",
            "max_age",
            "org_uid",
            "preview_token",
            "en-us",
            "fr-fr",
            "post",
            "$eq",
            "$in",
            "$exists",
        ]
    ),
    st.text(min_size=1, max_size=8),
)


def nested(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Scalars, lists and tables of them, a few levels deep."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)
        ),
        max_leaves=12,
    )


JSONISH = nested(SCALARS)  # TOML values
JSON_VALUES = nested(JSON_SCALARS)

# -- sitegen.toml ---------------------------------------------------------------------------------

BASE_CONFIG: dict[str, Any] = {
    "stack": {"local": "stack", "environment": "production"},
    "site": {
        "base_url": "https://example.com",
        "title": "Fuzz",
        "locales": ["en-us", "fr-fr"],
    },
    "locales": {"fr-fr": {"prefix": "/fr", "name": "Français"}},
    "content_types": {"post": {"template": "post.html"}},
    "pages": [
        {"path": "/blog/", "template": "list.html", "content_type": "post", "sort": "-date"},
        {"path": "/tags/{term}/", "template": "list.html", "content_type": "post", "terms": "tags"},
    ],
    "feeds": [{"path": "/feed.xml", "content_type": "post", "filter": {"tags": {"$in": ["a"]}}}],
    "hook": {"debounce": 1, "max_age": 60},
    "analytics": {"timeout": 10},
    "assets": {"download": True, "path": "media"},
    "preview": {"base_url": "https://preview.example.com"},
    "sitemap": {"enabled": True},
}


class Deep:
    """An array nested ``depth`` levels: deeper than any parser's recursion should go."""

    def __init__(self, depth: int):
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"


def toml_value(value: Any) -> str:
    """TOML for a value (inline tables and arrays), so any shape can be written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(value)


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but TOML also wants DEL escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_document(data: dict[str, Any]) -> str:
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in data.items())


@st.composite
def mutated_config(draw: st.DrawFn) -> dict[str, Any]:
    """The base config with a few keys set, replaced, wrapped or deleted at any depth."""
    data = json.loads(json.dumps(BASE_CONFIG))
    for _ in range(draw(st.integers(1, 4))):
        node: Any = data
        # walk down a random path of existing containers
        while True:
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            children = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
            if not children or draw(st.booleans()):
                break
            node = draw(st.sampled_from(children))[1]
        action = draw(st.sampled_from(["set", "delete", "wrap"]))
        if isinstance(node, dict):
            key = draw(st.one_of(st.sampled_from(sorted(node) or ["x"]), KEYS))
            if action == "delete":
                node.pop(key, None)
            elif action == "wrap" and key in node:
                node[key] = draw(st.sampled_from([[node[key]], {"x": node[key]}]))
            else:
                node[key] = draw(JSONISH)
        elif node:
            i = draw(st.integers(0, len(node) - 1))
            if action == "delete":
                del node[i]
            else:
                node[i] = draw(JSONISH)
    return data


def site_with(tmp: Path, text: str | bytes) -> Path:
    """A fresh site folder (templates and a tiny local stack) holding this sitegen.toml."""
    site = tmp / "site"
    if site.exists():
        shutil.rmtree(site)
    (site / "templates").mkdir(parents=True)
    shutil.copytree(FIXTURES / "basic", site / "stack")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    (site / "sitegen.toml").write_bytes(raw)
    return site


def assert_loads_or_sitegen_error(site: Path, env: dict[str, str]) -> None:
    try:
        load_config(site, env=env)
    except SitegenError as err:
        message = str(err)
        # the message starts with the file at fault (the local stack folder is a file of its own)
        named = (str(site.resolve() / "sitegen.toml"), str(site.resolve() / "stack"))
        assert message.startswith(named), message[:300]
        assert type(err) is ConfigError or message.startswith(named[1]), message[:300]
    # any other exception escapes and fails the property


ENV = {"SET": "value", "CONTENTSTACK_PREVIEW_TOKEN": "", "HOME": "/root"}

# every setting sitegen.toml knows, as (table path, key); "pages"/"feeds" are arrays of tables
SETTINGS = (
    [(("stack",), k) for k in STACK_KEYS]
    + [
        (("site",), k)
        for k in ["base_url", "title", "locales", "output", "templates", "static", "state_dir"]
    ]
    + [
        (("locales", "fr-fr"), "prefix"),
        (("locales", "fr-fr"), "name"),
        (("content_types", "post"), "template"),
        (("sitemap",), "enabled"),
        (("assets",), "download"),
        (("assets",), "path"),
        (("analytics",), "org_uid"),
        (("analytics",), "host"),
        (("analytics",), "timeout"),
    ]
    + [(("hook",), k) for k in ["deploy_command", "build_hook_url", "debounce", "max_age"]]
    + [(("preview",), k) for k in ["output", "state_dir", "base_url", "host", "preview_token"]]
    + [
        (("pages", 0), k)
        for k in [
            "path",
            "template",
            "title",
            "name",
            "terms",
            "per_page",
            "content_type",
            "sort",
            "filter",
        ]
    ]
    + [
        (("feeds", 0), k)
        for k in [
            "path",
            "content_type",
            "title",
            "limit",
            "summary",
            "content",
            "template",
            "sort",
            "filter",
        ]
    ]
)
HOSTILE_VALUES = st.one_of(
    JSONISH,
    st.sampled_from(["a\x00b", "\x00", "/\x00", "stack\x00", "${NOPE}x", "x" * 100_000]),
    st.builds(Deep, st.sampled_from([50, 400, 2000])),
    st.builds(lambda d: {"$and": [{"a": d}]}, st.builds(Deep, st.sampled_from([10, 3000]))),
)


@FUZZ
@given(setting=st.sampled_from(SETTINGS), value=HOSTILE_VALUES)
def test_each_setting_with_a_hostile_value_ends_in_a_config_error_or_a_config(
    tmp_path: Path, setting: tuple[tuple[str | int, ...], str], value: Any
):
    data = json.loads(json.dumps(BASE_CONFIG))
    table: Any = data
    for part in setting[0]:
        table = table[part]
    table[setting[1]] = value
    site = site_with(tmp_path, toml_document(data))
    assert_loads_or_sitegen_error(site, ENV)


@FUZZ
@given(data=mutated_config())
def test_config_mutations_end_in_a_config_error_or_a_config(tmp_path: Path, data: dict[str, Any]):
    site = site_with(tmp_path, toml_document(data))
    assert_loads_or_sitegen_error(site, ENV)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda head, junk, tail: head + junk + tail,
            st.just(toml_document(BASE_CONFIG)),
            st.sampled_from(
                [
                    "[",
                    "[[site]]",
                    "a = ",
                    "\x00",
                    '"',
                    "[site]\nx=1",
                    "\n[site]\n",
                    "\n[extra]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
                    "\n[extra]\nx = " + "{a = " * 800 + "1" + "}" * 800 + "\n",
                ]
            ),
            st.text(max_size=30),
        ),
    ),
    env_value=st.sampled_from(["", "x", "${SET}", "\x00", "é", "$$", "1e999"]),
)
def test_raw_config_text_ends_in_a_config_error_or_a_config(
    tmp_path: Path, text: str, env_value: str
):
    site = site_with(tmp_path, text)
    env = {**ENV, "CONTENTSTACK_REGION": env_value, "CONTENTSTACK_HOST": env_value}
    assert_loads_or_sitegen_error(site, env)


@FUZZ
@given(raw=st.binary(max_size=64))
def test_config_bytes_end_in_a_config_error_or_a_config(tmp_path: Path, raw: bytes):
    site = site_with(tmp_path, b'[stack]\nlocal = "stack"\n' + raw)
    assert_loads_or_sitegen_error(site, ENV)


# -- the local stack folder -----------------------------------------------------------------------

STACK_FILES = sorted(
    str(p.relative_to(FIXTURES / "basic")) for p in (FIXTURES / "basic").rglob("*.json")
)
ODD_NAMES = st.sampled_from(
    [
        "entries/blog_post/x.json",
        "entries/blog_post/.json",
        "entries/blog_post/x.y.z.w.json",
        "entries/blog_post/x.en-us.draft.json",
        "entries/blog_post/x.xx-yy.json",
        "entries/blog_post/x..json",
        "entries/blog_post/ü.en-us.json",
        "entries/blog_post/x y.en-us.json",
        "entries/Blog Post/x.en-us.json",
        "entries/nope/x.en-us.json",
        "entries/x.en-us.json",
        "entries/blog_post/sub/x.en-us.json",
        "content_types/x.json",
        "content_types/.json",
        "content_types/BAD.json",
        "content_types/notes.txt",
        "assets/x.json",
        "assets/x",
        "assets/.json",
        "assets/x y.json",
        "assets/hero_img/extra.png",
        "stray.json",
    ]
)


def mutate_json(value: Any, draw: st.DrawFn) -> Any:
    """A copy of a JSON document with one node replaced, deleted or re-typed."""
    if isinstance(value, dict) and value and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(value)))
        copy = dict(value)
        choice = draw(st.integers(0, 3))
        if choice == 0:
            del copy[key]
        elif choice == 1:
            copy[key] = draw(JSON_VALUES)
        else:
            copy[key] = mutate_json(copy[key], draw)
        return copy
    if isinstance(value, list) and value and draw(st.integers(0, 3)):
        i = draw(st.integers(0, len(value) - 1))
        copy = list(value)
        if draw(st.booleans()):
            copy[i] = mutate_json(copy[i], draw)
        else:
            copy[i] = draw(JSON_VALUES)
        return copy
    return draw(JSON_VALUES)


@st.composite
def stack_edits(draw: st.DrawFn) -> list[tuple[str, bytes | None]]:
    """Edits to the fixture stack: (relative path, new bytes or None to delete)."""
    edits: list[tuple[str, bytes | None]] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["mutate", "mutate", "mutate", "garble", "deep", "delete", "add"])
        )
        if kind == "add":
            name = draw(ODD_NAMES)
            body = json.dumps(draw(JSON_VALUES)).encode()
            edits.append((name, body))
            continue
        rel = draw(st.sampled_from(STACK_FILES))
        original = json.loads((FIXTURES / "basic" / rel).read_text(encoding="utf-8"))
        if kind == "mutate":
            text = json.dumps(mutate_json(original, draw), ensure_ascii=draw(st.booleans()))
            edits.append((rel, text.encode("utf-8", "surrogatepass")))
        elif kind == "deep":  # nesting past the JSON decoder's recursion limit
            depth = draw(st.sampled_from([100, 100_000]))
            edits.append((rel, b'{"title": ' + b"[" * depth + b"]" * depth + b"}"))
        elif kind == "garble":
            text = json.dumps(original).encode()
            cut = draw(st.integers(0, len(text)))
            edits.append((rel, text[:cut] + draw(st.binary(max_size=8))))
        else:
            edits.append((rel, None))
    return edits


def apply_edits(tmp: Path, edits: list[tuple[str, bytes | None]]) -> Path:
    root = tmp / "stack"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(FIXTURES / "basic", root)
    for rel, body in edits:
        path = root / rel
        if body is None:
            if path.is_file():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            continue
        path.write_bytes(body)
    return root


def assert_stack_loads_or_stack_error(root: Path) -> None:
    try:
        stack = load_stack(root)
        listing = stack.validate_all()
        for code in stack.locale_codes:
            stack.fallback_chain(code)
        assert listing.entries is not None
    except SitegenError as err:
        message = str(err)
        assert type(err) is StackFolderError, message[:300]
        assert message.startswith(str(root)), message[:300]  # names the file (or folder) at fault


@FUZZ
@given(edits=stack_edits())
def test_stack_folder_mutations_end_in_a_stack_error_or_a_stack(
    tmp_path: Path, edits: list[tuple[str, bytes | None]]
):
    assert_stack_loads_or_stack_error(apply_edits(tmp_path, edits))
