"""Errors answered the way the Content Delivery API answers them.

Contentstack sends an HTTP status plus ``{"error_message", "error_code", "errors"}``; clients
(ours included) key on the status and error_code, so the codes here follow Contentstack where it
is known (412 api key, 401 delivery token, 422/118 content type, 422/141 entry, query and sync
token, 422/145 asset, 422/901 branch) and never echo a credential.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette import responses

JsonDict = dict[str, Any]


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON response encoded by orjson: a page of 100 entries with everything
    included is about a megabyte, which the standard library encodes six times slower. What
    orjson refuses (integers past 64 bits, lone surrogates) goes through Starlette's encoder."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except (orjson.JSONEncodeError, TypeError):
            return super().render(content)


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


def unknown_branch(name: str) -> CDAError:
    """A ``branch`` header naming no branch or alias of the stack: the CDA answers a branch the
    token cannot read so (contentstack/types-generator's tests, with branch 'mai')."""
    return CDAError(
        422,
        901,
        "Access denied. You have insufficient permissions to perform operation on this "
        f"branch '{name}'.",
    )


def unknown_global_field(uid: str) -> CDAError:
    """The answer for a global field that does not exist (worded as for content types)."""
    return CDAError(
        422,
        118,
        f"The Global Field '{uid}' was not found. Please try again.",
        {"uid": ["is not valid."]},
    )


def unknown_taxonomy_item(kind: str, uid: str) -> CDAError:
    """A taxonomy or term the stack does not have (or has no name for in the locale asked)."""
    return CDAError(
        404, 141, f"The {kind} '{uid}' was not found. Please try again.", {"uid": ["is not valid."]}
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


def bad_api_key() -> CDAError:
    """A missing or wrong `api_key` header."""
    return CDAError(412, 109, "Api key is not valid.", {"api_key": ["is not valid."]})


def bad_delivery_token() -> CDAError:
    """A missing or wrong `access_token` header (the delivery token)."""
    return CDAError(
        401, 104, "The delivery token is not valid.", {"access_token": ["is not valid."]}
    )


def bad_preview_token() -> CDAError:
    """A missing or wrong `preview_token` header on a preview (draft) request."""
    return CDAError(
        401, 104, "The preview token is not valid.", {"preview_token": ["is not valid."]}
    )


def sync_needs_delivery_token() -> CDAError:
    """A Sync API request made with a preview token: previews have no Sync API, as on
    Contentstack, whose preview host serves no sync."""
    return CDAError(
        403,
        403,
        "The Sync API delivers published content only and is not available to preview "
        "requests; call it with a delivery token (access_token), not a preview_token.",
        {"preview_token": ["is not accepted by the Sync API."]},
    )


def missing_environment() -> CDAError:
    """A delivery request that names no environment."""
    return CDAError(422, 141, "The environment is required.", {"environment": ["is required."]})


def unknown_environment(name: str) -> CDAError:
    """An environment that stack.json does not list."""
    return CDAError(
        422,
        141,
        f"Environment '{name}' was not found. Please try again.",
        {"environment": ["is not valid."]},
    )


def unknown_locale() -> CDAError:
    """A locale that stack.json does not list."""
    return CDAError(
        422, 141, "Language was not found. Please try again.", {"locale": ["is not valid."]}
    )


def folder_error(message: str) -> CDAError:
    """The folder is malformed. 400, not 5xx: clients retry 5xx, and the message (naming the
    file) must reach the person who can fix it."""
    return CDAError(400, 400, message, {"stack_folder": ["is not valid."]})
