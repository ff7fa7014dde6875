"""Parsing and checking CDA request parameters and credentials.

Bad values are answered like Contentstack answers them (see responses.py) instead of being
silently ignored, so a request that works against the local stack works against a real one.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from sitegen.content.query import QueryError, parse_query
from sitegen.content.timestamps import format_time, parse_time
from sitegen.stack.folder import LocalStack
from sitegen.stack.history import EVENT_TYPES, SyncFilter
from sitegen.stack.records import ASSET_CONTENT_TYPE_UID
from sitegen.stack.resolve import MAX_INCLUDE_DEPTH, DeliveryOptions, Sort
from sitegen.stack.responses import (
    bad_api_key,
    bad_delivery_token,
    bad_parameter,
    bad_preview_token,
    missing_environment,
    unknown_content_type,
    unknown_environment,
    unknown_locale,
)

JsonDict = dict[str, Any]

MAX_LIMIT = 100
PROJECTION_RE = re.compile(r"^(only|except)\[([^\]]+)\]\[\d*\]$")
# include[]=author, include[0]=author, and include[][]=author: the delivery SDK's
# includeReference() form, which query-string parsers (qs, Rails, PHP) read as include[] too
TAGS_RE = re.compile(r"^tags\[\d*\]$")
INCLUDE_RE = re.compile(r"^include(\[\d*\]){1,2}$")


def int_param(
    qp: QueryParams, name: str, default: int, *, maximum: int | None = None, what: str = "entries"
) -> int:
    """A non-negative whole number parameter (skip, limit, include_all_depth)."""
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


def limit_param(qp: QueryParams, what: str = "entries") -> int:
    """``limit``: at most 100 items a page. A larger value is capped, not refused: a live test of
    Contentstack's legacy JS SDK asks for ``limit(10000)`` and expects at most 100 back."""
    return min(int_param(qp, "limit", MAX_LIMIT, what=what), MAX_LIMIT)


def bool_param(qp: QueryParams, name: str) -> bool:
    """A flag such as include_count=true."""
    return (qp.get(name) or "").lower() in ("true", "1")


def with_metadata(item: JsonDict, qp: QueryParams) -> JsonDict:
    """``include_metadata=true`` adds ``_metadata``: on Contentstack, what custom-field
    extensions stored about the entry or asset (``{"extensions": {"<uid>": [...]}}``, CDA
    reference). A folder has no extensions, so the object is there and empty."""
    if bool_param(qp, "include_metadata"):
        item["_metadata"] = {"extensions": {}}
    return item


def with_branch(item: JsonDict, qp: QueryParams, branch: str) -> JsonDict:
    """``include_branch=true`` adds ``_branch``, the uid of the branch the item lives in (CDA
    reference: "set the include_branch query parameter to true to include the _branch top-level
    key"); asked through an alias, it is the alias's branch."""
    if bool_param(qp, "include_branch"):
        item["_branch"] = branch
    return item


def sort_param(qp: QueryParams) -> Sort:
    """The first asc=field / desc=field given, or None for the default order."""
    for key, value in qp.multi_items():
        if key in ("asc", "desc") and value:
            return value, key == "desc"
    return None


def projection(qp: QueryParams) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """only[X][] and except[X][] paths, keyed by X (BASE or a reference field uid)."""
    only: dict[str, list[str]] = {}
    exclude: dict[str, list[str]] = {}
    for key, value in qp.multi_items():
        match = PROJECTION_RE.match(key)
        if match and value:
            target = only if match.group(1) == "only" else exclude
            target.setdefault(match.group(2), []).append(value)
    return only, exclude


def query_param(qp: QueryParams, what: str) -> JsonDict:
    """The checked `query` JSON object (empty when absent)."""
    try:
        return parse_query(qp.get("query"))
    except QueryError as err:
        raise bad_parameter(err.param, str(err), what) from None


