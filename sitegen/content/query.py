"""The CDA query language, evaluated over entry (and asset) dicts.

Matching follows the MongoDB-like semantics the Content Delivery API documents: a dotted path
walks into groups, modular blocks and reference stubs, arrays match when any element matches,
and `$ne` / `$nin` also match documents that lack the field. Queries are checked up front so a
malformed one fails even when there is nothing to match, the way Contentstack answers it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.content.taxonomy import DEFAULT_LEVELS
from sitegen.content.timestamps import parse_time

JsonDict = dict[str, Any]
# Resolves reference stubs to (content type uid, entry) pairs, for $in_query / $nin_query.
ReferenceLookup = Callable[[list[Any]], list[tuple[str, JsonDict]]]
# The uids of the documents that hold a reference to any of the given uids (see pinned_uids).
Referrers = Callable[[frozenset[str]], frozenset[str]]
# (taxonomy uid, hierarchy operator, term uid, levels) → the term uids the operator names.
TermSets = Callable[[str, str, str, int], frozenset[str]]

COMPARISONS = {"$lt", "$lte", "$gt", "$gte"}
FIELD_OPERATORS = {"$eq", "$ne", "$in", "$nin", "$exists", "$regex", "$options"} | COMPARISONS
REFERENCE_OPERATORS = {"$in_query", "$nin_query"}
LOGICAL = {"$and", "$or"}
# Taxonomy hierarchy operators, on `taxonomies.<taxonomy uid>`, with a sibling `levels`: how many
# levels of the tree to go (0: the term alone; default 10, a taxonomy's greatest depth)
HIERARCHY = {"$eq_below", "$below", "$eq_above", "$above"}
TAXONOMY_FIELD = "taxonomies"
REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


class QueryError(ValueError):
    """A malformed query or query parameter; the CDA answers it with error_code 141."""

    def __init__(self, message: str, param: str = "query"):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class MatchContext:
    """What matching needs beyond the document: its content type and a reference resolver."""

    content_type_uid: str | None = None
    references: ReferenceLookup | None = None
    terms: TermSets | None = None


def parse_query(text: str | None) -> JsonDict:
    """Parse and check the `query` parameter (JSON object); empty means match everything."""
    if text is None or not text.strip():
        return {}
    try:
        query = json.loads(text)
    except json.JSONDecodeError as err:
        raise QueryError(f"is not valid JSON ({err.msg} at character {err.pos}).") from None
    if not isinstance(query, dict):
        raise QueryError("must be a JSON object.")
    check_query(query)
    return query


def check_query(query: Any, where: str = "query") -> None:
    """Raise QueryError unless `query` is a well-formed query object."""
    if not isinstance(query, dict):
        raise QueryError(f"{where} must be an object.")
    for key, condition in query.items():
        if key in LOGICAL:
            if not isinstance(condition, list) or not condition:
                raise QueryError(f"{key} takes a non-empty list of queries.")
            for index, sub in enumerate(condition):
                check_query(sub, f"{key}[{index}]")
        elif key.startswith("$"):
            raise QueryError(f"has an unsupported operator {key}.")
        elif _is_operator_dict(condition):
            _check_operators(key, condition)


def _is_operator_dict(condition: Any) -> bool:
    return isinstance(condition, dict) and any(str(k).startswith("$") for k in condition)


def _check_operators(field: str, ops: JsonDict) -> None:
    hierarchy = [op for op in ops if op in HIERARCHY]
    if hierarchy and not field.startswith(TAXONOMY_FIELD + "."):
        raise QueryError(f'{hierarchy[0]} works on "taxonomies.<taxonomy uid>", not "{field}".')
    for op, value in ops.items():
        if op == "levels":
            if not hierarchy:
                raise QueryError(
                    f'levels on "{field}" needs $eq_below, $below, $eq_above or $above.'
                )
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise QueryError(f'levels on "{field}" takes a whole number from 0.')
            continue
        if op in HIERARCHY:
            if not isinstance(value, str) or not value:
                raise QueryError(f'{op} on "{field}" takes a term uid.')
            continue
        if op in REFERENCE_OPERATORS:
            check_query(value, f"{field}.{op}")
            continue
        if op not in FIELD_OPERATORS:
            raise QueryError(f'has an unsupported operator {op} on "{field}".')
        if op in ("$in", "$nin") and not isinstance(value, list):
            raise QueryError(f'{op} on "{field}" takes a list of values.')
        if op == "$exists" and not isinstance(value, bool):
            raise QueryError(f'$exists on "{field}" takes true or false.')
        if op == "$regex":
            if not isinstance(value, str):
                raise QueryError(f'$regex on "{field}" takes a string.')
            _compile_regex(value, ops.get("$options", ""), field)
        if op == "$options":
            if "$regex" not in ops:
                raise QueryError(f'$options on "{field}" needs a $regex.')
            if not isinstance(value, str) or any(c not in REGEX_FLAGS for c in value):
                raise QueryError(f'$options on "{field}" may only hold the letters i, m, s, x.')


def _compile_regex(pattern: str, options: Any, field: str) -> re.Pattern[str]:
    flags = 0
    if isinstance(options, str):
        for letter in options:
            flags |= REGEX_FLAGS.get(letter, 0)
    try:
        return re.compile(pattern, flags)
    except re.error as err:
        raise QueryError(
            f'$regex on "{field}" is not a valid regular expression ({err}).'
        ) from None


# -- matching ----------------------------------------------------------------------------------


def path_values(doc: Any, path: str) -> list[Any]:
    """Every value found at a dotted path; lists along the way are searched element-wise."""
    current = [doc]
    for part in path.split("."):
        found: list[Any] = []
        for value in current:
            if isinstance(value, dict):
                if part in value:
                    found.append(value[part])
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and part in item:
                        found.append(item[part])
        current = found
    return current


def _candidates(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(value)
        out.append(value)
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _any_in(candidates: list[Any], values: list[Any]) -> bool:
    """Whether some candidate is the same as some value (`_same`), strings by set lookup.

    A string value is the same only as an equal string, so a long ``$in`` list of uids costs
    one set lookup per candidate instead of one comparison per value.
    """
    strings = {v for v in values if type(v) is str}
    if strings and any(isinstance(c, str) and c in strings for c in candidates):
        return True
    others = [v for v in values if type(v) is not str] if len(strings) < len(values) else ()
    return any(_same(c, a) for c in candidates for a in others)


def _ordered(a: Any, b: Any) -> tuple[Any, Any] | None:
    """Comparable forms of a and b (numbers, dates, strings), or None if they do not compare."""
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        da, db = parse_time(a), parse_time(b)
        if da is not None and db is not None:
            return da, db
        return a, b
    return None


def _compare(op: str, a: Any, b: Any) -> bool:
    pair = _ordered(a, b)
    if pair is None:
        return False
    x, y = pair
    if op == "$lt":
        return x < y
    if op == "$lte":
        return x <= y
    if op == "$gt":
        return x > y
    return x >= y


def _values_for(doc: JsonDict, field: str, ctx: MatchContext) -> list[Any]:
    if field == "_content_type_uid" and "_content_type_uid" not in doc:
        return [ctx.content_type_uid] if ctx.content_type_uid else []
    if field.startswith(TAXONOMY_FIELD + ".") and isinstance(doc.get(TAXONOMY_FIELD), list):
        # taxonomies.<uid>: the terms of that taxonomy the entry is tagged with
        taxonomy = field[len(TAXONOMY_FIELD) + 1 :]
        return [
            tag.get("term_uid")
            for tag in doc[TAXONOMY_FIELD]
            if isinstance(tag, dict) and tag.get("taxonomy_uid") == taxonomy
        ]
    return path_values(doc, field)


def matches(doc: JsonDict, query: JsonDict, ctx: MatchContext | None = None) -> bool:
    """Whether `doc` satisfies a (checked) query."""
    ctx = ctx or MatchContext()
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, sub, ctx) for sub in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, sub, ctx) for sub in condition):
                return False
        elif not _field_matches(_values_for(doc, key, ctx), condition, key, ctx):
            return False
    return True


def _field_matches(values: list[Any], condition: Any, field: str, ctx: MatchContext) -> bool:
    if not _is_operator_dict(condition):
        return any(_same(c, condition) for c in _candidates(values))
    candidates = _candidates(values)
    for op, arg in condition.items():
        if op in ("$options", "levels"):
            continue
        if op in HIERARCHY:
            if ctx.terms is None:
                raise QueryError(f"{op} needs the stack's taxonomies, which this query cannot see.")
            taxonomy = field[len(TAXONOMY_FIELD) + 1 :]
            levels = condition.get("levels", DEFAULT_LEVELS)
            ok = _any_in(candidates, list(ctx.terms(taxonomy, op, arg, levels)))
        elif op == "$eq":
            ok = any(_same(c, arg) for c in candidates)
        elif op == "$ne":
            ok = not any(_same(c, arg) for c in candidates)
        elif op == "$in":
            ok = _any_in(candidates, arg)
        elif op == "$nin":
            ok = not _any_in(candidates, arg)
        elif op == "$exists":
            ok = bool(values) == arg
        elif op in COMPARISONS:
            ok = any(_compare(op, c, arg) for c in candidates)
        elif op == "$regex":
            regex = _compile_regex(arg, condition.get("$options", ""), field)
            ok = any(isinstance(c, str) and regex.search(c) for c in candidates)
        else:  # $in_query / $nin_query
            stubs = [c for c in candidates if isinstance(c, dict)]
            pins = pinned_uids(arg)
            if pins is not None:  # no need to look up entries the inner query cannot match
                stubs = [s for s in stubs if isinstance(s.get("uid"), str) and s["uid"] in pins]
            found = ctx.references(stubs) if ctx.references else []
            hit = any(
                matches(entry, arg, MatchContext(ct, ctx.references, ctx.terms))
                for ct, entry in found
            )
            ok = hit if op == "$in_query" else not hit
        if not ok:
            return False
    return True


def pinned_uids(query: JsonDict, referrers: Referrers | None = None) -> frozenset[str] | None:
    """The uids a (checked) query can match, when it pins them; None when it does not.

    Every document with a string ``uid`` that satisfies `query` has its uid in the returned
    set, so a caller may match the query against those documents only and get the same
    answer. Pins are ``{"uid": X}``, ``{"uid": {"$eq": X}}`` and ``{"uid": {"$in": [...]}}``;
    keys of an object and items of ``$and`` intersect, items of ``$or`` unite (and pin only
    if each of them does). Non-string values pin nothing: they never equal a uid.

    With `referrers` (the uids of the documents holding a reference to any of the given
    uids), ``{"field": {"$in_query": Q}}`` pins too when Q does: only a document referring
    to an entry Q can match can match it.
    """
    found: frozenset[str] | None = None
    for key, condition in query.items():
        if key == "$and":
            pins = _intersect(pinned_uids(sub, referrers) for sub in condition)
        elif key == "$or":
            subs = [pinned_uids(sub, referrers) for sub in condition]
            pins = None if any(p is None for p in subs) else frozenset().union(*subs)
        elif key == "uid":
            pins = _pinned_by(condition)
        elif referrers is not None and _is_operator_dict(condition) and "$in_query" in condition:
            targets = pinned_uids(condition["$in_query"])
            pins = None if targets is None else referrers(targets)
        else:
            continue
        found = _intersect([found, pins])
    return found


def _pinned_by(condition: Any) -> frozenset[str] | None:
    if not _is_operator_dict(condition):
        return frozenset([condition]) if isinstance(condition, str) else frozenset()
    found: list[frozenset[str] | None] = []
    if "$eq" in condition:
        value = condition["$eq"]
        found.append(frozenset([value]) if isinstance(value, str) else frozenset())
    if "$in" in condition:
        found.append(frozenset(v for v in condition["$in"] if isinstance(v, str)))
    return _intersect(found)


def _intersect(sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    found: frozenset[str] | None = None
    for pins in sets:
        if pins is not None:
            found = pins if found is None else found & pins
    return found


def filter_docs(
    docs: Iterable[JsonDict], query: JsonDict, ctx: MatchContext | None = None
) -> list[JsonDict]:
    """The documents that satisfy the query, order kept."""
    if not query:
        return list(docs)
    return [doc for doc in docs if matches(doc, query, ctx)]


# -- sorting -----------------------------------------------------------------------------------


def sort_value(doc: JsonDict, field: str) -> tuple:
    values = path_values(doc, field)
    value = values[0] if values else None
    while isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        moment = parse_time(value)
        return (3, moment.timestamp(), value) if moment is not None else (4, value)
    return (5, json.dumps(value, sort_keys=True))


def sort_docs(docs: Sequence[JsonDict], field: str, *, descending: bool) -> list[JsonDict]:
    """Docs sorted by a dotted field (missing values first when ascending); stable."""
    return sorted(docs, key=lambda d: sort_value(d, field), reverse=descending)


# -- projection --------------------------------------------------------------------------------


def _path_tree(paths: Iterable[str]) -> JsonDict:
    tree: JsonDict = {}
    for path in paths:
        node = tree
        parts = [p for p in path.split(".") if p]
        for index, part in enumerate(parts):
            if index == len(parts) - 1:
                node[part] = {}
            else:
                existing = node.get(part)
                if existing == {} and part in node:
                    break  # the whole field is already selected
                node = node.setdefault(part, {})
    return tree


def _keep(value: Any, tree: JsonDict) -> Any:
    if isinstance(value, list):
        return [_keep(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = value[key] if not sub else _keep(value[key], sub)
    return out


def _drop(value: Any, tree: JsonDict) -> Any:
    if isinstance(value, list):
        return [_drop(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key not in tree:
            out[key] = item
        elif tree[key]:
            out[key] = _drop(item, tree[key])
    return out


def project(
    doc: JsonDict,
    only: Sequence[str] = (),
    exclude: Sequence[str] = (),
    keep: Sequence[str] = ("uid",),
) -> JsonDict:
    """Apply only[..][] / except[..][] paths to a document; `keep` keys always stay."""
    out = doc
    if only:
        out = _keep(out, _path_tree(only))
    if exclude:
        out = _drop(out, _path_tree(exclude))
    if out is doc:
        return doc
    for key in keep:
        if key in doc:
            out[key] = doc[key]
    return out
