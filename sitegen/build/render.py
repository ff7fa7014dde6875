"""The Jinja environment: site templates over the package's defaults, filters and globals.

One entry point, :meth:`Renderer.render`: a page in, HTML out. Errors are turned into
:class:`BuildError` messages that name the template file and line and the entry being rendered.
"""

from __future__ import annotations

import hashlib
import json
import re
import traceback
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import orjson
from markupsafe import Markup

from sitegen import __version__
from sitegen.build.sorting import DEP as SORTED_DEP
from sitegen.build.sorting import SortFields, sorted_uids
from sitegen.build.sorting import dep_key as sorted_dep_key
from sitegen.build.taxonomies import DEP as TAXONOMY_DEP
from sitegen.build.taxonomies import Taxonomy, term_sets
from sitegen.build.taxonomies import load as load_taxonomies
from sitegen.build.template_warnings import (
    WARNING,
    Said,
    Schemas,
    bound_undefined,
    explain,
    template_location,
    touch,
    warning_key,
)
from sitegen.config import LocaleConfig, SiteConfig
from sitegen.content.edit_tags import cslp
from sitegen.content.images import image_url, srcset
from sitegen.content.markdown import Heading, headings, render_markdown
from sitegen.content.order import FIELD_UID, parse_sort
from sitegen.content.query import MatchContext, QueryError, check_query, matches
from sitegen.content.rte import EmbedContext, render_rte
from sitegen.content.urls import page_url
from sitegen.errors import BuildError
from sitegen.store import LazyEntry, Store
from sitegen.store.fragments import FILE_NAME as FRAGMENTS_FILE
from sitegen.store.fragments import FragmentCache, fragment_key

if TYPE_CHECKING:
    from sitegen.build.assets import AssetUrls
    from sitegen.build.listings import Listings

PACKAGE_TEMPLATES = Path(__file__).parent.parent / "templates"  # sitegen/templates/
ENTRIES_CACHE_SIZE = 16
URL_CACHE_SIZE = 100_000


ROOT_RELATIVE = re.compile(r"""(\b(?:href|src)=["'])/(?!/)""")

Dep = tuple[str, str]  # (kind, key): what a page read, for incremental builds


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that notes every template a render loads.

    ``extends``, ``include``, ``import`` and the page template itself all go through
    ``_load_template``, so a page's set of templates is exact, dynamic names included.
    ``warnings`` collects the page's template warnings (see template_warnings.py).
    """

    recording: set[Dep] | None = None
    warnings: set[str] | None = None

    def _load_template(self, name: Any, globals: Any) -> jinja2.Template:
        template = super()._load_template(name, globals)
        if self.recording is not None and template.name:
            self.recording.add(("template", template.name))
        return template


@dataclass(frozen=True)
class ShippedFiles:
    """The site's files, for workers that cannot read the site folder."""

    templates: dict[str, str]  # Jinja name → source, site templates over the package's
    static_hashes: dict[str, str]  # static path → content hash (for static_url)


