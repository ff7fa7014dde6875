"""The Jinja environment: site templates over the package's defaults, filters and globals.

One entry point, :meth:`Renderer.render`: a page in, HTML out. Errors are turned into
:class:`BuildError` messages that name the template file and line and the entry being rendered.
"""

from __future__ import annotations

import hashlib
import traceback
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from sitegen.config import LocaleConfig, SiteConfig
from sitegen.content.markdown import render_markdown
from sitegen.content.rte import EmbedContext, render_rte
from sitegen.content.urls import page_url
from sitegen.errors import BuildError
from sitegen.store import LazyEntry, Store

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
ENTRIES_CACHE_SIZE = 16
URL_CACHE_SIZE = 100_000


Dep = tuple[str, str]  # (kind, key): what a page read, for incremental builds


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that notes every template a render loads.

    ``extends``, ``include``, ``import`` and the page template itself all go through
    ``_load_template``, so a page's set of templates is exact, dynamic names included.
    """

    recording: set[Dep] | None = None

    def _load_template(self, name: Any, globals: Any) -> jinja2.Template:
        template = super()._load_template(name, globals)
        if self.recording is not None and template.name:
            self.recording.add(("template", template.name))
        return template


class Renderer:
    """Renders pages of one build; holds the per-build caches (entry lists, static hashes)."""

    def __init__(self, config: SiteConfig, store: Store, rendered_types: frozenset[str]):
        self.config = config
        self.store = store
        self.rendered_types = rendered_types
        self.locales = {loc.code: loc for loc in config.locales}
        self._entries_cache: OrderedDict[tuple[str, str], list[LazyEntry]] = OrderedDict()
        self._static_hashes: dict[str, str] = {}
        self._embed_templates: dict[str, bool] = {}
        self._urls: dict[tuple[str, str, str | None], str | None] = {}
        search_path = [str(config.templates)]
        if PACKAGE_TEMPLATES.is_dir():
            search_path.append(str(PACKAGE_TEMPLATES))
        self.env = RecordingEnvironment(
            loader=jinja2.FileSystemLoader(search_path),
            autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # entries() gives Mappings that are not dicts: let tojson encode them too
        self.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _plain}
        self.env.filters["rte"] = self._rte_filter
        self.env.filters["markdown"] = _markdown_filter
        self.env.globals.update(
            url_for=self._url_for,
            entries=self._entries,
            static_url=self._static_url,
        )
        self.site = {
            "title": config.title,
            "base_url": config.base_url,
            "default_locale": config.default_locale.code,
            "locales": [
                {"code": loc.code, "name": loc.name, "prefix": loc.prefix} for loc in config.locales
            ],
            "extra": dict(config.extra),
        }

    def has_template(self, name: str) -> bool:
        try:
            self.env.get_template(name)
        except jinja2.TemplateNotFound:
            return False
        except jinja2.TemplateSyntaxError as err:
            raise BuildError(_syntax_message(err, self.config)) from None
        return True

    def render(
        self, template: str, entry: Mapping[str, Any], locale: LocaleConfig, url: str
    ) -> tuple[str, set[Dep]]:
        """Render one entry's page; returns the HTML and what the page read.

        ``url`` is the entry's url field (without locale prefix). The dependencies are
        templates (with their parents and includes), collections listed with ``entries()``,
        URLs looked up with ``url_for()`` and static files; the page's own entry is implied.
        """
        deps: set[Dep] = set()
        self.env.recording = deps
        try:
            return self._render(template, entry, locale, url), deps
        finally:
            self.env.recording = None

    def _render(
        self, template: str, entry: Mapping[str, Any], locale: LocaleConfig, url: str
    ) -> str:
        where = f"entry {entry.get('uid')} of {entry.get('_content_type_uid')} in {locale.code}"
        context = {
            "entry": entry,
            "locale": locale.code,
            "page": {"url": page_url(url, locale.prefix), "locale": locale.code},
            "site": self.site,
        }
        try:
            return self.env.get_template(template).render(context)
        except jinja2.TemplateSyntaxError as err:
            raise BuildError(_syntax_message(err, self.config)) from None
        except BuildError as err:
            raise BuildError(f"{err} (rendering {where})") from None
        except jinja2.TemplateNotFound as err:
            raise BuildError(
                f"{_template_location(err, self.config) or template}: includes or extends "
                f"{err.name!r}, which is not in {self.config.templates} (rendering {where})"
            ) from None
        except Exception as err:  # a runtime error inside a template
            location = _template_location(err, self.config) or template
            raise BuildError(
                f"{location}: {type(err).__name__}: {err} (rendering {where})"
            ) from None

    # -- globals ---------------------------------------------------------------------------------

    def _record(self, kind: str, key: str) -> None:
        if self.env.recording is not None:
            self.env.recording.add((kind, key))

    @jinja2.pass_context
    def _url_for(
        self, ctx: jinja2.runtime.Context, item: Any, locale: str | None = None
    ) -> str | None:
        """The page URL of an entry (full or a reference stub) in a locale, or None."""
        if not isinstance(item, Mapping) or not item.get("uid"):
            return None
        code = locale or ctx.get("locale") or self.config.default_locale.code
        loc = self.locales.get(code)
        if loc is None:
            raise BuildError(f"url_for(): unknown locale {code!r}; use one of site.locales")
        content_type = item.get("_content_type_uid")
        if content_type and content_type not in self.rendered_types:
            return None
        self._record("url", f"{item['uid']}/{code}")
        key = (item["uid"], code, content_type)
        if key not in self._urls:
            if len(self._urls) > URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[key] = self.store.url_of(item["uid"], code, content_type)
        url = self._urls[key]
        if url is None:
            return None
        return page_url(url, loc.prefix)

    @jinja2.pass_context
    def _entries(
        self, ctx: jinja2.runtime.Context, content_type: str, locale: str | None = None
    ) -> list[LazyEntry]:
        """All entries of a content type in a locale (references expanded), newest first."""
        code = locale or ctx.get("locale") or self.config.default_locale.code
        if code not in self.locales:
            raise BuildError(f"entries(): unknown locale {code!r}; use one of site.locales")
        key = (content_type, code)
        self._record("collection", f"{content_type}/{code}")
        cached = self._entries_cache.get(key)
        if cached is None:
            cached = self.store.entries(content_type, code)
            self._entries_cache[key] = cached
            if len(self._entries_cache) > ENTRIES_CACHE_SIZE:
                self._entries_cache.popitem(last=False)
        else:
            self._entries_cache.move_to_end(key)
        return cached

    # -- filters -------------------------------------------------------------------------------

    @jinja2.pass_context
    def _rte_filter(
        self, ctx: jinja2.runtime.Context, value: Any, entry: Mapping[str, Any] | None = None
    ) -> Markup:
        """Rich text to HTML; embedded entries use templates/embedded/<type>.html if present."""
        if value is None or isinstance(value, jinja2.Undefined):
            return Markup("")
        html = render_rte(
            value,
            entry if entry is not None else ctx.get("entry"),
            embed=lambda item, embed: self._embed(ctx, item, embed),
        )
        return Markup("".join(html) if isinstance(html, list) else html)

    def _embed(self, ctx: jinja2.runtime.Context, item: dict, embed: EmbedContext) -> str | None:
        """Render a block or inline embedded entry through the site's template for its type.

        Links keep the default anchor; assets and types without a template keep the default
        markup of @contentstack/utils.
        """
        if embed.kind != "entry" or not item or embed.display_type not in ("block", "inline"):
            return None
        name = f"embedded/{item.get('_content_type_uid')}.html"
        self._record("template", name)  # also when missing: adding it must re-render the page
        if name not in self._embed_templates:
            self._embed_templates[name] = self.has_template(name)
        if not self._embed_templates[name]:
            return None
        context = {
            **ctx.get_all(),
            "item": item,
            "display_type": embed.display_type,
            "attrs": embed.attrs,
        }
        return self.env.get_template(name).render(context)

    def _static_url(self, path: str) -> str:
        """URL of a file in the static folder, with a content hash for cache busting."""
        static = self.config.static
        clean = path.lstrip("/")
        self._record("static", clean)
        if static is None:
            raise BuildError(
                f"static_url({path!r}): the site has no static folder ({self.config.root / 'static'})"
            )
        if clean not in self._static_hashes:
            file = (static / clean).resolve()
            if not file.is_relative_to(static) or not file.is_file():
                raise BuildError(f"static_url({path!r}): no such file {static / clean}")
            self._static_hashes[clean] = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
        return f"/{clean}?v={self._static_hashes[clean]}"


@jinja2.pass_context
def _rte_filter(
    ctx: jinja2.runtime.Context, value: Any, entry: Mapping[str, Any] | None = None
) -> Markup:
    if value is None or isinstance(value, jinja2.Undefined):
        return Markup("")
    html = render_rte(value, entry if entry is not None else ctx.get("entry"))
    return Markup("".join(html) if isinstance(html, list) else html)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _markdown_filter(value: Any) -> Markup:
    if value is None or isinstance(value, jinja2.Undefined):
        return Markup("")
    return Markup(render_markdown(str(value)))


def _syntax_message(err: jinja2.TemplateSyntaxError, config: SiteConfig) -> str:
    name = err.filename or err.name or "template"
    return f"{_relative(name, config)}:{err.lineno}: template syntax error: {err.message}"


def _template_location(err: BaseException, config: SiteConfig) -> str | None:
    """``file:line`` of the innermost template frame in the traceback, if any."""
    location = None
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename.endswith((".html", ".htm", ".xml", ".txt", ".j2", ".jinja")):
            location = f"{_relative(frame.filename, config)}:{frame.lineno}"
    return location


def _relative(filename: str, config: SiteConfig) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(config.root))
    except ValueError:
        return str(path)
