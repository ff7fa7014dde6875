"""Template mistakes made visible: undefined values used in output, ``url_for()`` of an entry
without a page, ``t()`` of a key no translation file has.

Jinja renders all three as something quiet (an empty string, ``None``, the key), so a typo such
as ``{{ entry.titel }}`` used to pass unnoticed. Here they become warnings naming the template
and line, what was undefined and why; the build names the page (see :func:`report`).

What warns and what does not:

- An undefined value warns when it is *used*: printed, iterated, passed to a filter that prints
  it. Testing it (``{% if entry.x %}``, ``entry.x is defined``, ``entry.x | default(…)``,
  ``entry.seo and entry.seo.title``) is silent, and so are attribute chains on it
  (``{% if entry.seo.title %}``): :class:`TemplateUndefined` is a ``ChainableUndefined``.
- Empty content is not a mistake: a field of the content type's schema that an entry lacks
  (Contentstack omits fields that were never filled), a lookup on ``None`` (a null field),
  an index past the end of a list (an empty reference field). None prints as "", not "None".
- ``url_for()`` of an entry without a page gives an undefined value that says why: it tests
  false, ``| default(…)`` replaces it, and printing it renders "" and warns.

A warning is recorded as a dependency of the page (kind :data:`WARNING`, key: JSON of
template, line and message), so it comes back from worker processes with the page's other
dependencies, is kept in the state with its page, and is reported once per (template, line,
message) with the first page that has it and how many others do. An incremental build repeats
the warnings of pages it did not render again: the site still has them.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import jinja2
from jinja2 import nodes
from jinja2.utils import missing

from sitegen.content.urls import page_url

if TYPE_CHECKING:
    from types import FrameType

    from sitegen.config import SiteConfig
    from sitegen.store import Page, Store

WARNING = "warning"  # the dependency kind of a page's template warnings

# Keys every entry has (or may lack without it being a template's mistake), beside its fields
ENTRY_KEYS = frozenset(
    {
        "uid",
        "title",
        "url",
        "locale",
        "tags",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "publish_details",
        "ACL",
        "_version",
        "_in_progress",
        "_metadata",
        "_embedded_items",
        "_content_type_uid",
        "taxonomies",
    }
)
# Keys of what else sits in content: assets, link fields, JSON-RTE nodes
CONTENT_KEYS = ENTRY_KEYS | {
    "filename",
    "content_type",
    "file_size",
    "dimension",
    "height",
    "width",
    "description",
    "parent_uid",
    "is_dir",
    "href",
    "type",
    "attrs",
    "children",
    "text",
}


def warning_key(template: str, line: int | None, message: str) -> str:
    return json.dumps([template, line, message], ensure_ascii=False)


@dataclass(frozen=True)
class Said:
    """The ``obj`` of an undefined value that knows what to say when used: ``text``, or
    nothing at all (None: empty content, not a mistake)."""

    text: str | None


class Listener(Protocol):
    """What an undefined value tells when output uses it (the Renderer, which imports us)."""

    def note_undefined(self, value: TemplateUndefined) -> None: ...


class TemplateUndefined(jinja2.ChainableUndefined):
    """Jinja's undefined value, which tells its renderer when a page uses it in output.

    Tests, ``default``, ``is defined``, comparisons, ``length`` and attribute chains stay silent;
    printing and iterating tell. A renderer makes its own subclass, bound to it.
    """

    __slots__ = ()
    renderer: ClassVar[Listener | None] = None

    def _tell(self) -> None:
        if self.renderer is not None:
            self.renderer.note_undefined(self)

    def __str__(self) -> str:
        self._tell()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._tell()
        return iter(())

    @property
    def _undefined_message(self) -> str:  # errors (``x + 1``): say what it is
        if isinstance(self._undefined_obj, Said):
            return self._undefined_obj.text or "an empty value"
        return super()._undefined_message


def bound_undefined(renderer: Listener) -> type[TemplateUndefined]:
    return type("Undefined", (TemplateUndefined,), {"__slots__": (), "renderer": renderer})


def touch(value: Any) -> None:
    """Use an undefined value as printing would (a filter that renders it as nothing)."""
    if isinstance(value, jinja2.Undefined):
        str(value)


# -- where in which template -------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    template: jinja2.Template
    line: int | None
    frame: FrameType


def template_location() -> Location | None:
    """The innermost template frame running now: the template (an included one, a macro's)
    and its line."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if isinstance(template, jinja2.Template):
            return Location(template, template.get_corresponding_lineno(frame.f_lineno), frame)
        frame = frame.f_back
    return None


# -- what to say about an undefined value --------------------------------------------------------


class Schemas:
    """The field uids of the stack's content types: which missing keys are empty content."""

    def __init__(self, content_types: Mapping[str, Mapping[str, Any]]):
        self.fields: dict[str, frozenset[str]] = {}
        nested: set[str] = set()
        for uid, content_type in content_types.items():
            schema = content_type.get("schema") or []
            self.fields[uid] = frozenset(
                f["uid"] for f in schema if isinstance(f, Mapping) and isinstance(f.get("uid"), str)
            )
            nested.update(_uids(schema))
        self.nested = frozenset(nested)

    def known(self, content_type: str | None, name: str) -> bool:
        if content_type in self.fields:
            return name in self.fields[content_type] or name in ENTRY_KEYS
        return name in self.nested or name in CONTENT_KEYS


def _uids(schema: Any) -> Iterator[str]:
    """Every field and block uid in a schema, groups, global fields and blocks included."""
    for field in schema if isinstance(schema, list) else ():
        if not isinstance(field, Mapping):
            continue
        if isinstance(field.get("uid"), str):
            yield field["uid"]
        yield from _uids(field.get("schema"))
        for block in field.get("blocks") or ():
            if isinstance(block, Mapping):
                if isinstance(block.get("uid"), str):
                    yield block["uid"]
                yield from _uids(block.get("schema"))


def explain(
    value: jinja2.Undefined,
    schemas: Schemas,
    where: Location | None,
    tree_of: Callable[[str], nodes.Template | None],
) -> str | None:
    """What a template should hear about using ``value``, or None when it is empty content.
    ``tree_of``: a template's syntax tree by name, to spell the expression that failed."""
    obj, name, hint = value._undefined_obj, value._undefined_name, value._undefined_hint
    if isinstance(obj, Said):
        return obj.text
    if obj is missing:  # a variable
        if hint:
            return f"{name} is undefined: {hint}"
        return (
            f"{name} is undefined: there is no variable {name!r} on this page"
            f"{_did_you_mean(name, _variables(where))}"
        )
    if obj is None or isinstance(obj, jinja2.Undefined):
        return None  # a null field: empty content
    if isinstance(name, int) and isinstance(obj, list | tuple):
        return None  # past the end of a list (an empty reference field): empty content
    expression = _expression(where, name, tree_of) if where is not None else None
    if isinstance(obj, Mapping):
        content_type = obj.get("_content_type_uid")
        content_type = content_type if isinstance(content_type, str) else None
        if isinstance(name, str) and schemas.known(content_type, name):
            return None  # a field of the schema this entry lacks: empty content
        candidates = list(schemas.fields.get(content_type, ())) + [
            key for key in obj if isinstance(key, str)
        ]
        guess = _did_you_mean(name, candidates)
        if content_type in schemas.fields:
            subject = expression or f"{name!r} of an entry of content type {content_type!r}"
            return f"{subject} is undefined: content type {content_type!r} has no field {name!r}{guess}"
        base = _base(expression, name)
        if base:
            return f"{expression} is undefined: {base} has no {name!r}{guess}"
        return f"{name!r} is undefined: it was looked up on a mapping without it{guess}"
    kind = type(obj).__name__
    if isinstance(obj, list | tuple) and isinstance(name, str):
        base = _base(expression, name)
        if base:
            return (
                f"{expression} is undefined: {base} is a list, which has no {name!r} "
                f"(did you mean {base}[0].{name}?)"
            )
        return f"{name!r} is undefined: it was looked up on a list (use [0] for its first item)"
    base = _base(expression, name)
    if base:
        return f"{expression} is undefined: {base} is a {kind}, which has no {name!r}"
    return f"{name!r} is undefined: it was looked up on a {kind}, which has no {name!r}"


def _base(expression: str | None, name: Any) -> str | None:
    """What ``expression`` looked ``name`` up on: ``entry.seo`` of ``entry.seo.title``."""
    if expression is None or " or " in expression:
        return None
    for tail in (f".{name}", f"[{name!r}]"):
        if expression.endswith(tail) and len(expression) > len(tail):
            return expression[: -len(tail)]
    return None


def _did_you_mean(name: Any, candidates: Iterable[str]) -> str:
    if not isinstance(name, str):
        return ""
    found = difflib.get_close_matches(name, sorted(set(candidates) - {name}), n=1, cutoff=0.7)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _variables(where: Location | None) -> list[str]:
    """The names a template could have meant: its context's variables and globals."""
    if where is None:
        return []
    context = where.frame.f_locals.get("context")
    if isinstance(context, jinja2.runtime.Context):
        return [name for name in context.get_all() if isinstance(name, str)]
    return []


def _expression(
    where: Location, name: Any, tree_of: Callable[[str], nodes.Template | None]
) -> str | None:
    """The expression on the template's line that looked ``name`` up (``entry.titel``,
    ``entry['titel']``, ``item.author[0].title``), from the template's syntax tree."""
    tree = tree_of(where.template.name) if where.template.name else None
    if tree is None:
        return None
    found: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            hit = node.attr == name
        else:
            hit = isinstance(node.arg, nodes.Const) and node.arg.value == name
        if hit and node.lineno == where.line:
            text = _source(node)
            if text and text not in found:
                found.append(text)
    return " or ".join(found) if found else None


def _source(node: nodes.Node) -> str | None:
    """An expression node as a template would spell it (None when too complex to say)."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        base = _source(node.node)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem):
        base = _source(node.node)
        if base and isinstance(node.arg, nodes.Const):
            return f"{base}[{node.arg.value!r}]"
        if base and isinstance(node.arg, nodes.Name):
            return f"{base}[{node.arg.name}]"
        return None
    if isinstance(node, nodes.Call):
        base = _source(node.node)
        return f"{base}(…)" if base else None
    return None


# -- the build's report ------------------------------------------------------------------------


def report(config: SiteConfig, store: Store, extra: Iterable[tuple[str, str]] = ()) -> list[str]:
    """One line per (template, line, message) of the site's pages, naming the first page that
    has it and how many others do. ``extra``: (key, description) of pages the state does not
    hold (variant pages)."""
    pages: dict[str, list[tuple[str, str]]] = {}
    rows = [(key, ("file", file)) for key, file in store.graph.dep_rows(WARNING)]
    rows += [(key, ("said", said)) for key, said in extra]
    for key, handle in rows:
        handles = pages.setdefault(key, [])
        if handle not in handles:
            handles.append(handle)
    lines = []
    for key in sorted(pages, key=_order):
        template, line, message = json.loads(key)
        handles = pages[key]
        kind, value = handles[0]
        first = describe(config, _page(store, value), value) if kind == "file" else value
        where = f"{template}:{line}" if line else template
        others = len(handles) - 1
        more = f" and on {others} other page{'s' if others != 1 else ''}" if others else ""
        lines.append(f"{where}: {message}; on {first}{more}")
    return lines


def warning_lines(keys: Iterable[str]) -> list[str]:
    """One page's warnings as lines, ``template:line: message`` (the preview server's log)."""
    lines = []
    for key in sorted(keys, key=_order):
        template, line, message = json.loads(key)
        lines.append(f"{template}:{line}: {message}" if line else f"{template}: {message}")
    return lines


def _order(key: str) -> tuple[str, int, str]:
    template, line, message = json.loads(key)
    return template, line or 0, message


def _page(store: Store, file: str) -> Page | None:
    return next((p for batch in store.graph.pages([file]) for p in batch), None)


def describe(config: SiteConfig, page: Page | None, file: str) -> str:
    """A page as a warning names it: its url, and the entry it shows."""
    if page is None:
        return f"page {config.output.name}/{file}"
    prefix = next((loc.prefix for loc in config.locales if loc.code == page.locale), "")
    url = page_url(page.url, prefix) if page.url else f"{config.output.name}/{file}"
    if page.kind == "entry":
        return (
            f"page {url} (entry {page.uid!r} of content type {page.content_type!r}, {page.locale})"
        )
    if page.kind == "listing":
        return f"page {url} ({page.source}, page {page.number}, {page.locale})"
    return f"{page.kind} {url} ({page.locale})"
