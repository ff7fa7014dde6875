"""The local stack served over Contentstack's Content Delivery API (v3), Sync API included.

`create_app` returns a Starlette app usable in-process (httpx.ASGITransport) or on a port
(`serve`). Requests are authenticated like the CDA (headers `api_key` and `access_token`, when
stack.json sets them) and errors use Contentstack's body: ``{"error_message", "error_code",
"errors"}``. Credentials are never echoed in responses, and `serve` redacts them from access logs.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from sitegen.errors import StackFolderError
from sitegen.stack.folder import format_time, parse_time
from sitegen.stack.history import EVENT_TYPES, SyncFilter
from sitegen.stack.query import QueryError, matches, parse_query, project
from sitegen.stack.records import ASSET_CONTENT_TYPE_UID
from sitegen.stack.resolve import MAX_INCLUDE_DEPTH, DeliveryOptions, Sort
from sitegen.stack.service import StackService
from sitegen.stack.sync import continue_sync, next_page, start_sync
from sitegen.stack.tokens import TokenError

JsonDict = dict[str, Any]

MAX_LIMIT = 100
PROJECTION_RE = re.compile(r"^(only|except)\[([^\]]+)\]\[\d*\]$")
INCLUDE_RE = re.compile(r"^include\[\d*\]$")
SECRET_PARAMS = (
    "api_key",
    "access_token",
    "delivery_token",
    "authorization",
    "authtoken",
    "management_token",
    "preview_token",
)


class CDAError(Exception):
    """An error answered the way Contentstack answers it."""

    def __init__(self, status: int, code: int, message: str, errors: JsonDict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}

    def response(self) -> JSONResponse:
        """The HTTP response for this error."""
        body = {"error_message": self.message, "error_code": self.code, "errors": self.errors}
        return JSONResponse(body, status_code=self.status)


def bad_parameter(name: str, problem: str, what: str = "entries") -> CDAError:
    """A rejected request parameter (Contentstack's 141 'Failed to fetch ...')."""
    return CDAError(
        422,
        141,
        f"Failed to fetch {what}. Please try again with valid parameters.",
        {name: [problem]},
    )


def unknown_content_type(uid: str) -> CDAError:
    """The CDA's answer for a content type that does not exist."""
    return CDAError(
        422,
        118,
        f"The Content Type '{uid}' was not found. Please try again.",
        {"uid": ["is not valid."]},
    )


def unknown_entry() -> CDAError:
    """The CDA's answer for an entry that does not exist (or is not published there)."""
    return CDAError(422, 141, "The requested object doesn't exist.", {"uid": ["is not valid."]})


def unknown_asset() -> CDAError:
    """The CDA's answer for an asset that does not exist."""
    return CDAError(422, 145, "Asset was not found.", {"uid": ["is not valid."]})


def bad_token(name: str) -> CDAError:
    """An invalid sync or pagination token: start over with init=true."""
    return CDAError(422, 141, f"The {name} is not valid.", {name: ["is not valid."]})


# -- parameters ---------------------------------------------------------------------------------


def _int_param(
    qp: QueryParams, name: str, default: int, *, maximum: int | None = None, what: str = "entries"
) -> int:
    raw = qp.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_parameter(name, "must be a whole number.", what) from None
    if value < 0:
        raise bad_parameter(name, "must not be negative.", what)
    if maximum is not None and value > maximum:
        raise bad_parameter(name, f"must not be more than {maximum}.", what)
    return value


def _bool_param(qp: QueryParams, name: str) -> bool:
    return (qp.get(name) or "").lower() in ("true", "1")


def _sort_param(qp: QueryParams) -> Sort:
    for key, value in qp.multi_items():
        if key in ("asc", "desc") and value:
            return value, key == "desc"
    return None


def _projection(qp: QueryParams) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    only: dict[str, list[str]] = {}
    exclude: dict[str, list[str]] = {}
    for key, value in qp.multi_items():
        match = PROJECTION_RE.match(key)
        if match and value:
            target = only if match.group(1) == "only" else exclude
            target.setdefault(match.group(2), []).append(value)
    return only, exclude


def _query_param(qp: QueryParams, what: str) -> JsonDict:
    try:
        return parse_query(qp.get("query"))
    except QueryError as err:
        raise bad_parameter(err.param, str(err), what) from None


def _locale(service: StackService, qp: QueryParams) -> str:
    code = qp.get("locale") or service.stack.master_locale
    if service.stack.locale(code) is None:
        raise CDAError(
            422, 141, "Language was not found. Please try again.", {"locale": ["is not valid."]}
        )
    return code


def _authorize(service: StackService, request: Request, *, environment: bool) -> str | None:
    """Check credentials; return the environment (required when `environment`)."""
    stack = service.stack
    if stack.api_key is not None and not hmac.compare_digest(
        request.headers.get("api_key", "").encode(), stack.api_key.encode()
    ):
        raise CDAError(412, 109, "Api key is not valid.", {"api_key": ["is not valid."]})
    if stack.delivery_token is not None and not hmac.compare_digest(
        request.headers.get("access_token", "").encode(), stack.delivery_token.encode()
    ):
        raise CDAError(
            401, 104, "The delivery token is not valid.", {"access_token": ["is not valid."]}
        )
    env = request.query_params.get("environment") or request.headers.get("environment")
    if env is None or env == "":
        if environment:
            raise CDAError(
                422, 141, "The environment is required.", {"environment": ["is required."]}
            )
        return None
    if env not in stack.environments:
        raise CDAError(
            422,
            141,
            f"Environment '{env}' was not found. Please try again.",
            {"environment": ["is not valid."]},
        )
    return env


def _delivery_options(service: StackService, request: Request, env: str) -> DeliveryOptions:
    qp = request.query_params
    depth = 0
    if _bool_param(qp, "include_all"):
        depth = _int_param(qp, "include_all_depth", 1, maximum=MAX_INCLUDE_DEPTH)
        if depth < 1:
            raise bad_parameter("include_all_depth", f"must be between 1 and {MAX_INCLUDE_DEPTH}.")
    include = tuple(v for k, v in qp.multi_items() if INCLUDE_RE.match(k) and v)
    embedded = any(
        v == "BASE" for k, v in qp.multi_items() if k.startswith("include_embedded_items[")
    )
    only, exclude = _projection(qp)
    return DeliveryOptions(
        environment=env,
        locale=_locale(service, qp),
        fallback=_bool_param(qp, "include_fallback"),
        include_all_depth=depth,
        include=include,
        embedded_items=embedded,
        only=only,
        exclude=exclude,
    )


# -- endpoints ----------------------------------------------------------------------------------


def list_content_types(service: StackService, request: Request) -> Response:
    """GET /v3/content_types: rescans first, so a build sees files edited since."""
    _authorize(service, request, environment=False)
    catalog = service.refresh()
    qp = request.query_params
    skip = _int_param(qp, "skip", 0, what="content types")
    limit = _int_param(qp, "limit", MAX_LIMIT, maximum=MAX_LIMIT, what="content types")
    query = _query_param(qp, "content types")
    found = [ct for ct in catalog.content_types() if not query or matches(ct, query)]
    body: JsonDict = {"content_types": found[skip : skip + limit]}
    if _bool_param(qp, "include_count"):
        body["count"] = len(found)
    return JSONResponse(body)


def get_content_type(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{uid}."""
    _authorize(service, request, environment=False)
    uid = request.path_params["uid"]
    found = service.catalog().content_type(uid)
    if found is None:
        raise unknown_content_type(uid)
    return JSONResponse({"content_type": found})


def list_entries(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{ct}/entries."""
    env = _authorize(service, request, environment=True)
    assert env is not None
    catalog = service.catalog()
    ct = request.path_params["ct"]
    if not catalog.has_content_type(ct):
        raise unknown_content_type(ct)
    qp = request.query_params
    opts = _delivery_options(service, request, env)
    skip = _int_param(qp, "skip", 0)
    limit = _int_param(qp, "limit", MAX_LIMIT, maximum=MAX_LIMIT)
    query = _query_param(qp, "entries")
    found = catalog.query_entries(ct, opts.locale, opts.fallback, query, _sort_param(qp))
    if _bool_param(qp, "count"):
        return JSONResponse({"entries": len(found)})
    body: JsonDict = {
        "entries": [catalog.render_entry(e, ct, opts) for e in found[skip : skip + limit]]
    }
    if _bool_param(qp, "include_count"):
        body["count"] = len(found)
    if _bool_param(qp, "include_content_type"):
        body["content_type"] = catalog.content_type(ct)
    return JSONResponse(body)


def get_entry(service: StackService, request: Request) -> Response:
    """GET /v3/content_types/{ct}/entries/{uid}."""
    env = _authorize(service, request, environment=True)
    assert env is not None
    catalog = service.catalog()
    ct, uid = request.path_params["ct"], request.path_params["uid"]
    if not catalog.has_content_type(ct):
        raise unknown_content_type(ct)
    opts = _delivery_options(service, request, env)
    entry = catalog.find_entry(ct, uid, opts.locale, opts.fallback)
    if entry is None:
        raise unknown_entry()
    body: JsonDict = {"entry": catalog.render_entry(entry, ct, opts)}
    if _bool_param(request.query_params, "include_content_type"):
        body["content_type"] = catalog.content_type(ct)
    return JSONResponse(body)


def list_assets(service: StackService, request: Request) -> Response:
    """GET /v3/assets."""
    env = _authorize(service, request, environment=True)
    assert env is not None
    catalog = service.catalog()
    qp = request.query_params
    opts = DeliveryOptions(environment=env, locale=_locale(service, qp))
    skip = _int_param(qp, "skip", 0, what="assets")
    limit = _int_param(qp, "limit", MAX_LIMIT, maximum=MAX_LIMIT, what="assets")
    query = _query_param(qp, "assets")
    found = catalog.query_assets(query, _sort_param(qp))
    if _bool_param(qp, "count"):
        return JSONResponse({"assets": len(found)})
    only, exclude = _projection(qp)
    rendered = [catalog.render_asset(a, opts) for a in found[skip : skip + limit]]
    if only.get("BASE") or exclude.get("BASE"):
        rendered = [project(a, only.get("BASE", []), exclude.get("BASE", [])) for a in rendered]
    body: JsonDict = {"assets": rendered}
    if _bool_param(qp, "include_count"):
        body["count"] = len(found)
    return JSONResponse(body)


def get_asset(service: StackService, request: Request) -> Response:
    """GET /v3/assets/{uid}."""
    env = _authorize(service, request, environment=True)
    assert env is not None
    catalog = service.catalog()
    asset = catalog.asset(request.path_params["uid"])
    if asset is None:
        raise unknown_asset()
    opts = DeliveryOptions(environment=env, locale=_locale(service, request.query_params))
    return JSONResponse({"asset": catalog.render_asset(asset, opts)})


def asset_file(service: StackService, request: Request) -> Response:
    """GET /assets/{uid}/{filename}: the bytes of a local asset (no credentials, like a CDN)."""
    catalog = service.catalog()
    uid, filename = request.path_params["uid"], request.path_params["filename"]
    asset = catalog.asset(uid)
    if asset is None or asset.get("filename") != filename:
        raise HTTPException(404)
    path = service.stack.root / "assets" / uid / filename
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=asset.get("content_type") or None)


def _sync_filter(service: StackService, qp: QueryParams) -> SyncFilter:
    ct = qp.get("content_type_uid") or None
    if ct is not None and ct != ASSET_CONTENT_TYPE_UID and ct not in service.stack.content_types:
        raise unknown_content_type(ct)
    locale = qp.get("locale") or None
    if locale is not None:
        _locale(service, qp)
    types: list[str] = []
    for raw in qp.getlist("type"):
        for name in raw.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in EVENT_TYPES:
                raise bad_parameter("type", f"must be one of {', '.join(EVENT_TYPES)}.", "sync")
            types.append(name)
    start_from = qp.get("start_from") or None
    if start_from is not None:
        moment = parse_time(start_from)
        if moment is None:
            raise bad_parameter(
                "start_from", "must be an ISO 8601 date such as 2018-08-14T00:00:00.000Z.", "sync"
            )
        start_from = format_time(moment)
    return SyncFilter(tuple(types), ct, locale, start_from)


def stack_sync(service: StackService, request: Request) -> Response:
    """GET /v3/stacks/sync: init, pagination_token or sync_token."""
    qp = request.query_params
    env = _authorize(service, request, environment=False)
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
    if not _bool_param(qp, "init"):
        raise bad_parameter(
            "init", "must be true, or pass a sync_token or pagination_token.", "sync"
        )
    if env is None:
        raise CDAError(422, 141, "The environment is required.", {"environment": ["is required."]})
    filt = _sync_filter(service, qp)
    catalog = service.refresh()
    return JSONResponse(start_sync(service.history, catalog.sync_item, env, filt))


Handler = Callable[[StackService, Request], Response]


def _endpoint(service: StackService, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    def run(request: Request) -> Response:
        with service.lock:
            return handler(service, request)

    async def endpoint(request: Request) -> Response:
        try:
            return await run_in_threadpool(run, request)
        except CDAError as err:
            return err.response()
        except StackFolderError as err:
            # 400, not 5xx: clients retry 5xx, and the message (naming the file) must reach
            # the person who can fix the folder.
            logging.getLogger("sitegen.stack").error("%s", err)
            return CDAError(400, 400, str(err), {"stack_folder": ["is not valid."]}).response()

    return endpoint


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


def create_app(stack_dir: Path | str, *, history_path: Path | str | None = None) -> Starlette:
    """A CDA v3 server over a local stack folder (raises StackFolderError if it is malformed)."""
    service = StackService(Path(stack_dir), history_path)
    routes = [
        Route("/v3/content_types", _endpoint(service, list_content_types)),
        Route("/v3/content_types/{uid}", _endpoint(service, get_content_type)),
        Route("/v3/content_types/{ct}/entries", _endpoint(service, list_entries)),
        Route("/v3/content_types/{ct}/entries/{uid}", _endpoint(service, get_entry)),
        Route("/v3/assets", _endpoint(service, list_assets)),
        Route("/v3/assets/{uid}", _endpoint(service, get_asset)),
        Route("/v3/assets/{uid}/{filename}", _endpoint(service, asset_file)),
        Route("/assets/{uid}/{filename}", _endpoint(service, asset_file)),
        Route("/v3/stacks/sync", _endpoint(service, stack_sync)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.state.service = service
    return app


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
