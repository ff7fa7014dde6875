"""Taxonomies in the build: each term tree with its names per locale, kept in the state.

The Sync API reports entries and assets, not taxonomies, so every build asks for them:
``/v3/taxonomies`` once, then each taxonomy's terms once per locale (names come localized, with
fallback). What is stored is compared with what came: an incremental build re-plans the term
pages of a taxonomy that changed (their fingerprints hold the names, ancestors and children
they show, so only the pages whose view moved are rendered again) and re-renders the pages that
read the taxonomy through a template helper.

Entries keep only the terms they are tagged with; the tree is applied when pages are planned,
so an entry tagged ``web-performance`` is listed on ``web-performance``, ``frontend`` and
``engineering`` (the ``$eq_below`` meaning) and moving a term needs no entry read again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sitegen.config import SiteConfig
from sitegen.content.taxonomy import TermTree
from sitegen.errors import APIError, BuildError
from sitegen.source.cda import CDAClient
from sitegen.source.tasks import gather
from sitegen.store import Store

META_KEY = "taxonomies"
# Dependency kind of pages that read a taxonomy through a template helper: "<uid>/tree" for the
# shape of its tree (taxonomy queries), "<uid>/<locale>/<term>" for a term's name and place
DEP = "taxonomy"


@dataclass(frozen=True)
class Taxonomy:
    """One taxonomy: its terms in tree order with their parents, names per locale."""

    uid: str
    name: str
    terms: tuple[tuple[str, str | None], ...]  # (term uid, parent uid), parents first
    names: dict[str, dict[str, str]]  # locale -> term uid -> name

    @cached_property
    def tree(self) -> TermTree:
        return TermTree(self.terms)

    def label(self, term: str, locale: str) -> str:
        """The term's name in the locale (the CDA already fell back), else its uid."""
        return self.names.get(locale, {}).get(term) or term

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "terms": [list(t) for t in self.terms], "names": self.names}


async def fetch_taxonomies(client: CDAClient, locales: list[str]) -> dict[str, Taxonomy]:
    """Every published taxonomy with its terms, named in each locale."""
    listed = await client.taxonomies()
    found: dict[str, Taxonomy] = {}

    async def one(item: dict[str, Any]) -> None:
        uid = item.get("uid")
        if not isinstance(uid, str) or not uid:
            return
        by_locale: dict[str, list[dict[str, Any]]] = {}

        async def terms_in(locale: str) -> None:
            try:
                by_locale[locale] = await client.terms(uid, locale)
            except APIError as err:
                if err.status not in (404, 422):  # a locale the taxonomy is not published in
                    raise
                by_locale[locale] = []

        await gather([terms_in(code) for code in locales])
        rows = [t for code in locales for t in by_locale[code] if isinstance(t, dict)]
        terms = _tree_order(rows)
        stray = sorted(
            {t["uid"] for t in rows if isinstance(t.get("uid"), str)} - {u for u, _ in terms}
        )
        if stray:
            raise BuildError(
                f"taxonomy {uid!r}: the terms {', '.join(stray[:5])} are not below any root term "
                "(their parents form a cycle); fix the term tree in Contentstack"
            )
        found[uid] = Taxonomy(
            uid=uid,
            name=str(item.get("name") or uid),
            terms=terms,
            names={
                code: {
                    t["uid"]: t["name"]
                    for t in by_locale[code]
                    if isinstance(t, dict)
                    and isinstance(t.get("uid"), str)
                    and isinstance(t.get("name"), str)
                }
                for code in locales
            },
        )

    await gather([one(item) for item in listed])
    return dict(sorted(found.items()))


def _tree_order(rows: Iterable[dict[str, Any]]) -> tuple[tuple[str, str | None], ...]:
    """(uid, parent) of every term, parents first and siblings in their ``order``."""
    parent: dict[str, str | None] = {}
    order: dict[str, tuple[int, str]] = {}
    for row in rows:
        uid = row.get("uid")
        if not isinstance(uid, str) or uid in parent:
            continue
        up = row.get("parent_uid")
        parent[uid] = up if isinstance(up, str) and up else None
        place = row.get("order")
        order[uid] = (place if isinstance(place, int) else 0, uid)
    children: dict[str | None, list[str]] = {}
    for uid, up in parent.items():
        children.setdefault(up if up in parent else None, []).append(uid)
    result: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    stack = sorted(children.get(None, []), key=order.__getitem__, reverse=True)
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        result.append((uid, parent[uid] if parent[uid] in parent else None))
        stack.extend(sorted(children.get(uid, []), key=order.__getitem__, reverse=True))
    return tuple(result)


def save(store: Store, taxonomies: dict[str, Taxonomy]) -> None:
    store.set_meta(META_KEY, _dump(taxonomies))


def load(store: Store) -> dict[str, Taxonomy]:
    """The taxonomies of the last pull (none before the first)."""
    text = store.meta(META_KEY)
    if not text:
        return {}
    return {
        uid: Taxonomy(uid, data["name"], tuple((t, p) for t, p in data["terms"]), data["names"])
        for uid, data in json.loads(text).items()
    }


def changed(old: dict[str, Taxonomy], new: dict[str, Taxonomy]) -> set[str]:
    """Uids of the taxonomies added, removed, or whose terms or names moved."""
    return {
        uid
        for uid in old.keys() | new.keys()
        if (old[uid].as_json() if uid in old else None)
        != (new[uid].as_json() if uid in new else None)
    }


def changed_deps(
    old: dict[str, Taxonomy], new: dict[str, Taxonomy], locales: list[str]
) -> set[str]:
    """The dependency keys (see DEP) a change from ``old`` to ``new`` touches: a changed tree
    touches its "tree" key and every term in every locale; a renamed term only its own key in
    the locales whose name moved."""
    keys: set[str] = set()
    for uid in changed(old, new):
        before, after = old.get(uid), new.get(uid)
        if before is None or after is None or before.terms != after.terms:
            terms = {t for t, _ in (before.terms if before else ())}
            terms |= {t for t, _ in (after.terms if after else ())}
            keys.add(f"{uid}/tree")
            keys.update(f"{uid}/{code}/{term}" for code in locales for term in terms)
            continue
        for code in locales:
            names_before, names_after = before.names.get(code, {}), after.names.get(code, {})
            keys.update(
                f"{uid}/{code}/{term}"
                for term in names_before.keys() | names_after.keys()
                if names_before.get(term) != names_after.get(term)
            )
    return keys


def term_sets(
    taxonomies: dict[str, Taxonomy],
) -> Callable[[str, str, str, int], frozenset[str]]:
    """The ``terms`` of a query's MatchContext: a hierarchy operator's term uids."""

    def terms(taxonomy: str, operator: str, term: str, levels: int) -> frozenset[str]:
        found = taxonomies.get(taxonomy)
        return found.tree.hierarchy(operator, term, levels) if found else frozenset()

    return terms


def used_by(config: SiteConfig) -> set[str]:
    """The taxonomies term listings are made of (``terms = "taxonomies.<uid>"``)."""
    return {
        item.terms.split(".", 1)[1]
        for item in config.listings
        if item.terms and item.terms.startswith("taxonomies.")
    }


def _dump(taxonomies: dict[str, Taxonomy]) -> str:
    return json.dumps(
        {uid: t.as_json() for uid, t in sorted(taxonomies.items())},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
