"""Contentstack webhooks: signatures, payloads, and which events call for a build.

Plain standard library, cheap to import: ``sitegen hook serve`` (``sitegen.server.hooks``) uses it
to authenticate and sort incoming webhooks, and ``sitegen build`` uses
:func:`describe_netlify_trigger` to say which entry set off a Netlify build hook.

A webhook body is ``{"module", "api_key", "event", "triggered_at", "data"}``: ``module`` is
``entry``, ``asset``, ``content_type``, ``release``…; ``event`` is ``publish``, ``unpublish``,
``delete``, ``create``, ``update``, ``deploy`` (releases) or a ``.start`` / ``.success`` /
``.fail`` variant; ``data`` holds ``entry`` or ``asset`` (or ``release``), ``content_type``,
``environment`` (``{"name", "uid", …}``) and ``locale``. Nothing in this module ever returns or
formats the ``api_key`` of a payload.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "x-contentstack-hmac-signature"  # HMAC signing (an organization's secret)
# Contentstack's default signature, verified with its public key (certificate.py)
REQUEST_SIGNATURE_HEADER = "x-contentstack-request-signature"

# modules whose events can change what the Content Delivery API serves
_BUILT_MODULES = frozenset({"entry", "asset", "content_type", "global_field", "release"})
# for entries and assets only publishing changes the delivered content (create/update are drafts)
_PUBLISHING = frozenset({"publish", "unpublish", "delete"})
_MODULE_ALIASES = {"content types": "content_type", "content_types": "content_type"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class WebhookEvent:
    """What a webhook says happened, reduced to what a build log needs."""

    module: str  # entry, asset, content_type, release… ("" when missing)
    event: str  # publish, publish.success, unpublish, delete, deploy… ("" when missing)
    environments: tuple[str, ...] = ()  # empty: the payload names no environment
    content_type: str | None = None
    uid: str | None = None
    title: str | None = None
    locale: str | None = None
    triggered_at: str | None = None
    api_key: str | None = field(default=None, repr=False)
    # the release that published or unpublished the item (the payload's ``source`` of type
    # ``release``, Contentstack API change log of 2019-03-08), or the release event's own
    release: str | None = None
    release_title: str | None = None

    @property
    def action(self) -> str:
        """The event without its ``.success`` suffix: ``publish.success`` → ``publish``."""
        return self.event.removesuffix(".success")

    def describe(self) -> str:
        """One line for a log, e.g. ``entry publish: post/blt12 "Hello" (en-us) in production``.

        Every value comes from the (possibly hostile) payload: control characters are removed
        and lengths capped, so a payload cannot forge log lines.
        """
        what = f"{_clean(self.module or 'unknown module', 40)} {_clean(self.event or '?', 40)}"
        subject = "/".join(_clean(s, 80) for s in (self.content_type, self.uid) if s)
        parts = [f"{what}:" if subject or self.title else what]
        if subject:
            parts.append(subject)
        if self.title:
            parts.append(json.dumps(_clean(self.title, 120), ensure_ascii=False))
        if self.locale:
            parts.append(f"({_clean(self.locale, 20)})")
        if self.environments:
            parts.append("in " + ", ".join(_clean(e, 60) for e in self.environments[:5]))
        if self.triggered_at:
            parts.append(f"at {_clean(self.triggered_at, 40)}")
        if self.release and self.module != "release":
            parts.append(f"through release {_clean(self.release, 80)}")
        return " ".join(parts)


def parse_payload(payload: Any) -> WebhookEvent:
    """Read a decoded webhook body; ``ValueError`` when it is not a Contentstack webhook."""
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    module, event = payload.get("module"), payload.get("event")
    if not isinstance(module, str) or not isinstance(event, str):
        raise ValueError("the body has no module and event: not a Contentstack webhook")
    module = _MODULE_ALIASES.get(module.strip().lower(), module.strip().lower())
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    # the thing the event is about: data.entry for entry events, data.asset for assets…
    subject = data.get(module) if isinstance(data.get(module), dict) else {}
    content_type = None
    if module == "entry":
        ct = data.get("content_type")
        content_type = _str(ct.get("uid")) if isinstance(ct, dict) else _str(ct)
        content_type = content_type or _str(subject.get("_content_type_uid"))
    release, release_title = _release(payload, module, subject)
    return WebhookEvent(
        module=module,
        event=event.strip().lower(),
        environments=_environments(payload, data),
        content_type=content_type,
        uid=_str(subject.get("uid")),
        title=_str(subject.get("title") or subject.get("name") or subject.get("filename")),
        locale=_str(data.get("locale")) or _str(subject.get("locale")),
        triggered_at=_str(payload.get("triggered_at")),
        api_key=_str(payload.get("api_key")),
        release=release,
        release_title=release_title,
    )


def _release(
    payload: dict[str, Any], module: str, subject: dict[str, Any]
) -> tuple[str | None, str | None]:
    """The release an event belongs to: an item deployed through a release carries
    ``"source": {"type": "release", "uid", "title"}``; a release event is about one."""
    source = payload.get("source")
    if isinstance(source, dict) and source.get("type") == "release" and _str(source.get("uid")):
        title = _str(source.get("title"))
        return _clean(source["uid"], 80), _clean(title, 120) if title else None
    if module == "release" and _str(subject.get("uid")):
        title = _str(subject.get("name") or subject.get("title"))
        return _clean(subject["uid"], 80), _clean(title, 120) if title else None
    return None, None


def ignore_reason(event: WebhookEvent, environment: str) -> str | None:
    """Why a build for ``environment`` need not run for this event; None when it should."""
    if event.event.endswith((".start", ".fail", ".failed", ".failure")):
        return f"{event.event} is not a finished change"
    if event.module not in _BUILT_MODULES:
        return f"{event.module or 'an unknown'} module events do not change delivered content"
    if event.module in ("entry", "asset") and event.action not in _PUBLISHING:
        return f"{event.module} {event.action} is a draft change; the site shows published content"
    if event.module == "release" and event.action not in ("deploy", "publish", "unpublish"):
        return f"release {event.action} does not publish anything"
    if event.environments and environment not in event.environments:
        named = ", ".join(_clean(e, 60) for e in event.environments[:5])
        return f"the event is for environment {named}; this site builds {environment}"
    return None


# -- signatures ---------------------------------------------------------------------------------


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``x-contentstack-hmac-signature`` value Contentstack sends for ``body`` at ``timestamp``."""
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str  # why not, for the log (never the secret or the digests)
    digest: str | None = None  # the v1 that matched: what a replay would carry again
    timestamp: int | None = None


