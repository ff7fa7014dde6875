"""Taxonomies of a local stack: term trees, their localized names, and what the CDA answers.

In the folder, ``taxonomies/<taxonomy_uid>.json`` holds one taxonomy and its terms as a tree::

    {"name": "Topics", "description": "…", "names": {"fr-fr": "Sujets"},
     "terms": [{"uid": "engineering", "name": "Engineering", "names": {"fr-fr": "Ingénierie"},
                "terms": [{"uid": "frontend", "name": "Front end"}]}]}

``names`` gives the taxonomy or a term its name in other locales; a name in the master locale
is ``name``. Entries are tagged in a field ``{"uid": "taxonomies", "data_type": "taxonomy",
"taxonomies": [{"taxonomy_uid": "topics"}]}`` holding ``[{"taxonomy_uid", "term_uid"}]``.

The answers follow the shapes of Contentstack's delivery SDK (``BaseTaxonomy``/``BaseTerm`` in
@contentstack/delivery-sdk's ``common/types``) and the endpoints its Python SDK 2.8 calls
(``contentstack/taxonomy.py``, ``term.py``): ``{"taxonomies"}``, ``{"taxonomy"}``,
``{"terms"}``, ``{"term"}``. A term's ``depth`` is 1 for a root term. A locale without a name
of its own is left out, or, with ``include_fallback``, answered in the first locale of its
fallback chain that has one (per term), as the SDK's tests expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sitegen.content.taxonomy import DEFAULT_LEVELS, TermTree
from sitegen.errors import StackFolderError
from sitegen.stack.content_types import UID_RE
from sitegen.stack.jsonfile import keys_word, read_json

JsonDict = dict[str, Any]

TAXONOMY_KEYS = frozenset({"uid", "name", "description", "names", "terms"})
TERM_KEYS = frozenset({"uid", "name", "names", "terms"})
RESERVED_UIDS = frozenset({"entries"})  # /v3/taxonomies/entries is the entries query


@dataclass
class Term:
    uid: str
    name: str
    names: dict[str, str]
    parent: str | None
    depth: int  # 1 for a root term
    order: int  # place among its siblings
    children: list[str] = field(default_factory=list)


@dataclass
class Taxonomy:
    uid: str
    name: str
    description: str
    names: dict[str, str]
    terms: dict[str, Term]  # in tree order: each term before its children

    @cached_property
    def tree(self) -> TermTree:
        """The term tree (content/taxonomy.py), which the hierarchy operators walk."""
        return TermTree((t.uid, t.parent) for t in self.terms.values())

    def descendants(self, uid: str, levels: int | None = None) -> list[str]:
        return self.tree.descendants(uid, levels)

    def ancestors(self, uid: str, levels: int | None = None) -> list[str]:
        return self.tree.ancestors(uid, levels)

    def hierarchy(self, operator: str, uid: str, levels: int = DEFAULT_LEVELS) -> frozenset[str]:
        return self.tree.hierarchy(operator, uid, levels)


def parse_taxonomy(path: Path, uid: str, locales: list[str]) -> Taxonomy:
    """Read and check one taxonomy file; every mistake names the file and the term."""
    shown = str(path)
    data = read_json(path, shown)
    if not isinstance(data, dict):
        raise StackFolderError(f"{shown}: a taxonomy file must hold a JSON object.")
    unknown = sorted(set(data) - TAXONOMY_KEYS)
    if unknown:
        raise StackFolderError(
            f"{shown}: unknown {keys_word(unknown)} {', '.join(unknown)}; a taxonomy has "
            f"{', '.join(sorted(TAXONOMY_KEYS))}."
        )
    if not UID_RE.match(uid) or uid in RESERVED_UIDS:
        raise StackFolderError(
            f'{shown}: taxonomy uid "{uid}" must use letters, digits, "_", "-" and not be '
            f"{', '.join(sorted(RESERVED_UIDS))}; rename the file."
        )
    if data.get("uid", uid) != uid:
        raise StackFolderError(
            f'{shown}: "uid" is "{data["uid"]}" but the file is named {uid}.json; make them the same.'
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise StackFolderError(f'{shown}: "name" must be a non-empty string.')
    description = data.get("description", "")
    if not isinstance(description, str):
        raise StackFolderError(f'{shown}: "description" must be a string.')
    taxonomy = Taxonomy(uid, name, description, _names(data, shown, "the taxonomy", locales), {})
    _add_terms(taxonomy, data.get("terms", []), None, 1, shown, locales)
    return taxonomy


def _names(data: JsonDict, shown: str, what: str, locales: list[str]) -> dict[str, str]:
    names = data.get("names", {})
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in names.items()
    ):
        raise StackFolderError(
            f'{shown}: "names" of {what} must map locale codes to names, e.g. {{"fr-fr": "…"}}.'
        )
    for code in names:
        if code not in locales:
            raise StackFolderError(
                f'{shown}: {what} has a name in "{code}", which is not a locale of stack.json.'
            )
    return dict(names)


def _add_terms(
    taxonomy: Taxonomy, terms: Any, parent: str | None, depth: int, shown: str, locales: list[str]
) -> None:
    where = f'the children of term "{parent}"' if parent else '"terms"'
    if not isinstance(terms, list):
        raise StackFolderError(f"{shown}: {where} must be a list of terms.")
    for order, data in enumerate(terms):
        if not isinstance(data, dict):
            raise StackFolderError(f'{shown}: each of {where} must be an object {{"uid", "name"}}.')
        unknown = sorted(set(data) - TERM_KEYS)
        if unknown:
            raise StackFolderError(
                f"{shown}: unknown {keys_word(unknown)} {', '.join(unknown)} in {where}; a term has "
                f"{', '.join(sorted(TERM_KEYS))}."
            )
        uid, name = data.get("uid"), data.get("name")
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise StackFolderError(
                f'{shown}: a term in {where} needs a "uid" of letters, digits, "_", "-".'
            )
        if uid in taxonomy.terms:
            raise StackFolderError(f'{shown}: term "{uid}" appears twice; term uids are unique.')
        if not isinstance(name, str) or not name:
            raise StackFolderError(f'{shown}: term "{uid}" needs a non-empty "name".')
        names = _names(data, shown, f'term "{uid}"', locales)
        taxonomy.terms[uid] = Term(uid, name, names, parent, depth, order)
        if parent is not None:
            taxonomy.terms[parent].children.append(uid)
        _add_terms(taxonomy, data.get("terms", []), uid, depth + 1, shown, locales)


def entry_terms(value: Any) -> Iterator[tuple[str, str]]:
    """(taxonomy uid, term uid) of each tag in an entry's taxonomy field value."""
    for tag in value if isinstance(value, list) else []:
        if isinstance(tag, dict):
            yield str(tag.get("taxonomy_uid")), str(tag.get("term_uid"))


