"""Listings and feeds: pages made from a selection of entries rather than from one entry.

Every ``[[pages]]`` entry with a ``content_type`` and every ``[[feeds]]`` entry is a *source*.
Its members (the entries it selects, with their sort key, terms and hash) are kept in the
store's members table and updated entry by entry, so an incremental build re-evaluates only the
entries that changed. Its pages are planned from the members: each page has a fingerprint of
exactly what it shows (which entries, in which order, their hashes, the page count), so an
edit re-renders the listing pages whose fingerprint moved and nothing else, and an incremental
build plans exactly the pages a full build would.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sitegen.build.taxonomies import Taxonomy
from sitegen.build.taxonomies import load as load_taxonomies
from sitegen.config import FeedConfig, SiteConfig
from sitegen.content.order import order_key
from sitegen.content.query import MatchContext, matches, path_values, sort_value
from sitegen.content.urls import check_url, output_file, page_url
from sitegen.store import EntryKey, Member, Page, Store

CACHE_SIZE = 4  # (listing, locale) member lists kept: 50,000 members are tens of MB
SLUG_STRIP = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Source:
    """A listing (paginated, perhaps per term) or a feed (one page of the first ``limit``)."""

    id: str
    kind: str  # "listing" or "feed"
    path: str
    template: str
    content_type: str  # the first of content_types
    sort: tuple[tuple[str, bool], ...]
    filter: dict[str, Any] | None
    per_page: int  # 0: all on one page
    terms: str | None
    title: str | None
    name: str | None = None
    content_types: tuple[str, ...] = ()  # every type listed (one, or several for a listing)

    @property
    def mixed(self) -> bool:
        """Whether entries of several content types are listed together; then a member is
        named ``<content type>/<uid>`` (a uid never holds "/")."""
        return len(self.content_types) > 1

    def member_key(self, member_uid: str, locale: str) -> tuple[str, str, str]:
        """The entry row a member stands for."""
        if self.mixed:
            content_type, uid = member_uid.split("/", 1)
            return (content_type, uid, locale)
        return (self.content_type, member_uid, locale)


@dataclass
class Group:
    """The members of one listing in one locale under one term ('' when there are no terms)."""

    key: str
    label: str
    members: list[Member]


@dataclass(frozen=True)
class Paginator:
    """What a listing page's template gets as ``paginator`` (URLs carry the locale prefix)."""

    items: list[dict[str, Any]]
    number: int
    total_pages: int
    total_items: int
    per_page: int
    previous_url: str | None
    next_url: str | None
    urls: list[str]

    @property
    def has_previous(self) -> bool:
        return self.previous_url is not None

    @property
    def has_next(self) -> bool:
        return self.next_url is not None

    @property
    def first_url(self) -> str:
        return self.urls[0]

    @property
    def last_url(self) -> str:
        return self.urls[-1]


@dataclass(frozen=True)
class Feed:
    """What a feed's template gets as ``feed``."""

    title: str
    url: str  # the feed's path, with the locale prefix
    href: str  # its absolute URL
    updated: str  # the newest updated_at of its items
    items: list[dict[str, Any]]
    summary: str | None  # the field for <summary>
    content: str | None  # the field for <content>
    content_format: str | None  # "rte", "markdown" or "text"


def sources(config: SiteConfig) -> list[Source]:
    """Every listing and feed of the site that selects entries."""
    result = []
    for item in (*config.listings, *config.feeds):
        selection = item.selection
        if selection is None:
            continue
        feed = isinstance(item, FeedConfig)
        result.append(
            Source(
                id=item.id,
                kind="feed" if feed else "listing",
                path=item.path,
                template=item.template,
                content_type=selection.content_type,
                content_types=selection.types,
                sort=selection.sort,
                filter=json.loads(selection.filter) if selection.filter else None,
                per_page=item.limit if feed else item.per_page,
                terms=None if feed else item.terms,
                title=item.title,
                name=None if feed else item.name,
            )
        )
    return result


