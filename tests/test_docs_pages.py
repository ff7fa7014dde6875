"""sitegen's own documentation (docs/) is complete where a reader relies on it being complete.

The reference pages are checked against the code they describe, so a new command, option,
setting, template function or context key cannot ship undocumented: every command of the CLI
has a section naming all its options and arguments; every table of ``sitegen.toml`` a section
naming every key the loader reads in it (found by loading a config that uses every table);
every function, filter and context key sitegen gives templates appears on the template
reference. Every page carries the front matter the docs templates show.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click
import jinja2
import pytest

from sitegen.build.pipeline import build_site
from sitegen.build.render import Renderer
from sitegen.cli.main import cli
from sitegen.config import load
from sitegen.config.load import ARRAYS_OF_TABLES, TABLES, load_config

ROOT = Path(__file__).parent.parent
PAGES = ROOT / "docs" / "stack" / "entries" / "doc"
SECTIONS = {"getting-started", "concepts", "guides", "reference"}


def front_matter(path: Path) -> tuple[dict, str]:
    """A Markdown entry's TOML front matter and its text."""
    text = path.read_text(encoding="utf-8")
    _, head, body = text.split("+++\n", 2)
    return tomllib.loads(head), body


def page(uid: str) -> str:
    path = PAGES / f"{uid}.en-us.md"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    return front_matter(path)[1]


