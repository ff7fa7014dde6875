"""The taxonomy endpoints of the local stack's CDA (shapes and sources: see taxonomies.py).

``/v3/taxonomies`` (list), ``/v3/taxonomies/{uid}``, ``/v3/taxonomies/{uid}/terms`` (list, with
``depth``), ``/v3/taxonomies/{uid}/terms/{term}`` and its ``/locales``, ``/ancestors`` and
``/descendants`` (``depth`` limits the levels), and ``/v3/taxonomies/entries?query=…``: the
entries of every content type that match a query on ``taxonomies.<uid>`` (``$in``, ``$exists``,
``$eq_below``, ``$below``, ``$eq_above``, ``$above`` with ``levels``, ``$and``/``$or``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sitegen.content.timestamps import format_time
from sitegen.stack.folder import TAXONOMIES_DIR
from sitegen.stack.params import (
    authorize,
    bool_param,
    delivery_options,
    int_param,
    is_preview,
    limit_param,
    locale_param,
    query_param,
    require_environment,
    sort_param,
    with_branch,
    with_metadata,
)
from sitegen.stack.records import environment_uid, user_uid
from sitegen.stack.resolve import default_order
from sitegen.stack.responses import CDAError, JSONResponse, bad_parameter, unknown_taxonomy_item
from sitegen.stack.service import StackService
from sitegen.stack.taxonomies import (
    Taxonomy,
    delivered_taxonomy,
    delivered_term,
    localized_name,
)

JsonDict = dict[str, Any]


def unknown_taxonomy(uid: str) -> CDAError:
    return unknown_taxonomy_item("taxonomy", uid)


def unknown_term(uid: str) -> CDAError:
    return unknown_taxonomy_item("term", uid)


class _View:
    """One request's view of the taxonomies: its locale chain and the system fields."""

    def __init__(self, service: StackService, request: Request):
        authorize(service.stack, request)
        service.catalog(
            preview=is_preview(request),
            live_preview=request.headers.get("live_preview") if is_preview(request) else None,
        )
        self.stack = service.stack
        qp = request.query_params
        self.qp = qp
        self.locale = locale_param(self.stack, qp)
        fallback = bool_param(qp, "include_fallback")
        self.chain = self.stack.fallback_chain(self.locale) if fallback else [self.locale]
        self.branch = bool_param(qp, "include_branch")
        env = qp.get("environment") or request.headers.get("environment")
        self.environment = env if env in self.stack.environments else self.stack.environments[0]

    def taxonomy(self, uid: str) -> Taxonomy:
        found = self.stack.taxonomies.get(uid)
        if found is None:
            raise unknown_taxonomy(uid)
        return found

    def system(self, taxonomy: Taxonomy, locale: str) -> JsonDict:
        stat = self.stack.config_stats.get(f"{TAXONOMIES_DIR}/{taxonomy.uid}.json")
        when = format_time(datetime.fromtimestamp(stat[1] / 1e9, UTC)) if stat else None
        user = user_uid(self.stack.name)
        fields: JsonDict = {
            "created_at": when,
            "updated_at": when,
            "created_by": user,
            "updated_by": user,
            "ACL": {},
            "publish_details": {
                "environment": environment_uid(self.stack.name, self.environment),
                "locale": locale,
                "time": when,
                "user": user,
            },
        }
        if self.branch:
            fields["_branch"] = self.stack.branch
        return fields

    def delivered_taxonomy(self, taxonomy: Taxonomy) -> JsonDict | None:
        found = localized_name(taxonomy.names, taxonomy.name, self.chain, self.stack.master_locale)
        if found is None:
            return None
        name, locale = found
        return delivered_taxonomy(taxonomy, locale, name, self.system(taxonomy, locale))

    def term(self, taxonomy: Taxonomy, uid: str, chain: list[str] | None = None) -> JsonDict | None:
        term = taxonomy.terms[uid]
        found = localized_name(term.names, term.name, chain or self.chain, self.stack.master_locale)
        if found is None:
            return None
        name, locale = found
        return delivered_term(taxonomy, term, locale, name, self.system(taxonomy, locale))

    def terms(self, taxonomy: Taxonomy, uids: list[str]) -> list[JsonDict]:
        return [t for uid in uids if (t := self.term(taxonomy, uid)) is not None]

    def depth(self) -> int | None:
        depth = int_param(self.qp, "depth", 0, what="terms")
        return depth or None


def _page(qp: Any, items: list[JsonDict], key: str) -> JsonDict:
    skip = int_param(qp, "skip", 0, what=key)
    limit = limit_param(qp, key)
    body: JsonDict = {key: items[skip : skip + limit]}
    if bool_param(qp, "include_count"):
        body["count"] = len(items)
    return body