# -- members -------------------------------------------------------------------------------------


def member_of(
    source: Source, entry: dict[str, Any], hash_: str, content_type: str | None = None
) -> Member | None:
    """The entry (of ``content_type``, the source's by default) as a member of ``source``, or
    None when the filter leaves it out."""
    content_type = content_type or source.content_type
    if source.filter and not matches(entry, source.filter, _match_context(content_type)):
        return None
    uid = entry.get("uid", "")
    if source.mixed:
        uid = f"{content_type}/{uid}"
    sort_key = order_key(
        [sort_value(entry, field) for field, _ in source.sort],
        [desc for _, desc in source.sort],
        uid,
    )
    terms = term_values(entry, source.terms) if source.terms else []
    if source.terms and not terms:
        return None
    return Member(uid, sort_key, terms, hash_, str(entry.get("updated_at", "")))


def _match_context(content_type: str) -> MatchContext:
    # stored entries hold their references resolved (include_all), so $in_query can look
    # inside them without asking anyone
    return MatchContext(
        content_type_uid=content_type,
        references=lambda stubs: [(s.get("_content_type_uid", ""), s) for s in stubs],
    )


def term_values(entry: dict[str, Any], field: str) -> list[list[str]]:
    """[key, label] of each term of the entry, sorted and without duplicates.

    Strings are terms as they are; referenced entries are terms by their title (or uid);
    ``taxonomies.<taxonomy uid>`` gives the entry's terms of that Contentstack taxonomy.
    """
    found: dict[str, str] = {}
    if field.startswith("taxonomies."):
        taxonomy = field.split(".", 1)[1]
        for item in entry.get("taxonomies") or []:
            if isinstance(item, dict) and item.get("taxonomy_uid") == taxonomy:
                term = item.get("term_uid")
                if isinstance(term, str) and term:
                    found.setdefault(term, term)
        return sorted([key, label] for key, label in found.items())
    for value in path_values(entry, field):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                label = item.strip()
            elif isinstance(item, dict) and isinstance(item.get("uid"), str):
                label = str(item.get("title") or item["uid"]).strip()
            else:
                continue
            key = slug(label)
            if key and (key not in found or label < found[key]):
                found[key] = label
    return sorted([key, label] for key, label in found.items())


def slug(text: str) -> str:
    """A URL segment for a term: lowercase words joined by '-' (letters of any script kept)."""
    return SLUG_STRIP.sub("-", text.casefold()).strip("-_")


def member_indexer(config: SiteConfig) -> Callable[[Store, str, str, list[tuple[dict, str]]], None]:
    """For a full build's pull: members from entries as they are stored, not decoded again.

    The returned function takes (store, content type, locale, [(entry as stored, hash)]).
    """
    by_type: dict[str, list[Source]] = {}
    for source in sources(config):
        for content_type in source.content_types:
            by_type.setdefault(content_type, []).append(source)

    def index(store: Store, content_type: str, locale: str, stored: list[tuple[dict, str]]) -> None:
        for source in by_type.get(content_type, ()):
            found = (member_of(source, entry, hash_, content_type) for entry, hash_ in stored)
            store.listings.put_members(source.id, locale, (m for m in found if m is not None))

    return index


def rebuild_members(config: SiteConfig, store: Store) -> None:
    """Evaluate every stored entry against every source (a re-plan of the whole site), as a
    full build's pull does while entries arrive; each entry is decoded once."""
    store.listings.clear_members()
    index = member_indexer(config)
    for content_type in sorted({ct for source in sources(config) for ct in source.content_types}):
        for locale in config.locales:
            rows = store.content.iter_entries(content_type, locale.code)
            while batch := [(data, hash_) for _, hash_, _, data in itertools.islice(rows, 300)]:
                with store.batch():
                    index(store, content_type, locale.code, batch)