def with_tags(qp: QueryParams, query: JsonDict) -> JsonDict:
    """The query narrowed by ``tags``: entries (or assets) carrying any of the tags named.

    The Python SDK sends ``tags=a,b`` (``Query.tags``), array encoders ``tags[]=a&tags[]=b``;
    the legacy JS SDK documents the parameter as "an array of tags to search objects". Which
    of several tags must match is not documented: any of them, as ``{"tags": {"$in": …}}``.
    """
    tags = [
        tag.strip()
        for key, value in qp.multi_items()
        if key == "tags" or TAGS_RE.match(key)
        for tag in value.split(",")
        if tag.strip()
    ]
    if not tags:
        return query
    condition: JsonDict = {"tags": {"$in": tags}}
    return {"$and": [query, condition]} if query else condition


def typeahead_filter(qp: QueryParams) -> str | None:
    """``typeahead=text`` (the SDKs' deprecated ``search()``): entries holding the text, in any
    field, ignoring case (the legacy SDK: "the object that possess the text")."""
    value = (qp.get("typeahead") or "").strip()
    return value.casefold() or None


def holds_text(value: Any, needle: str) -> bool:
    """Whether any string inside a JSON value contains ``needle`` (already casefolded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if needle in item.casefold():
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def locale_param(stack: LocalStack, qp: QueryParams) -> str:
    """The requested locale, the master locale by default."""
    code = qp.get("locale") or stack.master_locale
    if stack.locale(code) is None:
        raise unknown_locale()
    return code


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def is_preview(request: Request) -> bool:
    """Whether this is a preview request (drafts): a `preview_token` header, no `access_token`."""
    headers = request.headers
    return "preview_token" in headers and "access_token" not in headers


def authorize(stack: LocalStack, request: Request) -> str | None:
    """Check the credentials stack.json asks for; return the environment named, if any.

    A preview request must carry stack.json's `preview_token` (any non-empty one when it has
    none) instead of the delivery token.
    """
    if stack.api_key is not None and not _same_secret(
        request.headers.get("api_key", ""), stack.api_key
    ):
        raise bad_api_key()
    if is_preview(request):
        given = request.headers.get("preview_token", "")
        if not given or (
            stack.preview_token is not None and not _same_secret(given, stack.preview_token)
        ):
            raise bad_preview_token()
    elif stack.delivery_token is not None and not _same_secret(
        request.headers.get("access_token", ""), stack.delivery_token
    ):
        raise bad_delivery_token()
    env = request.query_params.get("environment") or request.headers.get("environment")
    if not env:
        return None
    if env not in stack.environments:
        raise unknown_environment(env)
    return env


def require_environment(stack: LocalStack, request: Request) -> str:
    """Check credentials for a delivery request, which must name an environment."""
    env = authorize(stack, request)
    if env is None:
        raise missing_environment()
    return env


def delivery_options(stack: LocalStack, request: Request, env: str) -> DeliveryOptions:
    """How the request wants entries delivered (locale, includes, projections)."""
    qp = request.query_params
    depth = 0
    if bool_param(qp, "include_all"):
        depth = int_param(qp, "include_all_depth", 1, maximum=MAX_INCLUDE_DEPTH)
        if depth < 1:
            raise bad_parameter("include_all_depth", f"must be between 1 and {MAX_INCLUDE_DEPTH}.")
    include = tuple(v for k, v in qp.multi_items() if INCLUDE_RE.match(k) and v)
    embedded = any(
        v == "BASE" for k, v in qp.multi_items() if k.startswith("include_embedded_items[")
    )
    only, exclude = projection(qp)
    return DeliveryOptions(
        environment=env,
        locale=locale_param(stack, qp),
        fallback=bool_param(qp, "include_fallback"),
        include_all_depth=depth,
        include=include,
        embedded_items=embedded,
        only=only,
        exclude=exclude,
    )


def sync_filter(stack: LocalStack, qp: QueryParams) -> SyncFilter:
    """The filters of an initial sync: content_type_uid, locale, type list, start_from."""
    ct = qp.get("content_type_uid") or None
    if ct is not None and ct != ASSET_CONTENT_TYPE_UID and ct not in stack.content_types:
        raise unknown_content_type(ct)
    locale = qp.get("locale") or None
    if locale is not None:
        locale_param(stack, qp)
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