def precheck_signature(header: str | None, *, now: float, max_age: float) -> SignatureCheck:
    """What can be checked before the body arrives: present, well-formed, ``t`` within max_age.

    The server refuses on this before reading a body, so unsigned or stale senders do not hold
    a request slot while they trickle one in.
    """
    return _read_header(header, now, max_age)[0]


def check_signature(
    header: str | None, body: bytes, secret: str, *, now: float, max_age: float
) -> SignatureCheck:
    """Verify ``t=<unix>,v1=<hex>[,v1=<hex>…]``: HMAC-SHA256 of ``"{t}.{body}"``, t within max_age.

    Any ``v1`` may match (Contentstack sends several while a secret is being rotated). A ``t``
    older, or further in the future, than ``max_age`` seconds is refused.
    """
    pre, candidates = _read_header(header, now, max_age)
    if not pre.ok or pre.timestamp is None:
        return pre
    expected = _digest(body, secret, pre.timestamp)
    for candidate in candidates[:8]:
        if hmac.compare_digest(candidate.encode("ascii", "replace"), expected.encode("ascii")):
            return SignatureCheck(True, "", expected, pre.timestamp)
    return SignatureCheck(False, "signature does not match", timestamp=pre.timestamp)


def _read_header(
    header: str | None, now: float, max_age: float
) -> tuple[SignatureCheck, list[str]]:
    """The header's verdict before the digest is checked, and its ``v1`` candidates."""
    if not header:
        return SignatureCheck(False, "no signature"), []
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        value = value.strip()
        # isdigit alone lets "²" or "١" through, which int() refuses or reads as digits
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        return SignatureCheck(False, "malformed signature header"), []
    if abs(now - timestamp) > max_age:
        return SignatureCheck(False, "stale signature timestamp", timestamp=timestamp), []
    return SignatureCheck(True, "", timestamp=timestamp), candidates


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()


# -- Netlify build hooks ------------------------------------------------------------------------


def describe_netlify_trigger(
    env: Mapping[str, str] | None = None, *, environment: str | None = None
) -> str | None:
    """The build-log line saying what started a Netlify build through a build hook, or None.

    Netlify passes the body POSTed to a build hook in ``INCOMING_HOOK_BODY`` (and the hook's
    name in ``INCOMING_HOOK_TITLE``). When that body is a Contentstack webhook, the line names
    the module, event, content type, entry uid, title, locale and environment, e.g.
    ``Triggered by a Contentstack webhook (build hook "contentstack"): entry publish:
    post/blt12 "Hello" (en-us) in production at 2024-05-01T10:00:00.000Z``. With
    ``environment`` (the one the site builds) it adds a note when the event was for another
    one. None when the build was not started by a build hook. The hook's URL
    (``INCOMING_HOOK_URL``) is a secret and is never part of the line; nor is the api_key.
    """
    env = os.environ if env is None else env
    body = env.get("INCOMING_HOOK_BODY") or ""
    title = env.get("INCOMING_HOOK_TITLE") or ""
    if not body.strip() and not title:
        return None
    hook = f' (build hook "{_clean(title, 80)}")' if title else ""
    if not body.strip():
        return f"Triggered by a build hook{hook}, without a body"
    try:
        event = parse_payload(json.loads(body))
    except ValueError:  # json.JSONDecodeError is a ValueError
        return f"Triggered by a build hook{hook}; its body is not a Contentstack webhook"
    line = f"Triggered by a Contentstack webhook{hook}: {event.describe()}"
    if environment is not None:
        reason = ignore_reason(event, environment)
        if reason:
            line += f" (note: {reason})"
    return line


# -- helpers ------------------------------------------------------------------------------------


def _environments(payload: dict[str, Any], data: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in (data.get("environment"), payload.get("environment")):
        name = _env_name(value)
        if name and name not in found:
            found.append(name)
    many = data.get("environments")
    if isinstance(many, list):
        for value in many[:50]:
            name = _env_name(value)
            if name and name not in found:
                found.append(name)
    return tuple(found)


def _env_name(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("name"))
    return _str(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _clean(text: str, limit: int) -> str:
    """A payload string made safe for a one-line log: no control characters, capped length."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
