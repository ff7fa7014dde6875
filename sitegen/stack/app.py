"""The local stack served over Contentstack's Content Delivery API (v3), Sync API included.

`create_app` returns a Starlette app usable in-process (httpx.ASGITransport) or on a port
(`serve`). Requests are authenticated like the CDA (headers `api_key` and `access_token`, when
stack.json sets them) and errors use Contentstack's body: ``{"error_message", "error_code",
"errors"}``. Credentials are never echoed in responses, and `serve` redacts them from access logs.

A request with a `preview_token` header (and no `access_token`) is a preview request, as on
Contentstack's preview host: entries come from the draft view (drafts.py), content types and
assets as usual, and the Sync API refuses it.

Every CDA request is also counted in the stack's request log, which the local stand-in for the
Analytics API (analytics.py, ``/analytics/v2/...``) reports from.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sitegen.content.query import matches, project
from sitegen.errors import StackFolderError
from sitegen.stack import branches, variants
from sitegen.stack import taxonomy_endpoints as tx
from sitegen.stack.analytics import AnalyticsService, UsageLog, analytics_routes, response_size
from sitegen.stack.faults import FaultInjector, Faults
from sitegen.stack.global_fields import (
    global_field,
    global_fields,
    without_global_field_schemas,
)
from sitegen.stack.live_preview import HEADER as LIVE_PREVIEW
from sitegen.stack.params import (
    authorize,
    bool_param,
    delivery_options,
    holds_text,
    int_param,
    is_preview,
    limit_param,
    locale_param,
    projection,
    query_param,
    require_environment,
    sort_param,
    sync_filter,
    typeahead_filter,
    with_branch,
    with_metadata,
    with_tags,
)
from sitegen.stack.records import absolute_asset_urls, environment_uid
from sitegen.stack.resolve import DeliveryOptions, RenderMemo
from sitegen.stack.responses import (
    CDAError,
    JSONResponse,
    bad_parameter,
    bad_token,
    folder_error,
    missing_environment,
    sync_needs_delivery_token,
    unknown_asset,
    unknown_branch,
    unknown_content_type,
    unknown_entry,
    unknown_global_field,
)
from sitegen.stack.service import StackService
from sitegen.stack.sync import continue_sync, next_page, start_sync
from sitegen.stack.tokens import TokenError
from sitegen.stack.variants import Variant

JsonDict = dict[str, Any]

SECRET_PARAMS = (
    "api_key",
    "access_token",
    "delivery_token",
    "authorization",
    "authtoken",
    "management_token",
    "preview_token",
)


# -- endpoints ----------------------------------------------------------------------------------


def _view(request: Request) -> dict[str, Any]:
    """Which catalog answers: delivery, drafts for a preview request, and the edits of a Live
    Preview session when a preview request carries its hash."""
    preview = is_preview(request)
    return {
        "preview": preview,
        "live_preview": request.headers.get(LIVE_PREVIEW) if preview else None,
    }


def list_content_types(service: StackService, request: Request) -> Response:
    """GET /v3/content_types: rescans first, so a build sees files edited since."""
    authorize(service.stack, request)
    catalog = service.refresh(**_view(request))
    qp = request.query_params
    skip = int_param(qp, "skip", 0, what="content types")
    limit = limit_param(qp, "content types")
    query = query_param(qp, "content types")
    found = [ct for ct in catalog.content_types() if not query or matches(ct, query)]
    if bool_param(qp, "only_last_activity"):
        return _last_activities(service, found, request)
    shown = [_content_type(ct, qp, service.stack.branch) for ct in found[skip : skip + limit]]
    body: JsonDict = {"content_types": shown}
    if bool_param(qp, "include_count"):
        body["count"] = len(found)
    return JSONResponse(body)


def get_content_type(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{uid}."""
    authorize(service.stack, request)
    uid = request.path_params["uid"]
    found = service.catalog().content_type(uid)
    if found is None:
        raise unknown_content_type(uid)
    shown = _content_type(found, request.query_params, service.stack.branch)
    return JSONResponse({"content_type": shown})


