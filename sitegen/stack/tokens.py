"""Opaque sync and pagination tokens.

A token is a small JSON payload (history sequence numbers, the sync's filters and environment)
signed with a secret stored in the history database. Tokens therefore survive restarts, cannot be
forged or edited, and a token from another stack's folder (another history, another secret) is
rejected, which the Sync API reports as error 141 so the client starts over with init=true.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

JsonDict = dict[str, Any]
SIGNATURE_BYTES = 16


class TokenError(ValueError):
    """A token that this stack did not issue (or not for this purpose)."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest[:SIGNATURE_BYTES])


def encode_token(secret: bytes, kind: str, payload: JsonDict) -> str:
    """Sign a payload as a token of the given kind ("sync" or "page")."""
    body = _b64encode(json.dumps({"k": kind, **payload}, separators=(",", ":")).encode())
    return f"{body}.{_sign(secret, body)}"


def decode_token(secret: bytes, kind: str, token: str) -> JsonDict:
    """Check a token's signature and kind and return its payload; TokenError if it is not ours."""
    body, dot, signature = token.partition(".")
    if not dot or not body or not hmac.compare_digest(_sign(secret, body), signature):
        raise TokenError("bad signature")
    try:
        payload = json.loads(_b64decode(body))
    except (binascii.Error, ValueError):
        raise TokenError("bad payload") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise TokenError("wrong kind")
    return payload