def update_members(
    config: SiteConfig, store: Store, rows: Iterable[EntryKey]
) -> dict[tuple[str, str], list[Member] | None]:
    """Re-evaluate changed entry rows; returns the (source, locale) pairs whose members
    changed, each with its changed members when they all stayed in place (the same sort key
    and terms before and after: only what they show changed), else None."""
    by_type: dict[str, list[EntryKey]] = {}
    for key in rows:
        by_type.setdefault(key[0], []).append(key)
    changed: dict[tuple[str, str], list[Member] | None] = {}
    codes = {loc.code for loc in config.locales}
    for source in sources(config):
        keys = [k for ct in source.content_types for k in by_type.get(ct, []) if k[2] in codes]
        for start in range(0, len(keys), MEMBER_BATCH):  # decoded a batch at a time
            batch = keys[start : start + MEMBER_BATCH]
            _update(store, source, batch, store.content.entries_by_key(batch), changed)
    return changed


def _update(
    store: Store,
    source: Source,
    keys: list[EntryKey],
    data: dict[EntryKey, dict[str, Any]],
    changed: dict[tuple[str, str], list[Member] | None],
) -> None:
    """update_members for a batch of changed rows of one source, decoded in ``data``."""
    for key in keys:
        content_type, uid, locale = key
        if source.mixed:
            uid = f"{content_type}/{uid}"
        state = store.content.entry_state(key)
        new = (
            member_of(source, data[key], state[0], content_type)
            if key in data and state is not None
            else None
        )
        old = store.listings.member(source.id, locale, uid)
        if new == old:
            continue
        if new is None:
            store.listings.delete_member(source.id, locale, uid)
        else:
            store.listings.put_member(source.id, locale, new)
        pair = (source.id, locale)
        in_place = (
            old is not None
            and new is not None
            and (old.sort_key, old.terms) == (new.sort_key, new.terms)
        )
        shown = changed.get(pair, [])
        if in_place and shown is not None and new is not None:
            shown.append(new)
            changed[pair] = shown
        else:
            changed[pair] = None  # a member came, went or moved: plan the listing whole


# -- pages ---------------------------------------------------------------------------------------


MEMBER_BATCH = 300  # changed entries decoded at a time to re-evaluate their membership
WINDOWS = 4  # pages of a listing read by position before the whole listing is read once