class Renderer:
    """Renders pages of one build; holds the per-build caches (entry lists, static hashes)."""

    def __init__(
        self,
        config: SiteConfig,
        store: Store,
        rendered_types: frozenset[str],
        listings: Listings | None = None,
        files: ShippedFiles | None = None,
    ):
        self.config = config
        self.listings = listings
        self.files = files  # a worker on another machine reads the site's files from here
        self.store = store
        self.rendered_types = rendered_types
        # [assets] download: remote asset URLs in rendered pages become the local copies'
        self.asset_urls: AssetUrls | None = None
        self.locales = {loc.code: loc for loc in config.locales}
        self._entries_cache: OrderedDict[
            tuple[str, str, SortFields, int | None], list[LazyEntry]
        ] = OrderedDict()
        self._static_hashes: dict[str, str] = {}
        self._embed_templates: dict[str, bool] = {}
        self._urls: dict[tuple[str, str, str | None], str | None] = {}
        self._translations: dict[str, dict[str, str] | None] = {}
        self._taxonomy_cache: dict[str, Taxonomy] | None = None
        self._schemas: Schemas | None = None  # for template warnings, read when one is due
        self._syntax_trees: dict[str, jinja2.nodes.Template | None] = {}
        # Live Preview edit tags (data-cslp) only where editors preview: never in production
        self.edit_tags = config.preview_mode
        # converted rich text and Markdown kept between builds; not on a remote (Dask) worker
        self.fragments = None if files else FragmentCache(config.state_dir / FRAGMENTS_FILE)
        self._fragment_salt = f"{__version__}|{config.rte_html}|{config.preview_mode}".encode()
        search_path = [str(config.templates)]
        if PACKAGE_TEMPLATES.is_dir():
            search_path.append(str(PACKAGE_TEMPLATES))
        loader: jinja2.BaseLoader = (
            jinja2.DictLoader(files.templates) if files else jinja2.FileSystemLoader(search_path)
        )
        cache = None
        if files is None:  # compiled templates kept between builds (keyed by their source)
            cache = jinja2.FileSystemBytecodeCache(str(_cache_dir(config)))
        self.env = RecordingEnvironment(
            loader=loader,
            bytecode_cache=cache,
            autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=bound_undefined(self),  # used in output, an undefined value warns
            finalize=_finalize,  # None prints as "", not "None"
        )
        # entries() gives Mappings that are not dicts: let tojson encode them too
        self.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _plain}
        self.env.filters["rte"] = self._rte_filter
        self.env.filters["markdown"] = self._markdown_filter
        self.env.filters["toc"] = _toc_filter
        self.env.filters["field"] = _field_filter
        self.env.globals.update(
            url_for=self._url_for_template,
            entries=self._entries,
            static_url=self._static_url,
            alternates=self._alternates,
            t=self._translate,
            image_url=image_url,
            srcset=srcset,
            terms=self._terms,
            terms_of=self._terms_of,
            cslp=self._cslp,
            link=self._link,
        )
        self.env.filters["absolute_urls"] = self._absolute_urls
        self.site = {
            "title": config.title,
            "base_url": config.base_url,
            "default_locale": config.default_locale.code,
            "locales": [
                {"code": loc.code, "name": loc.name, "prefix": loc.prefix} for loc in config.locales
            ],
            "extra": dict(config.extra),
            # "pagefind" when [search] pagefind is on: templates show the search box then
            "search": "pagefind" if config.pagefind else None,
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
        self,
        template: str,
        entry: Mapping[str, Any],
        locale: LocaleConfig,
        url: str,
        variant: str | None = None,
    ) -> tuple[str, set[Dep]]:
        """Render one entry's page; returns the HTML and what the page read.

        ``url`` is the entry's url field (without locale prefix). The dependencies are
        templates (with their parents and includes), collections listed with ``entries()``,
        URLs looked up with ``url_for()``, static files and (when assets are downloaded) the
        remote asset URLs in the page; the page's own entry is implied. ``variant``: the
        Personalize variant alias a variant page is rendered for (``page.variant``).
        """
        where = f"entry {entry.get('uid')} of {entry.get('_content_type_uid')} in {locale.code}"
        context = {
            "entry": entry,
            "locale": locale.code,
            "page": {
                "url": page_url(url, locale.prefix),
                "path": url,
                "locale": locale.code,
                "kind": "entry",
                "variant": variant,
            },
            "site": self.site,
        }
        if variant:
            where += f" (variant {variant})"
        return self._render(template, context, where)

    def render_file(
        self, template: str, locale: str, url: str, extra: dict[str, Any], where: str
    ) -> tuple[str, set[Dep]]:
        """Render a page that is not an entry (listing, feed, sitemap, 404) in a locale."""
        loc = self.locales[locale]
        page = {
            "url": page_url(url, loc.prefix),
            "path": url,
            "locale": locale,
            "kind": "file",
            **extra.pop("page", {}),
        }
        context = {"locale": locale, "page": page, "site": self.site, **extra}
        return self._render(template, context, f"{where} in {locale}")

    def _render(self, template: str, context: dict[str, Any], where: str) -> tuple[str, set[Dep]]:
        deps: set[Dep] = set()
        warnings: set[str] = set()
        self.env.recording, self.env.warnings = deps, warnings
        try:
            html = self.env.get_template(template).render(context)
        except jinja2.TemplateSyntaxError as err:
            raise BuildError(_syntax_message(err, self.config)) from None
        except BuildError as err:  # a helper's complaint: say which template line called it
            location = _template_location(err, self.config)
            said = str(err)
            if location and not said.startswith(location.rsplit(":", 1)[0]):
                said = f"{location}: {said}"
            raise BuildError(f"{said} (rendering {where})") from None
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
        finally:
            self.env.recording = self.env.warnings = None
        if self.asset_urls is not None:
            html, used = self.asset_urls.rewrite(html)
            deps.update(("asset_url", remote) for remote in used)
        deps.update((WARNING, key) for key in warnings)  # they travel and stay with the page
        return html, deps

    # -- template warnings -----------------------------------------------------------------------

    def note_undefined(self, value: jinja2.Undefined) -> None:
        """An undefined value was used in output: warn, unless it is empty content."""
        if self.env.warnings is None:
            return
        if self._schemas is None:
            self._schemas = Schemas(self.store.content.content_types() if self.store else {})
        where = template_location()
        message = explain(value, self._schemas, where, self._syntax_tree)
        if message is not None:
            self._warn(message, where)

    def _warn(self, message: str, where: Any = None) -> None:
        """A template warning for the page being rendered, at the template line running now."""
        if self.env.warnings is None:
            return
        where = where or template_location()
        template, line = "template", None
        if where is not None:
            line = where.line
            found = where.template
            if found.filename:
                template = _relative(found.filename, self.config)
            elif found.name:
                template = _relative(str(self.config.templates / found.name), self.config)
        self.env.warnings.add(warning_key(template, line, message))

    def _syntax_tree(self, name: str) -> jinja2.nodes.Template | None:
        if name not in self._syntax_trees:
            try:
                source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
                self._syntax_trees[name] = self.env.parse(source, name)
            except (jinja2.TemplateError, OSError):
                self._syntax_trees[name] = None
        return self._syntax_trees[name]

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
            self._urls[key] = self.store.content.url_of(item["uid"], code, content_type)
        url = self._urls[key]
        if url is None:
            return None
        return page_url(url, loc.prefix)

    @jinja2.pass_context
    def _url_for_template(
        self, ctx: jinja2.runtime.Context, item: Any, locale: str | None = None
    ) -> str | jinja2.Undefined:
        """``url_for()`` in templates: the page URL, or, for an entry without a page, an
        undefined value that says why when it is printed (it renders as "" and warns)."""
        if isinstance(item, jinja2.Undefined):
            return item  # an undefined entry says what it is itself, when printed
        url = self._url_for(ctx, item, locale)
        if url is not None:
            return url
        return self.env.undefined(obj=Said(self._no_page(ctx, item, locale)), name="url_for")

    def _no_page(self, ctx: jinja2.runtime.Context, item: Any, locale: str | None) -> str | None:
        """Why ``url_for(item)`` has no page, and what to do (None: a null field, no mistake)."""
        if item is None:
            return None
        if not isinstance(item, Mapping) or not item.get("uid"):
            return (
                f"url_for() takes an entry or a reference (with uid and _content_type_uid), "
                f"not {type(item).__name__} {_short(item)}; it renders as an empty string"
            )
        uid, content_type = item["uid"], item.get("_content_type_uid")
        folder = self.config.templates.name
        what = f"entry {uid!r} of content type {content_type!r}"
        if content_type and content_type not in self.rendered_types:
            template = self.config.template_for(content_type)
            if self.has_template(template):
                why = (
                    f"no entry of content type {content_type!r} has a url, so it has no pages "
                    "(give its entries a url field, or link to something else)"
                )
            else:
                why = (
                    f"content type {content_type!r} has no template: add {folder}/{template}, "
                    f"or name one in [content_types.{content_type}] template in sitegen.toml "
                    "(or link to something else)"
                )
            return f"url_for(): {what} has no page: {why}; it renders as an empty string"
        code = locale or ctx.get("locale") or self.config.default_locale.code
        if not content_type:
            what = f"entry {uid!r}"
        return (
            f"url_for(): {what} has no page in {code}: check that the entry is published "
            f"in {code} (or falls back to a locale that is) and has a url; it renders as an "
            "empty string"
        )

    @jinja2.pass_context
    def _entries(
        self,
        ctx: jinja2.runtime.Context,
        content_type: str,
        locale: str | None = None,
        *,
        sort: str | list[str] | None = None,
        limit: int | None = None,
        taxonomy: Mapping[str, Any] | None = None,
    ) -> list[LazyEntry]:
        """Entries of a content type in a locale (references expanded), newest first.

        ``sort`` ("-date", or a list of such fields; ties by uid) and ``limit`` order and cut
        the collection before any entry is made: "the 20 newest posts" of 50,000 keeps 20
        entries in memory and decodes no body, where ``entries(...) | sort`` decodes them all.
        ``taxonomy`` keeps the entries whose terms match, as the CDA's taxonomy queries do:
        ``{"topics": "frontend"}``, ``{"topics": {"$eq_below": "frontend"}}`` (``$below``,
        ``$eq_above``, ``$above``, with ``levels``), ``{"topics": {"$in": [...]}}``; with
        ``limit``, the first ``limit`` that match.
        """
        if taxonomy is not None:
            return self._entries_by_terms(ctx, content_type, locale, sort, limit, taxonomy)
        code = locale or ctx.get("locale") or self.config.default_locale.code
        if code not in self.locales:
            raise BuildError(f"entries(): unknown locale {code!r}; use one of site.locales")
        order = _sort_fields(sort)
        if limit is not None and (type(limit) is not int or limit < 0):
            raise BuildError(f"entries(): limit must be a whole number from 0, got {limit!r}")
        key = (content_type, code, order, limit)
        self._record("collection", f"{content_type}/{code}")
        if order:  # every page that reads an order keeps it up to date (see sorting.py)
            self._record(SORTED_DEP, sorted_dep_key(content_type, code, order))
        cached = self._entries_cache.get(key)
        if cached is None:
            if order:
                cached = self._sorted_entries(content_type, code, order, limit)
            else:
                cached = self.store.content.entries(content_type, code, limit)
            self._entries_cache[key] = cached
            if len(self._entries_cache) > ENTRIES_CACHE_SIZE:
                self._entries_cache.popitem(last=False)
        else:
            self._entries_cache.move_to_end(key)
        return cached

    def _entries_by_terms(
        self,
        ctx: jinja2.runtime.Context,
        content_type: str,
        locale: str | None,
        sort: str | list[str] | None,
        limit: int | None,
        taxonomy: Mapping[str, Any],
    ) -> list[LazyEntry]:
        if not isinstance(taxonomy, Mapping) or not taxonomy:
            raise BuildError(
                'entries(): taxonomy must map taxonomy uids to terms, e.g. {"topics": '
                f'{{"$eq_below": "frontend"}}}}; got {taxonomy!r}'
            )
        query = {f"taxonomies.{uid}": condition for uid, condition in taxonomy.items()}
        try:
            check_query(query)
        except QueryError as err:
            raise BuildError(f"entries(): taxonomy {taxonomy!r}: {err}") from None
        known = self._taxonomies()
        for uid in taxonomy:
            if uid not in known:
                raise BuildError(
                    f"entries(): taxonomy {uid!r} is not one of the stack's "
                    f"({', '.join(known) or 'it has none'})"
                )
        for uid in taxonomy:
            self._record(TAXONOMY_DEP, f"{uid}/tree")
        every = self._entries(ctx, content_type, locale, sort=sort)
        match = MatchContext(content_type_uid=content_type, terms=term_sets(known))
        found = [entry for entry in every if matches(entry, query, match)]
        return found if limit is None else found[:limit]

    def _taxonomies(self) -> dict[str, Taxonomy]:
        if self._taxonomy_cache is None:
            self._taxonomy_cache = (
                self.listings.taxonomies if self.listings else load_taxonomies(self.store)
            )
        return self._taxonomy_cache

    @jinja2.pass_context
    def _terms_of(
        self, ctx: jinja2.runtime.Context, entry: Mapping[str, Any], taxonomy: str
    ) -> list[dict[str, Any]]:
        """An entry's terms of a taxonomy, named in this locale: key, label, url (of the term
        listing over the taxonomy, or None without one), depth and parent."""
        code = ctx.get("locale") or self.config.default_locale.code
        found = self._taxonomies().get(taxonomy)
        if found is None:
            known = ", ".join(self._taxonomies()) or "it has none"
            raise BuildError(
                f"terms_of(): taxonomy {taxonomy!r} is not one of the stack's ({known})"
            )
        tags = [
            tag.get("term_uid")
            for tag in entry.get("taxonomies") or []
            if isinstance(tag, Mapping) and tag.get("taxonomy_uid") == taxonomy
        ]
        source = self.listings.over(taxonomy) if self.listings else None
        prefix = self.locales[code].prefix
        known = [term for term in dict.fromkeys(tags) if isinstance(term, str)]
        for term in known:  # a term tagged but deleted reads as "gone" until it comes back
            self._record(TAXONOMY_DEP, f"{taxonomy}/{code}/{term}")
        return [
            {
                "key": term,
                "label": found.label(term, code),
                "url": page_url(self.listings.url(source, term, 1), prefix)
                if source is not None and self.listings is not None
                else None,
                "depth": found.tree.depth(term),
                "parent": found.tree.parent[term],
            }
            for term in known
            if term in found.tree
        ]

    @jinja2.pass_context
    def _cslp(self, ctx: jinja2.runtime.Context, entry: Mapping[str, Any], path: str) -> Markup:
        """`` data-cslp="…"`` for the element that shows ``entry``'s field at ``path`` (see
        content/edit_tags.py), in preview responses; nothing at all elsewhere, so production
        pages are byte for byte what they would be without the call."""
        if not self.edit_tags:
            return Markup("")
        content_type = entry.get("_content_type_uid")
        if not isinstance(content_type, str) or not entry.get("uid"):
            raise BuildError(f"cslp(): {entry!r:.80} is not an entry (no uid and content type)")
        code = ctx.get("locale") or self.config.default_locale.code
        try:
            value = cslp(entry, content_type, code, path)
        except KeyError as err:
            raise BuildError(f"cslp(entry, {path!r}): {err.args[0]}") from None
        return Markup(' data-cslp="{}"').format(value)

    def _sorted_entries(
        self, content_type: str, locale: str, order: SortFields, limit: int | None
    ) -> list[LazyEntry]:
        """Like ``[[pages]] sort``; the order is kept in the store between builds."""
        uids = sorted_uids(
            self.store, content_type, locale, order, limit, keep=not self.store.readonly
        )
        return self.store.content.lazy_entries(content_type, locale, uids)

    # -- filters -------------------------------------------------------------------------------

    @jinja2.pass_context
    def _rte_filter(
        self, ctx: jinja2.runtime.Context, value: Any, entry: Mapping[str, Any] | None = None
    ) -> Markup:
        """Rich text to HTML; embedded entries use templates/embedded/<type>.html if present."""
        if value is None or isinstance(value, jinja2.Undefined):
            touch(value)
            return Markup("")
        key = self._rte_key(value)
        if key is not None and self.fragments is not None:
            cached = self.fragments.get(key)
            if cached is not None:
                return Markup(cached)
        html = render_rte(
            value,
            entry if entry is not None else ctx.get("entry"),
            embed=lambda item, embed: self._embed(ctx, item, embed),
            trusted_html=self.config.rte_html == "trusted",
        )
        text = "".join(html) if isinstance(html, list) else html
        if key is not None and self.fragments is not None:
            self.fragments.put(key, text)
        return Markup(text)

    def _rte_key(self, value: Any) -> bytes | None:
        """The fragment key of a rich-text value, or None when its HTML depends on more than
        the value: embedded entries and assets (other entries, the site's templates)."""
        if isinstance(value, str):
            raw = value.encode("utf-8", "surrogatepass")
            if b"data-sys-" in raw or b"embedded-" in raw:
                return None
        else:
            try:
                raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
            except (TypeError, orjson.JSONEncodeError):
                return None
            if b'"reference"' in raw or b"-uid" in raw:
                return None
        return fragment_key(b"rte", self._fragment_salt, raw)

    def _markdown_filter(self, value: Any) -> Markup:
        if value is None or isinstance(value, jinja2.Undefined):
            touch(value)
            return Markup("")
        text = str(value)
        if self.fragments is None or not text:
            return Markup(render_markdown(text))
        key = fragment_key(b"md", self._fragment_salt, text.encode("utf-8", "surrogatepass"))
        cached = self.fragments.get(key)
        if cached is None:
            cached = render_markdown(text)
            self.fragments.put(key, cached)
        return Markup(cached)

    def flush_fragments(self) -> None:
        """Write the fragments converted so far (the end of a batch, a build or a request)."""
        if self.fragments is not None:
            self.fragments.flush()

    def _embed(self, ctx: jinja2.runtime.Context, item: dict, embed: EmbedContext) -> str | None:
        """Render an embedded entry or asset through the site's template, when it has one.

        Entries shown as a block or inline look for ``embedded/<content type>.html``, then
        ``embedded/_entry.html``; assets shown as a block, inline, display or download look for
        ``embedded/_asset.html``. Links, items that are not published, and sites without those
        templates keep the default markup of @contentstack/utils.
        """
        if not item:
            return None
        if embed.kind == "entry" and embed.display_type in ("block", "inline"):
            names = [f"embedded/{item.get('_content_type_uid')}.html", "embedded/_entry.html"]
        elif embed.kind == "asset" and embed.display_type in (
            "block",
            "inline",
            "display",
            "download",
        ):
            names = ["embedded/_asset.html"]
        else:
            return None
        for name in names:
            self._record("template", name)  # also when missing: adding it must re-render
            if name not in self._embed_templates:
                self._embed_templates[name] = self.has_template(name)
            if self._embed_templates[name]:
                context = {
                    **ctx.get_all(),
                    "item": item,
                    "display_type": embed.display_type,
                    "attrs": embed.attrs,
                    "text": Markup(embed.text),
                }
                return self.env.get_template(name).render(context)
        return None

    @jinja2.pass_context
    def _alternates(self, ctx: jinja2.runtime.Context, item: Any) -> list[dict[str, str]]:
        """The entry's page in every configured locale that has one, in site.locales order."""
        result = []
        for loc in self.config.locales:
            url = self._url_for(ctx, item, loc.code)  # records ("url", uid/locale)
            if url is not None:
                result.append(
                    {
                        "locale": loc.code,
                        "name": loc.name,
                        "url": url,
                        "href": self.config.base_url + url,
                    }
                )
        return result

    @jinja2.pass_context
    def _translate(self, ctx: jinja2.runtime.Context, key: str, /, **params: Any) -> str:
        """``key`` in templates/i18n/<locale>.json, else the default locale's file, else key."""
        code = ctx.get("locale") or self.config.default_locale.code
        codes = [code]
        if self.config.default_locale.code != code:
            codes.append(self.config.default_locale.code)
        if isinstance(key, jinja2.Undefined):
            touch(key)
            return ""
        for locale in codes:
            name = f"i18n/{locale}.json"
            self._record("template", name)  # also when missing: adding it must re-render
            strings = self._translation_file(locale)
            if strings is not None and key in strings:
                return _format_message(strings[key], params, name, key)
        folder = _relative(str(self.config.templates / "i18n"), self.config)
        files = []
        for locale in codes:
            notes = ["the default locale's"] if locale != code else []
            if self._translation_file(locale) is None:
                notes.append("which does not exist")
            files.append(f"{folder}/{locale}.json" + (f" ({', '.join(notes)})" if notes else ""))
        where = (
            f"neither in {files[0]} nor in {files[1]}" if len(files) > 1 else f"not in {files[0]}"
        )
        self._warn(
            f"t({key!r}): no translation for {code}: the key is {where}; it is shown instead"
        )
        return str(key)

    def _translation_file(self, code: str) -> dict[str, str] | None:
        if code not in self._translations:
            path = self.config.templates / "i18n" / f"{code}.json"
            text = None
            if self.files is not None:
                text = self.files.templates.get(f"i18n/{code}.json")
            self._translations[code] = _load_translations(path, self.config, text)
        return self._translations[code]

    @jinja2.pass_context
    def _terms(self, ctx: jinja2.runtime.Context, name: str) -> list[dict[str, Any]]:
        """The terms of the term listing ``name`` in this locale: key, label, url, count."""
        code = ctx.get("locale") or self.config.default_locale.code
        if self.listings is None:
            raise BuildError(f"terms({name!r}): the site has no [[pages]] with terms")
        try:
            result = self.listings.terms(name, code)
        except LookupError as err:
            raise BuildError(str(err)) from None
        self._record("listing", f"{self.listings.by_name[name].id}/{code}")
        return result

    @jinja2.pass_context
    def _link(self, ctx: jinja2.runtime.Context, path: str, locale: str | None = None) -> str:
        """A site path in this (or the given) locale: link('/blog/') is /fr/blog/ in French."""
        code = locale or ctx.get("locale") or self.config.default_locale.code
        loc = self.locales.get(code)
        if loc is None:
            raise BuildError(f"link(): unknown locale {code!r}; use one of site.locales")
        return page_url(path if path.startswith("/") else "/" + path, loc.prefix)

    def _absolute_urls(self, html: Any) -> Markup:
        """Root-relative href/src made absolute with the base URL (for feeds read elsewhere)."""
        text = str(html)
        base = self.config.base_url
        return Markup(ROOT_RELATIVE.sub(lambda m: f"{m.group(1)}{base}/", text))

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
            if self.files is not None:
                if clean not in self.files.static_hashes:
                    raise BuildError(f"static_url({path!r}): no such file {static / clean}")
                self._static_hashes[clean] = self.files.static_hashes[clean]
            else:
                file = (static / clean).resolve()
                if not file.is_relative_to(static) or not file.is_file():
                    raise BuildError(f"static_url({path!r}): no such file {static / clean}")
                self._static_hashes[clean] = static_hash(file)
        return f"/{clean}?v={self._static_hashes[clean]}"


