"""Contentstack's default webhook signature ("Default (Contentstack Certificate)").

Unless a webhook is set to HMAC signing, Contentstack signs every delivery with a platform key
and sends ``x-contentstack-request-signature: v1=<base64>``; receivers verify it with
Contentstack's public key, which the region's app host publishes as the ``signing-key`` of
``/.well-known/public-keys.json`` (Contentstack docs, "Secure Your Webhooks" and "Securing your
App"). The algorithm is the one hanoak/contentstack-webhook-verify
(``src/utils/signature-verify.ts``) uses: RSA-PSS with SHA-256 over the JSON body serialized
as JavaScript's ``JSON.stringify`` does, the key a PKCS#1 PEM. The header carries no
timestamp: freshness comes from the body's ``triggered_at``.

The key is configured (``[hook] public_key``), never fetched while verifying: a receiver that
fetched it per request could be made to trust whatever the network answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sitegen.server.webhook import SignatureCheck

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM text (PKCS#1 ``RSA PUBLIC KEY`` or SPKI ``PUBLIC KEY``), or the
    ``public-keys.json`` document itself; ``ValueError`` saying what is wrong otherwise."""
    text = text.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["signing-key"]).strip()
        except (ValueError, KeyError, TypeError):
            raise ValueError('is JSON without a "signing-key" (is it public-keys.json?)') from None
    if "-----BEGIN" not in text:
        raise ValueError("is not a PEM public key (-----BEGIN RSA PUBLIC KEY----- …)")
    try:
        key = serialization.load_pem_public_key(text.encode("ascii", "replace"))
    except (ValueError, UnsupportedAlgorithm) as err:
        raise ValueError(f"cannot be read as a public key ({err})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("is not an RSA public key")
    return key


def precheck_request_signature(header: str | None, key: rsa.RSAPublicKey) -> SignatureCheck:
    """What can be checked before the body arrives: a ``v1`` of the key's signature length."""
    candidates = _candidates(header, key)
    if candidates is None:
        return SignatureCheck(False, "no request signature")
    if not candidates:
        return SignatureCheck(False, "malformed request signature header")
    return SignatureCheck(True, "")


def check_request_signature(
    header: str | None, body: bytes, key: rsa.RSAPublicKey, *, now: float, max_age: float
) -> SignatureCheck:
    """Verify ``v1=<base64>[,v1=…]`` over the body, then the body's ``triggered_at`` age.

    The signed text is the body as sent; if that does not verify, the body re-serialized as
    ``JSON.stringify`` would (how the public verifier reads it after parsing). The ``digest``
    of an accepted check identifies the delivery for replay detection; its ``timestamp`` is
    ``triggered_at`` in Unix seconds.
    """
    candidates = _candidates(header, key)
    if not candidates:
        return SignatureCheck(
            False,
            "no request signature" if candidates is None else "malformed request signature header",
        )
    messages = [body]
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if payload is not None:
        compact = js_stringify(payload).encode("utf-8", "surrogatepass")
        if compact != body:
            messages.append(compact)
    matched = None
    for signature in candidates[:4]:
        for message in messages:
            try:
                key.verify(signature, message, _PSS, hashes.SHA256())
            except InvalidSignature:
                continue
            matched = signature
            break
        if matched:
            break
    if matched is None:
        return SignatureCheck(False, "request signature does not match")
    triggered = _triggered_at(payload)
    if triggered is None:
        return SignatureCheck(False, "signed body has no valid triggered_at")
    if abs(now - triggered) > max_age:
        return SignatureCheck(False, "stale triggered_at", timestamp=int(triggered))
    digest = hashlib.sha256(matched).hexdigest()
    return SignatureCheck(True, "", digest, int(triggered))


def _candidates(header: str | None, key: rsa.RSAPublicKey) -> list[bytes] | None:
    """The header's ``v1`` signatures of the right length; None when there is no header."""
    if not header:
        return None
    size = math.ceil(key.key_size / 8)
    found = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name.strip() != "v1":
            continue
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            found.append(raw)
    return found


def _triggered_at(payload: Any) -> float | None:
    value = payload.get("triggered_at") if isinstance(payload, dict) else None
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


# -- JSON.stringify ------------------------------------------------------------------------------

_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]{0,9})$")


def js_stringify(value: Any) -> str:
    """``JSON.stringify(value)`` for a value ``JSON.parse`` made: compact, object keys in
    JavaScript's own order (integer-like keys first, ascending, then the rest as inserted),
    numbers as JavaScript prints them, strings escaped as ECMAScript says."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, int):
        return _js_number(float(value)) if abs(value) >= 2**53 else str(value)
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, list):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = list(value)
        indexes = sorted((k for k in keys if _is_index(k)), key=int)
        rest = [k for k in keys if not _is_index(k)]
        return (
            "{"
            + ",".join(_js_string(k) + ":" + js_stringify(value[k]) for k in indexes + rest)
            + "}"
        )
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _is_index(key: str) -> bool:
    return bool(_ARRAY_INDEX.match(key)) and int(key) < 2**32 - 1


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _js_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " " or "\ud800" <= char <= "\udfff":  # controls; lone surrogates (ES2019)
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _js_number(number: float) -> str:
    """Number::toString: shortest round-trip digits, exponent form outside [1e-7, 1e21)."""
    if math.isnan(number) or math.isinf(number):
        return "null"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + exponent  # the value is 0.<digits> × 10^n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