class Listings:
    """The listings and feeds of one build: their pages, and what their templates are given."""

    def __init__(self, config: SiteConfig, store: Store):
        self.config = config
        self.store = store
        self.sources = {s.id: s for s in sources(config)}
        self.by_name = {s.name: s for s in self.sources.values() if s.name}
        self.prefixes = {loc.code: loc.prefix for loc in config.locales}
        self._groups: OrderedDict[tuple[str, str], dict[str, Group]] = OrderedDict()
        # every page URL of a listing, per (source, locale, term, pages): each of its pages
        # shows them all (paginator.urls), so making them once keeps a listing linear
        self._page_urls: OrderedDict[tuple[str, str, str, int], list[str]] = OrderedDict()
        self._windows: dict[tuple[str, str], int] = {}  # pages shown by position, per listing
        self.taxonomies = load_taxonomies(store)  # term trees, for term listings over them

    def taxonomy(self, source: Source) -> Taxonomy | None:
        """The taxonomy a term listing is made of (``terms = "taxonomies.<uid>"``), if the
        stack has it."""
        if source.terms and source.terms.startswith("taxonomies."):
            return self.taxonomies.get(source.terms.split(".", 1)[1])
        return None

    def over(self, taxonomy: str) -> Source | None:
        """The first term listing over a taxonomy (where its terms have pages), if any."""
        wanted = f"taxonomies.{taxonomy}"
        return next((s for s in self.sources.values() if s.terms == wanted), None)

    def over_taxonomies(self, uids: Iterable[str]) -> set[tuple[str, str]]:
        """(source, locale) of every term listing over one of these taxonomies."""
        wanted = {f"taxonomies.{uid}" for uid in uids}
        return {
            (source.id, code)
            for source in self.sources.values()
            if source.terms in wanted
            for code in self.prefixes
        }

    def groups(self, source_id: str, locale: str) -> dict[str, Group]:
        """The source's members in a locale, ordered, by term (cached for the build)."""
        cache_key = (source_id, locale)
        if cache_key in self._groups:
            self._groups.move_to_end(cache_key)
            return self._groups[cache_key]
        source = self.sources[source_id]
        ordered = self.store.listings.members(source_id, locale)
        groups: dict[str, Group] = {}
        taxonomy = self.taxonomy(source)
        if taxonomy is not None:
            # every term has a page, listing what is tagged with it or a term below it
            tree = taxonomy.tree
            for uid in tree.order():
                groups[uid] = Group(uid, taxonomy.label(uid, locale), [])
            for member in ordered:
                keys: set[str] = set()
                for key, _ in member.terms:
                    if key in tree:  # a tag of a term since deleted lists nowhere
                        keys.add(key)
                        keys.update(tree.ancestors(key))
                for key in keys:
                    groups[key].members.append(member)
        elif source.terms:
            for member in ordered:
                for key, label in member.terms:
                    group = groups.setdefault(key, Group(key, label, []))
                    group.label = min(group.label, label)
                    group.members.append(member)
        else:
            groups[""] = Group("", "", ordered)
        self._groups[cache_key] = groups
        if len(self._groups) > CACHE_SIZE:
            self._groups.popitem(last=False)
        return groups

    def forget(self) -> None:
        """Drop cached members (they were just updated)."""
        self._groups.clear()

    def plan(self, source_id: str, locale: str) -> list[Page]:
        """Every page the source has in a locale, with its fingerprint."""
        source = self.sources[source_id]
        pages = []
        for group in self.groups(source_id, locale).values():
            chunks = self.chunks(source, group)
            for number, items in enumerate(chunks, 1):
                pages.append(
                    self._page(
                        source, locale, group, number, len(chunks), len(group.members), items
                    )
                )
        return pages

    def plan_showing(self, source_id: str, locale: str, members: list[Member]) -> list[Page] | None:
        """The pages that show these members, which kept their places (see update_members),
        made without reading the whole listing: their positions tell the pages. None for a
        term listing (a member can be on many of its pages): plan it whole."""
        source = self.sources[source_id]
        if source.terms:
            return None
        table = self.store.listings
        count, size, total = self._layout(source, locale)
        if size <= 0:
            return None
        numbers = set()
        for member in members:
            number = table.rank(source_id, locale, member.sort_key) // size + 1
            if number <= total:  # a feed shows only its first page's worth
                numbers.add(number)
        group = Group("", "", [])
        return [
            self._page(
                source,
                locale,
                group,
                number,
                total,
                count,
                table.members_slice(source_id, locale, (number - 1) * size, size),
            )
            for number in sorted(numbers)
        ]

    def _page(
        self,
        source: Source,
        locale: str,
        group: Group,
        number: int,
        total: int,
        count: int,
        items: list[Member],
    ) -> Page:
        """Page ``number`` of ``total`` of a group of ``count`` members, showing ``items``."""
        url = self.url(source, group.key, number)
        fingerprint = _digest(
            [
                source.id,
                locale,
                group.key,
                group.label,
                number,
                total,
                count,
                [(m.uid, m.hash) for m in items],
                self._tree_view(source, group.key, locale),
            ]
        )
        return Page(
            file=output_file(url, self.prefixes[locale]),
            kind=source.kind,
            content_type="",
            uid="",
            locale=locale,
            url=url,
            source=source.id,
            term=group.key,
            number=number,
            lastmod=max((m.updated_at for m in items), default=None),
            fingerprint=fingerprint,
        )

    def chunks(self, source: Source, group: Group) -> list[list[Member]]:
        if source.kind == "feed":
            return [group.members[: source.per_page]]
        size = source.per_page or max(len(group.members), 1)
        return [group.members[i : i + size] for i in range(0, len(group.members), size)] or [[]]

    def url(self, source: Source, term: str, number: int) -> str:
        """The page's path without the locale prefix: /blog/, /blog/page/2/, /tags/x/."""
        path = source.path.replace("{term}", term)
        if number > 1:
            path += f"page/{number}/"
        return check_url(path, f"{source.id} (path {source.path!r})")

    def page_urls(self, source: Source, locale: str, term: str, count: int) -> list[str]:
        """The URLs (with the locale prefix) of a listing's ``count`` pages, made once."""
        key = (source.id, locale, term, count)
        urls = self._page_urls.get(key)
        if urls is None:
            prefix = self.prefixes[locale]
            urls = [page_url(self.url(source, term, n), prefix) for n in range(1, count + 1)]
            self._page_urls[key] = urls
            if len(self._page_urls) > CACHE_SIZE:
                self._page_urls.popitem(last=False)
        return urls

    # -- what templates get -------------------------------------------------------------------

    def context(self, page: Page) -> dict[str, Any]:
        """``paginator`` and ``term`` for a listing page; ``feed`` for a feed."""
        source = self.sources[page.source]
        window = self._window(source, page)
        if window is None:
            group = self.groups(page.source, page.locale)[page.term]
            chunks = self.chunks(source, group)
            window = (chunks[page.number - 1], len(chunks), len(group.members))
        items_members, total_pages, total_items = window
        keys = [source.member_key(m.uid, page.locale) for m in items_members]
        entries = self.store.content.lazy_by_key(keys)  # a page shows a few fields of each
        items = [entries[key] for key in keys]
        if source.kind == "feed":
            return {"feed": self._feed(source, page, items)}
        urls = self.page_urls(source, page.locale, page.term, total_pages)
        n = page.number
        context: dict[str, Any] = {
            "paginator": Paginator(
                items=items,
                number=n,
                total_pages=total_pages,
                total_items=total_items,
                per_page=source.per_page,
                previous_url=urls[n - 2] if n > 1 else None,
                next_url=urls[n] if n < total_pages else None,
                urls=urls,
            )
        }
        if source.terms:
            group = self.groups(page.source, page.locale)[page.term]
            context["term"] = {
                "key": group.key,
                "label": group.label,
                "url": urls[0],
                "count": len(group.members),
            }
            taxonomy = self.taxonomy(source)
            if taxonomy is not None:
                context["term"].update(self._tree_context(source, taxonomy, group.key, page.locale))
        return context

    def _window(self, source: Source, page: Page) -> tuple[list[Member], int, int] | None:
        """The members a page of a listing without terms shows, its page count and the
        listing's size, read from the store by position, for the first few pages of a listing
        a build renders (an incremental build renders one or two); None: read the whole
        listing once (a full build renders all its pages), or a term listing."""
        key = (source.id, page.locale)
        if source.terms or key in self._groups:
            return None
        asked = self._windows[key] = self._windows.get(key, 0) + 1
        if asked > WINDOWS:
            return None
        count, size, total = self._layout(source, page.locale)
        if size <= 0:
            return None
        offset = (page.number - 1) * size
        return self.store.listings.members_slice(source.id, page.locale, offset, size), total, count

    def _layout(self, source: Source, locale: str) -> tuple[int, int, int]:
        """(members, page size, pages) of a listing without terms, from the store, as
        :meth:`chunks` lays them out: a feed is one page of its first ``per_page``."""
        count = self.store.listings.count(source.id, locale)
        if source.kind == "feed":
            return count, source.per_page, 1
        size = source.per_page or max(count, 1)
        return count, size, max(-(-count // size), 1)

    def _term_link(self, source: Source, key: str, locale: str) -> dict[str, Any]:
        group = self.groups(source.id, locale)[key]
        return {
            "key": key,
            "label": group.label,
            "url": page_url(self.url(source, key, 1), self.prefixes[locale]),
            "count": len(group.members),
        }

    def _tree_context(
        self, source: Source, taxonomy: Taxonomy, key: str, locale: str
    ) -> dict[str, Any]:
        """Where a term sits: ``ancestors`` (root first, for breadcrumbs), ``parent``,
        ``children`` and ``depth`` (1 for a root term), each term with key, label, url, count."""
        tree = taxonomy.tree
        ancestors = [self._term_link(source, k, locale) for k in reversed(tree.ancestors(key))]
        return {
            "ancestors": ancestors,
            "parent": ancestors[-1] if ancestors else None,
            "children": [self._term_link(source, k, locale) for k in tree.children[key]],
            "depth": len(ancestors) + 1,
        }

    def _tree_view(self, source: Source, key: str, locale: str) -> Any:
        """What a term page shows of the tree (its fingerprint's part): the names of its
        ancestors and the names and counts of its children."""
        taxonomy = self.taxonomy(source)
        if taxonomy is None:
            return None
        groups = self.groups(source.id, locale)
        tree = taxonomy.tree
        return [
            [groups[k].label for k in tree.ancestors(key)],
            [[k, groups[k].label, len(groups[k].members)] for k in tree.children[key]],
        ]

    def _feed(self, source: Source, page: Page, items: list[dict[str, Any]]) -> Feed:
        feed_config = next(f for f in self.config.feeds if f.id == source.id)
        url = page_url(page.url, self.prefixes[page.locale])
        return Feed(
            title=source.title or self.config.title or source.content_type,
            url=url,
            href=self.config.base_url + url,
            updated=page.lastmod or "1970-01-01T00:00:00.000Z",
            items=items,
            summary=feed_config.summary,
            content=feed_config.content,
            content_format=self._format(source.content_type, feed_config.content),
        )

    def _format(self, content_type: str, field: str | None) -> str | None:
        """How the feed's content field is turned into HTML: "rte", "markdown" or "text"."""
        if field is None:
            return None
        schema = self.store.content.content_types().get(content_type, {}).get("schema", [])
        item: dict[str, Any] | None = None
        for part in field.split("."):  # into groups and global fields (their schema is inline)
            item = next((f for f in schema if f.get("uid") == part), None)
            if item is None:
                return "text"
            schema = item.get("schema") or []
        meta = (item or {}).get("field_metadata") or {}
        if meta.get("markdown") or (item or {}).get("data_type") == "markdown":
            return "markdown"
        if meta.get("allow_json_rte") or meta.get("allow_rich_text"):
            return "rte"
        return "text"

    def terms(self, name: str, locale: str) -> list[dict[str, Any]]:
        """The terms of the term listing called ``name`` in a locale, by label."""
        source = self.by_name.get(name)
        if source is None or not source.terms:
            known = ", ".join(sorted(n for n, s in self.by_name.items() if s.terms)) or "none"
            raise LookupError(
                f"terms({name!r}): no [[pages]] with terms has that name (term listings: {known})"
            )
        prefix = self.prefixes[locale]
        groups = self.groups(source.id, locale).values()
        taxonomy = self.taxonomy(source)
        if taxonomy is not None:  # the tree, in its order, each term with depth and parent
            tree = taxonomy.tree
            return [
                {
                    **self._term_link(source, g.key, locale),
                    "depth": tree.depth(g.key),
                    "parent": tree.parent[g.key],
                }
                for g in groups
            ]
        return [
            {
                "key": g.key,
                "label": g.label,
                "url": page_url(self.url(source, g.key, 1), prefix),
                "count": len(g.members),
            }
            for g in sorted(groups, key=lambda g: (g.label.casefold(), g.key))
        ]


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