def _last_activities(service: StackService, found: list[JsonDict], request: Request) -> Response:
    """``only_last_activity=true`` (the legacy JS SDK's ``getLastActivities()``): the content
    types that have published entries, each with ``last_activity`` (per environment, the
    newest publish time per locale), the shape of the delivery SDK's test mocks."""
    env = require_environment(service.stack, request)
    env_uid = environment_uid(service.stack.name, env)
    shown = []
    for ct in found:
        newest: dict[str, str] = {}
        for _, locale, updated_at in service.history.published_entries(ct["uid"]):
            if updated_at > newest.get(locale, ""):
                newest[locale] = updated_at
        if not newest:
            continue
        details = [{"locale": code, "time": newest[code]} for code in sorted(newest)]
        activity = {"environments": [{"uid": env_uid, "details": details}]}
        shown.append({"uid": ct["uid"], "title": ct["title"], "last_activity": activity})
    return JSONResponse({"content_types": shown})


def _content_type(ct: JsonDict, qp: QueryParams, branch: str) -> JsonDict:
    """A content type as asked for: global field schemas only with include_global_field_schema."""
    if not bool_param(qp, "include_global_field_schema"):
        ct = {**ct, "schema": without_global_field_schemas(ct["schema"])}
    return with_branch(dict(ct), qp, branch)


def list_global_fields(service: StackService, request: Request) -> Response:
    """GET /v3/global_fields: rescans first, as content type lists do."""
    authorize(service.stack, request)
    service.refresh(**_view(request))
    qp = request.query_params
    skip = int_param(qp, "skip", 0, what="global fields")
    limit = limit_param(qp, "global fields")
    query = query_param(qp, "global fields")
    found = [gf for gf in global_fields(service.stack) if not query or matches(gf, query)]
    shown = [with_branch(gf, qp, service.stack.branch) for gf in found[skip : skip + limit]]
    body: JsonDict = {"global_fields": shown}
    if bool_param(qp, "include_count"):
        body["count"] = len(found)
    return JSONResponse(body)


def get_global_field(service: StackService, request: Request) -> Response:
    """GET /v3/global_fields/{uid}."""
    authorize(service.stack, request)
    service.catalog()
    uid = request.path_params["uid"]
    found = global_field(service.stack, uid)
    if found is None:
        raise unknown_global_field(uid)
    shown = with_branch(found, request.query_params, service.stack.branch)
    return JSONResponse({"global_field": shown})