def _cache_dir(config: SiteConfig) -> Path:
    folder = config.state_dir / "templates-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def static_hash(path: Path) -> str:
    """The content hash ``static_url`` adds to a static file's URL."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def _load_translations(
    path: Path, config: SiteConfig, text: str | None = None
) -> dict[str, str] | None:
    """A flat JSON object of strings, or None when the file does not exist."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            raise BuildError(f"{_relative(str(path), config)}: cannot read: {err}") from None
    where = _relative(str(path), config)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BuildError(
            f"{where}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    if not isinstance(data, dict):
        raise BuildError(
            f"{where}: must be a JSON object of key → string, got {type(data).__name__}"
        )
    for key, value in data.items():
        if not isinstance(value, str):
            raise BuildError(f"{where}: the value of {key!r} must be a string, got {value!r}")
    return data


class _Placeholder:
    """A missing format parameter: formats back to its own ``{name…}`` text."""

    def __init__(self, text: str):
        self.text = text

    def __format__(self, spec: str) -> str:
        return "{" + self.text + (":" + spec if spec else "") + "}"

    def __str__(self) -> str:
        return "{" + self.text + "}"

    __repr__ = __str__

    def __getattr__(self, name: str) -> _Placeholder:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(f"{self.text}.{name}")

    def __getitem__(self, key: Any) -> _Placeholder:
        return _Placeholder(f"{self.text}[{key}]")


class _KeepMissing(dict):
    def __missing__(self, key: str) -> _Placeholder:
        return _Placeholder(key)


def _format_message(text: str, params: dict[str, Any], file: str, key: str) -> str:
    """``text.format_map(params)``, leaving placeholders without a parameter as they are."""
    try:
        return text.format_map(_KeepMissing(params))
    except (ValueError, IndexError, AttributeError, KeyError, TypeError) as err:
        raise BuildError(f"t({key!r}): {file}: cannot fill in {text!r}: {err}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _field_filter(item: Any, path: str) -> Any:
    """``item | field("seo.summary")``: the value at a dotted path, through groups and global
    fields (the first of a multiple group's), or None."""
    value = item
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints: None (a null field) as nothing."""
    return "" if value is None else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _toc_filter(value: Any, levels: int = 3) -> list[Heading]:
    """``entry.body | toc``: the ``##`` to ``levels`` headings of a Markdown field, with the
    ids the markdown filter gives them, for an on-page table of contents."""
    if not isinstance(value, str):
        touch(value)
        return []
    return headings(value, tuple(range(2, max(2, levels) + 1)))


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


def _sort_fields(sort: Any) -> SortFields:
    """``entries(sort=...)``: "-date" or ["-date", "title"] (as in ``[[pages]] sort``)."""
    if sort is None:
        return ()
    order = parse_sort(sort)
    if order is None:
        raise BuildError(
            f'entries(): sort must be a field or a list of fields like "-date", got {sort!r}'
        )
    for field, _ in order:
        if not FIELD_UID.fullmatch(field.split(".", 1)[0]):
            raise BuildError(f"entries(): sort field {field!r} does not start with a field uid")
    return order