def check_tags(
    taxonomies: dict[str, Taxonomy], fdef: JsonDict, value: Any, shown: str, path: str
) -> None:
    """An entry's taxonomy field: a list of known terms of the taxonomies the field allows."""
    allowed = [t.get("taxonomy_uid") for t in fdef.get("taxonomies") or [] if isinstance(t, dict)]
    example = '[{"taxonomy_uid": "topics", "term_uid": "frontend"}]'
    if not isinstance(value, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("taxonomy_uid"), str)
        and isinstance(t.get("term_uid"), str)
        for t in value
    ):
        raise StackFolderError(f'{shown}: taxonomy field "{path}" must be a list like {example}.')
    for taxonomy_uid, term_uid in entry_terms(value):
        if allowed and taxonomy_uid not in allowed:
            raise StackFolderError(
                f'{shown}: taxonomy field "{path}" allows {", ".join(map(str, allowed))}, '
                f'not "{taxonomy_uid}".'
            )
        taxonomy = taxonomies.get(taxonomy_uid)
        if taxonomy is None:
            raise StackFolderError(
                f'{shown}: taxonomy field "{path}" names taxonomy "{taxonomy_uid}", which has no '
                f"taxonomies/{taxonomy_uid}.json; add it or fix the tag."
            )
        if term_uid not in taxonomy.terms:
            raise StackFolderError(
                f'{shown}: taxonomy field "{path}" names term "{term_uid}", which taxonomy '
                f'"{taxonomy_uid}" does not have; add it to taxonomies/{taxonomy_uid}.json.'
            )


# -- what the CDA answers ------------------------------------------------------------------------


def localized_name(
    names: dict[str, str], name: str, chain: list[str], master: str
) -> tuple[str, str] | None:
    """(name, locale) in the first locale of ``chain`` that has one, or None."""
    for code in chain:
        if code == master:
            return name, master
        if code in names:
            return names[code], code
    return None


def delivered_taxonomy(taxonomy: Taxonomy, locale: str, name: str, system: JsonDict) -> JsonDict:
    return {
        "uid": taxonomy.uid,
        "name": name,
        "description": taxonomy.description,
        "terms_count": len(taxonomy.terms),
        "locale": locale,
        "type": "TAXONOMY",
        **system,
    }


def delivered_term(
    taxonomy: Taxonomy, term: Term, locale: str, name: str, system: JsonDict
) -> JsonDict:
    return {
        "taxonomy_uid": taxonomy.uid,
        "uid": term.uid,
        "name": name,
        "parent_uid": term.parent,
        "depth": term.depth,
        "order": term.order,
        "children_count": len(term.children),
        "locale": locale,
        **system,
    }


def taxonomy_file(
    taxonomy: JsonDict,
    terms: list[JsonDict],
    parents: dict[str, str | None],
    names: dict[str, tuple[str | None, dict[str, str]]],
) -> JsonDict:
    """A taxonomy file's content from what the CDA delivered (``stack pull``).

    ``terms`` in the master locale, in the CDA's order; ``parents`` each term's parent uid;
    ``names`` per locale the taxonomy's name there and each term's name there.
    """
    children: dict[str | None, list[JsonDict]] = {}
    for term in terms:
        node: JsonDict = {"uid": term["uid"], "name": term.get("name") or term["uid"]}
        localized = {
            code: found[1][term["uid"]] for code, found in names.items() if term["uid"] in found[1]
        }
        if localized:
            node["names"] = localized
        children.setdefault(parents.get(term["uid"]), []).append(node)

    def attach(nodes: list[JsonDict]) -> list[JsonDict]:
        for node in nodes:
            below = children.get(node["uid"])
            if below:
                node["terms"] = attach(below)
        return nodes

    data: JsonDict = {"name": taxonomy.get("name") or taxonomy["uid"]}
    if taxonomy.get("description"):
        data["description"] = taxonomy["description"]
    localized_names = {code: found[0] for code, found in names.items() if found[0]}
    if localized_names:
        data["names"] = localized_names
    data["terms"] = attach(children.get(None, []))
    return data