def sections(text: str) -> dict[str, str]:
    """Every heading's text mapped to its section: the lines up to the next heading of the same
    or a higher level (so a ``##`` section holds its ``###`` subsections)."""
    lines = text.splitlines()
    headings = []
    fenced = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^(#{2,6}) (.+?)\s*$", line)):
            headings.append((i, len(m.group(1)), m.group(2)))
    found = {}
    for n, (i, level, title) in enumerate(headings):
        end = next((j for j, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
        found[title] = "\n".join(lines[i + 1 : end])
    return found


# -- every page ----------------------------------------------------------------------------------


def test_every_page_has_the_front_matter_the_templates_show():
    files = sorted(PAGES.glob("*.md"))
    assert len(files) >= 20, [p.name for p in files]
    urls: dict[str, str] = {}
    for path in files:
        meta, body = front_matter(path)
        name = path.relative_to(ROOT)
        assert path.name == f"{path.name.split('.')[0]}.en-us.md", name
        for key in ("title", "url", "summary", "order", "section"):
            assert meta.get(key), f"{name}: no {key}"
        assert meta["section"][0]["uid"] in SECTIONS, f"{name}: section {meta['section']}"
        assert re.fullmatch(r"(/[a-z0-9-]+)+/", meta["url"]), f"{name}: url {meta['url']}"
        assert meta["url"].startswith("/" + meta["section"][0]["uid"] + "/"), name
        assert meta["url"] not in urls, f"{name} and {urls.get(meta['url'])} share a url"
        urls[meta["url"]] = str(name)
        assert "\n" not in meta["summary"] and len(meta["summary"]) < 220, f"{name}: summary"
        prose = re.sub(r"^```.*?^```", "", body, flags=re.M | re.S)  # code may hold "# x"
        assert not re.search(r"^# ", prose, re.M), f"{name}: headings start at ## (h1 is the title)"
        assert len(body.split()) > 150, f"{name}: {len(body.split())} words"
    assert not (ROOT / "docs" / "contentstack-cda-facts.md").exists(), "moved into the docs site"


# -- commands ------------------------------------------------------------------------------------


def commands(group: click.Group, path: str = "sitegen") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")
        else:
            yield f"{path} {name}", command


def test_the_commands_reference_names_every_command_option_and_argument():
    text = sections(page("commands"))
    found = list(commands(cli))
    assert len(found) >= 10, [p for p, _ in found]
    missing = []
    for path, command in found:
        section = text.get(f"`{path}`")
        if section is None:
            missing.append(f"a heading `{path}`")
            continue
        for param in command.params:
            if isinstance(param, click.Argument):
                names = [param.human_readable_name.upper()]
            else:
                if param.hidden or "--help" in param.opts:
                    continue
                longest = max(param.opts, key=len)
                names = [longest, *[o for o in param.secondary_opts if o.startswith("--")]]
            missing += [f"{path}: {n}" for n in names if f"`{n}" not in section]
    assert not missing, "not on docs/…/commands.en-us.md:\n" + "\n".join(missing)


# -- configuration -------------------------------------------------------------------------------


def every_table_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """The keys the loader reads in each table, keyed by the table's TOML heading: the example
    site's config, plus one of each table it lacks, loaded with the loader's own key tracking
    recorded."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "example_site", site, ignore=shutil.ignore_patterns("public", ".*"))
    with (site / "sitegen.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[content_types.post]\ntemplate = "post.html"\n'
            '\n[[taxonomies]]\nuid = "topics"\nname = "topic_terms"\npath = "/topic/{term}/"\ncontent_type = "post"\n'
        )
    seen: dict[str, set[str]] = {}
    check = load._Table.check_unknown

    def recording(table: load._Table) -> None:
        name = re.sub(r"\[\d+\]$", "", table.path)
        name = f"[[{name}]]" if name in ARRAYS_OF_TABLES else f"[{name}]"
        name = re.sub(r"^\[(locales|content_types)\..+\]$", r"[\1.<", name)
        seen.setdefault(name, set()).update(table.known)
        check(table)

    monkeypatch.setattr(load._Table, "check_unknown", recording)
    load_config(site, env={})
    seen.pop("[]")  # the top level: its names are the tables
    return seen


def test_the_configuration_reference_names_every_table_and_key(tmp_path, monkeypatch):
    tables = every_table_read(tmp_path, monkeypatch)
    for name in (*TABLES, *ARRAYS_OF_TABLES):
        if name not in ("locales", "content_types", "extra"):  # their keys are names you choose
            assert f"[{name}]" in tables or f"[[{name}]]" in tables, f"{name} not exercised"
    text = sections(page("configuration"))
    missing = []
    for table, keys in sorted(tables.items()):
        heading = next((h for h in text if f"`{table}" in h), None)
        if heading is None:
            missing.append(f"a heading with `{table}`")
            continue
        missing += [f"{table} {key}" for key in sorted(keys) if f"`{key}`" not in text[heading]]
    for name in ("locales", "content_types", "extra"):
        if not any(f"`[{name}" in h for h in text):
            missing.append(f"a heading with `[{name}`")
    assert not missing, "not on docs/…/configuration.en-us.md:\n" + "\n".join(missing)


# -- templates -----------------------------------------------------------------------------------


def members(value: object) -> list[str]:
    """The keys of a dict; the fields and properties of a dataclass (a template's ``x.y``)."""
    if isinstance(value, dict):
        return list(value)
    if dataclasses.is_dataclass(value):
        properties = [n for n, v in vars(type(value)).items() if isinstance(v, property)]
        return [f.name for f in dataclasses.fields(value)] + properties
    return []


def test_the_template_reference_names_every_function_filter_and_context_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Built for real (the example site has entry pages, listings, term pages, a feed, a sitemap
    and a 404 page), with every context a template is given recorded."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "example_site", site, ignore=shutil.ignore_patterns("public", ".*"))
    given: set[str] = set()
    renderers: list[Renderer] = []
    original = Renderer._render

    def recording(self: Renderer, template: str, context: dict, where: str):
        renderers.append(self)
        given.update(context)
        for name, value in context.items():  # and what page, paginator, term, feed… hold
            if name not in ("entry", "site"):  # an entry's keys are its content type's fields
                given.update(f"{name}.{key}" for key in members(value))
        return original(self, template, context, where)

    monkeypatch.setattr(Renderer, "_render", recording)
    build_site(load_config(site, env={}), jobs=1)  # in this process, where it is recorded
    env = renderers[0].env
    plain = jinja2.Environment()
    names = {
        *given,
        *(set(env.globals) - set(plain.globals)),
        *(set(env.filters) - set(plain.filters)),
        *(set(env.tests) - set(plain.tests)),
        *(f"site.{key}" for key in renderers[0].site),
    }
    assert {"url_for", "rte", "entries", "site.base_url", "page.url", "paginator"} <= names
    text = page("template-reference")
    missing = sorted(n for n in names if f"`{n}" not in text)  # as a template writes it
    assert not missing, "not on docs/…/template-reference.en-us.md: " + ", ".join(missing)