def list_taxonomies(service: StackService, request: Request) -> Response:
    """GET /v3/taxonomies."""
    service.refresh(preview=is_preview(request))
    view = _View(service, request)
    found = [
        t
        for uid in sorted(view.stack.taxonomies)
        if (t := view.delivered_taxonomy(view.stack.taxonomies[uid])) is not None
    ]
    return JSONResponse(_page(view.qp, found, "taxonomies"))


def get_taxonomy(service: StackService, request: Request) -> Response:
    """GET /v3/taxonomies/{uid}."""
    view = _View(service, request)
    uid = request.path_params["uid"]
    found = view.delivered_taxonomy(view.taxonomy(uid))
    if found is None:
        raise unknown_taxonomy(uid)
    return JSONResponse({"taxonomy": found})


def list_terms(service: StackService, request: Request) -> Response:
    """GET /v3/taxonomies/{uid}/terms: every term in tree order; ``depth`` keeps the top ones."""
    view = _View(service, request)
    taxonomy = view.taxonomy(request.path_params["uid"])
    depth = view.depth()
    uids = [t.uid for t in taxonomy.terms.values() if depth is None or t.depth <= depth]
    return JSONResponse(_page(view.qp, view.terms(taxonomy, uids), "terms"))


def _one_term(view: _View, request: Request) -> tuple[Taxonomy, str]:
    taxonomy = view.taxonomy(request.path_params["uid"])
    term = request.path_params["term"]
    if term not in taxonomy.terms:
        raise unknown_term(term)
    return taxonomy, term


def get_term(service: StackService, request: Request) -> Response:
    """GET /v3/taxonomies/{uid}/terms/{term}."""
    view = _View(service, request)
    taxonomy, uid = _one_term(view, request)
    found = view.term(taxonomy, uid)
    if found is None:
        raise unknown_term(uid)
    return JSONResponse({"term": found})


def term_locales(service: StackService, request: Request) -> Response:
    """GET …/terms/{term}/locales: the term in every locale that names it."""
    view = _View(service, request)
    taxonomy, uid = _one_term(view, request)
    term = taxonomy.terms[uid]
    codes = [c for c in view.stack.locale_codes if c == view.stack.master_locale or c in term.names]
    found = [t for code in codes if (t := view.term(taxonomy, uid, [code])) is not None]
    return JSONResponse({"terms": found})


def term_ancestors(service: StackService, request: Request) -> Response:
    """GET …/terms/{term}/ancestors: from the parent up, ``depth`` levels at most."""
    view = _View(service, request)
    taxonomy, uid = _one_term(view, request)
    return JSONResponse({"terms": view.terms(taxonomy, taxonomy.ancestors(uid, view.depth()))})


def term_descendants(service: StackService, request: Request) -> Response:
    """GET …/terms/{term}/descendants: the terms below, ``depth`` levels at most."""
    view = _View(service, request)
    taxonomy, uid = _one_term(view, request)
    return JSONResponse({"terms": view.terms(taxonomy, taxonomy.descendants(uid, view.depth()))})


def taxonomy_entries(service: StackService, request: Request) -> Response:
    """GET /v3/taxonomies/entries?query=…: matching entries of every content type."""
    env = require_environment(service.stack, request)
    catalog = service.catalog(
        preview=is_preview(request),
        live_preview=request.headers.get("live_preview") if is_preview(request) else None,
    )
    qp = request.query_params
    query = query_param(qp, "entries")
    if not query:
        raise bad_parameter("query", "is required: a query on taxonomies.<taxonomy uid>.")
    opts = delivery_options(service.stack, request, env)
    sort = sort_param(qp)
    found: list[tuple[str, JsonDict]] = []
    for ct in sorted(service.stack.content_types):
        for entry in catalog.query_entries(ct, opts.locale, opts.fallback, query, sort):
            found.append((ct, entry))
    by_id = {id(entry): ct for ct, entry in found}
    ordered = default_order(entry for _, entry in found) if sort is None else [e for _, e in found]
    skip = int_param(qp, "skip", 0)
    limit = limit_param(qp)
    if bool_param(qp, "count"):
        return JSONResponse({"entries": len(ordered)})
    entries = []
    for entry in ordered[skip : skip + limit]:
        ct = by_id[id(entry)]
        rendered = {**catalog.render_entry(entry, ct, opts), "_content_type_uid": ct}
        with_metadata(with_branch(rendered, qp, service.stack.branch), qp)
        entries.append(rendered)
    body: JsonDict = {"entries": entries}
    if bool_param(qp, "include_count"):
        body["count"] = len(ordered)
    return JSONResponse(body)