def list_entries(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{ct}/entries."""
    env = require_environment(service.stack, request)
    catalog = service.catalog(**_view(request))
    ct = request.path_params["ct"]
    if not catalog.has_content_type(ct):
        raise unknown_content_type(ct)
    qp = request.query_params
    opts = delivery_options(service.stack, request, env)
    skip = int_param(qp, "skip", 0)
    limit = limit_param(qp)
    query = with_tags(qp, query_param(qp, "entries"))
    found = catalog.query_entries(ct, opts.locale, opts.fallback, query, sort_param(qp))
    needle = typeahead_filter(qp)
    if needle:
        found = [e for e in found if holds_text(e, needle)]
    if bool_param(qp, "count"):
        return JSONResponse({"entries": len(found)})
    chosen = _variants(service, request)
    memo = RenderMemo()
    shown = [
        _delivered(
            service,
            catalog.render_entry(e, ct, opts, memo),
            ct,
            chosen,
            qp,
            lambda fields: catalog.render_entry(fields, ct, opts),
        )
        for e in found[skip : skip + limit]
    ]
    body: JsonDict = {"entries": shown}
    if bool_param(qp, "include_count"):
        body["count"] = len(found)
    if bool_param(qp, "include_content_type"):
        body["content_type"] = _content_type(catalog.content_type(ct), qp, service.stack.branch)
    return JSONResponse(body)


def get_entry(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{ct}/entries/{uid}: a Live Preview request (its hash) rescans
    first, so what the editor just changed in the folder is what it sees."""
    env = require_environment(service.stack, request)
    view = _view(request)
    catalog = service.refresh(**view) if view["live_preview"] else service.catalog(**view)
    ct, uid = request.path_params["ct"], request.path_params["uid"]
    if not catalog.has_content_type(ct):
        raise unknown_content_type(ct)
    opts = delivery_options(service.stack, request, env)
    entry = catalog.find_entry(ct, uid, opts.locale, opts.fallback)
    if entry is None:
        raise unknown_entry()
    rendered = catalog.render_entry(entry, ct, opts)
    chosen = _variants(service, request)
    body: JsonDict = {
        "entry": _delivered(
            service,
            rendered,
            ct,
            chosen,
            request.query_params,
            lambda fields: catalog.render_entry(fields, ct, opts),
        )
    }
    if bool_param(request.query_params, "include_content_type"):
        body["content_type"] = _content_type(
            catalog.content_type(ct), request.query_params, service.stack.branch
        )
    return JSONResponse(body)


def _delivered(
    service: StackService,
    entry: JsonDict,
    ct: str,
    chosen: list[Variant],
    qp: QueryParams,
    render: Callable[[JsonDict], JsonDict],
) -> JsonDict:
    """A rendered entry with the chosen variants applied and the keys the request asked for
    (``_branch``, ``_metadata``); ``render`` delivers stored fields as the request asks."""
    entry = _with_variants(service, entry, ct, chosen, render)
    return with_metadata(with_branch(entry, qp, service.stack.branch), qp)


def _variants(service: StackService, request: Request) -> list[Variant]:
    """The entry variants the x-cs-variant-uid header names (none without it)."""
    return variants.requested(request.headers.get(variants.HEADER), service.stack.variants)


def _with_variants(
    service: StackService,
    entry: JsonDict,
    ct: str,
    chosen: list[Variant],
    render: Callable[[JsonDict], JsonDict],
) -> JsonDict:
    """The entry as the chosen variants show it, in its delivered locale."""
    if not chosen:
        return entry
    schema = service.stack.content_types[ct]["schema"]
    locale = str(entry.get("locale"))
    changes = []
    for variant in chosen:
        if variant.content_types and ct not in variant.content_types:
            continue
        fields = variants.read_changes(
            service.stack.root, variant, ct, entry["uid"], locale, schema
        )
        if fields is not None:
            # stored as entries are (asset uids, reference stubs): delivered as they are
            shown = render({"uid": entry["uid"], **fields})
            changes.append((variant, {key: shown[key] for key in fields if key in shown}))
    publish = {k: v for k, v in (entry.get("publish_details") or {}).items() if k != "variants"}
    return variants.apply(entry, changes, publish)


def list_assets(service: StackService, request: Request) -> Response:
    """GET /v3/assets."""
    env = require_environment(service.stack, request)
    catalog = service.catalog(**_view(request))
    qp = request.query_params
    opts = DeliveryOptions(environment=env, locale=locale_param(service.stack, qp))
    skip = int_param(qp, "skip", 0, what="assets")
    limit = limit_param(qp, "assets")
    query = with_tags(qp, query_param(qp, "assets"))
    found = catalog.query_assets(query, sort_param(qp))
    if bool_param(qp, "count"):
        return JSONResponse({"assets": len(found)})
    only, exclude = projection(qp)
    rendered = [
        _asset_extras(service, catalog.render_asset(a, opts), qp)
        for a in found[skip : skip + limit]
    ]
    if only.get("BASE") or exclude.get("BASE"):
        rendered = [project(a, only.get("BASE", []), exclude.get("BASE", [])) for a in rendered]
    body: JsonDict = {"assets": rendered}
    if bool_param(qp, "include_count"):
        body["count"] = len(found)
    return JSONResponse(body)


def get_asset(service: StackService, request: Request) -> Response:
    """GET /v3/assets/{uid}."""
    env = require_environment(service.stack, request)
    catalog = service.catalog(**_view(request))
    asset = catalog.asset(request.path_params["uid"])
    if asset is None:
        raise unknown_asset()
    opts = DeliveryOptions(
        environment=env, locale=locale_param(service.stack, request.query_params)
    )
    rendered = _asset_extras(service, catalog.render_asset(asset, opts), request.query_params)
    return JSONResponse({"asset": rendered})


def _asset_extras(service: StackService, asset: JsonDict, qp: QueryParams) -> JsonDict:
    """``include_dimension`` (an image's height and width), ``include_branch`` and
    ``include_metadata``."""
    if bool_param(qp, "include_dimension"):
        size = service.dimension(asset["uid"], asset.get("filename"))
        if size is not None:
            asset["dimension"] = {"height": size[1], "width": size[0]}
    return with_metadata(with_branch(asset, qp, service.stack.branch), qp)


def asset_file(service: StackService, request: Request) -> Response:
    """GET /assets/{uid}/{filename}: the bytes of a local asset (no credentials, like a CDN).

    Asset URLs name no branch, as Contentstack's do not: a request without a ``branch`` header
    (a browser's) is answered from the first branch, main first, that has the file."""
    uid, filename = request.path_params["uid"], request.path_params["filename"]
    for source in _asset_sources(service, request):
        with source.lock:
            asset = source.catalog().asset(uid)
            path = source.stack.root / "assets" / uid / filename
        if asset is not None and asset.get("filename") == filename and path.is_file():
            return FileResponse(path, media_type=asset.get("content_type") or None)
    raise HTTPException(404)


def _asset_sources(service: StackService, request: Request) -> Iterator[StackService]:
    """The branch the request names; without a header, then the other branches in order."""
    yield service
    if branches.HEADER in request.headers:
        return
    for uid in branches.branch_uids(service.stack_dir)[1:]:
        found = service.branch(uid)
        if found is not None:
            yield found


def stack_sync(service: StackService, request: Request) -> Response:
    """GET /v3/stacks/sync: init, pagination_token or sync_token (never for previews)."""
    qp = request.query_params
    env = authorize(service.stack, request)
    if is_preview(request):
        raise sync_needs_delivery_token()
    pagination_token = qp.get("pagination_token")
    sync_token = qp.get("sync_token")
    if pagination_token is not None:
        catalog = service.catalog()
        try:
            return JSONResponse(next_page(service.history, catalog.sync_item, pagination_token))
        except TokenError:
            raise bad_token("pagination_token") from None
    if sync_token is not None:
        catalog = service.refresh()
        try:
            return JSONResponse(continue_sync(service.history, catalog.sync_item, sync_token))
        except TokenError:
            raise bad_token("sync_token") from None
    if not bool_param(qp, "init"):
        raise bad_parameter(
            "init", "must be true, or pass a sync_token or pagination_token.", "sync"
        )
    if env is None:
        raise missing_environment()
    filt = sync_filter(service.stack, qp)
    catalog = service.refresh()
    return JSONResponse(start_sync(service.history, catalog.sync_item, env, filt))


Handler = Callable[[StackService, Request], Response]


def _endpoint(
    service: StackService, handler: Handler, usage: UsageLog | None = None, *, locked: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """The handler run for the branch the request names, under that branch's lock unless
    ``locked`` is False (a handler that locks what it reads itself). A branch's lock may be
    taken before main's, never after it."""

    def run(request: Request) -> Response:
        name = request.headers.get(branches.HEADER)
        chosen = service.branch(name)
        if chosen is None:
            raise unknown_branch(name or "")
        if not locked:
            return handler(chosen, request)
        with chosen.lock:
            return handler(chosen, request)

    async def answer(request: Request) -> Response:
        try:
            return await run_in_threadpool(run, request)
        except CDAError as err:
            return err.response()
        except StackFolderError as err:
            logging.getLogger("sitegen.stack").error("%s", err)
            return folder_error(str(err)).response()

    async def endpoint(request: Request) -> Response:
        response = _with_absolute_asset_urls(await answer(request), request)
        if usage is not None:  # the request log behind the local Analytics API
            await run_in_threadpool(
                usage.record, "cdn", response.status_code, response_size(response)
            )
        return response

    return endpoint


class _TrailingSlash:
    """``/v3/content_types/blog/entries/`` is ``…/entries``, as on the CDA: the legacy SDK always
    sends the slash (and the reference's examples show it), so it is answered, not redirected."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            trimmed = path.rstrip("/") or "/"
            raw = scope.get("raw_path")
            scope = {**scope, "path": trimmed}
            if raw is not None:
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


def _with_absolute_asset_urls(response: Response, request: Request) -> Response:
    """Local asset URLs made absolute on this server, as the CDA answers them, unless the
    request says ``relative_urls=true``."""
    if not isinstance(response, JSONResponse):
        return response
    body = response.body
    if b'"url":"/assets/' not in body or bool_param(request.query_params, "relative_urls"):
        return response
    origin = str(request.base_url).rstrip("/")
    text = absolute_asset_urls(body.decode("utf-8"), origin)
    return Response(text, status_code=response.status_code, media_type="application/json")


async def _not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return JSONResponse(
        {
            "error_message": "The requested resource could not be found.",
            "error_code": status,
            "errors": {},
        },
        status_code=status,
    )


def create_app(
    stack_dir: Path | str,
    *,
    history_path: Path | str | None = None,
    faults: Faults | None = None,
) -> Starlette:
    """A CDA v3 server over a local stack folder (raises StackFolderError if it is malformed).

    ``faults`` (tests only) makes some requests fail on purpose; see faults.py.
    """
    service = StackService(Path(stack_dir), history_path)
    usage = UsageLog(service.history.path)
    routes = [
        Route("/v3/content_types", _endpoint(service, list_content_types, usage)),
        Route("/v3/content_types/{uid}", _endpoint(service, get_content_type, usage)),
        Route("/v3/content_types/{ct}/entries", _endpoint(service, list_entries, usage)),
        Route("/v3/global_fields", _endpoint(service, list_global_fields, usage)),
        Route("/v3/taxonomies", _endpoint(service, tx.list_taxonomies, usage)),
        Route("/v3/taxonomies/entries", _endpoint(service, tx.taxonomy_entries, usage)),
        Route("/v3/taxonomies/{uid}", _endpoint(service, tx.get_taxonomy, usage)),
        Route("/v3/taxonomies/{uid}/terms", _endpoint(service, tx.list_terms, usage)),
        Route("/v3/taxonomies/{uid}/terms/{term}", _endpoint(service, tx.get_term, usage)),
        Route(
            "/v3/taxonomies/{uid}/terms/{term}/locales", _endpoint(service, tx.term_locales, usage)
        ),
        Route(
            "/v3/taxonomies/{uid}/terms/{term}/ancestors",
            _endpoint(service, tx.term_ancestors, usage),
        ),
        Route(
            "/v3/taxonomies/{uid}/terms/{term}/descendants",
            _endpoint(service, tx.term_descendants, usage),
        ),
        Route("/v3/global_fields/{uid}", _endpoint(service, get_global_field, usage)),
        Route("/v3/content_types/{ct}/entries/{uid}", _endpoint(service, get_entry, usage)),
        Route("/v3/assets", _endpoint(service, list_assets, usage)),
        Route("/v3/assets/{uid}", _endpoint(service, get_asset, usage)),
        Route("/v3/assets/{uid}/{filename}", _endpoint(service, asset_file, usage, locked=False)),
        Route("/assets/{uid}/{filename}", _endpoint(service, asset_file, usage, locked=False)),
        Route("/v3/stacks/sync", _endpoint(service, stack_sync, usage)),
    ]
    routes += analytics_routes(AnalyticsService(usage))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_TrailingSlash)],
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.service = service
    app.state.usage = usage
    if faults is not None:  # outermost, so that it sees the server's own `send` (drops)
        app.middleware_stack = FaultInjector(app.build_middleware_stack(), faults)
        app.state.faults = faults
    return app


def close_app(app: Starlette) -> None:
    """Close what an app made by :func:`create_app` holds open: the history databases and the
    usage log's connection to it."""
    app.state.usage.close()
    app.state.service.close()


class _RedactSecrets(logging.Filter):
    """Blank credential query parameters in access log lines (clients should use headers)."""

    pattern = re.compile(r"((?:" + "|".join(SECRET_PARAMS) + r")=)[^&\s]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def serve(
    stack_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    history_path: Path | str | None = None,
) -> None:
    """Serve a local stack folder over the CDA on host:port until interrupted."""
    import uvicorn

    app = create_app(stack_dir, history_path=history_path)
    app.state.service.refresh()  # report folder problems before listening
    logging.getLogger("uvicorn.access").addFilter(_RedactSecrets())
    uvicorn.run(app, host=host, port=port, log_level="info")
