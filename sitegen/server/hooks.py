"""The webhook receiver behind ``sitegen hook serve``: Contentstack webhooks in, builds and deploys out.

``POST /webhook`` authenticates each request (HMAC signature, Basic Auth, or both; the Basic
credentials and the signature header's form and age are checked before the body is read), refuses
replayed signatures (401; with Basic Auth alone nothing tells a replay from a retry, and both are
accepted: a build is idempotent), bodies over 1 MiB (413), anything but ``application/json`` (415),
bodies that take longer than 10 s to arrive (408) and floods (429 with ``Retry-After``: a token
bucket of 20 requests a second after a burst of 200, at most 32 requests read at once, at most
10,000 events waiting for a build; these are the defaults of the ``[hook]`` limits), none of
which touches a build in progress. It answers at once (202 queued, 200 ignored) and leaves the
work to one background worker: events that arrive within ``[hook] debounce`` seconds of each
other become one incremental build, one build runs at a time, and a successful build that
changed something is deployed (the ``deploy_command`` through the shell, or a POST to
``build_hook_url``). ``GET /status`` tells how the last build and deploy went,
to a request with the Basic credentials (or, with a signature alone, one signed over an empty
body).

Every request gets one JSON log line; so do builds, deploys and each line a deploy command
prints. Log lines never hold a secret: the signing secret, the Basic Auth credentials, the build
hook URL and the stack credentials are replaced by ``***`` wherever they would appear.

:class:`HookServer` takes the build function and the deploy runner (:mod:`.deploy`) as
arguments, so tests can swap either; :meth:`HookServer.run` serves it with uvicorn.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sitegen.errors import ConfigError, SitegenError, plural
from sitegen.server.deploy import (
    AUTH_ENV,
    SECRET_ENV,
    Deployer,
    DeployOutcome,
    Log,
    default_deployer,
)
from sitegen.server.listen import bind
from sitegen.server.webhook import (
    REQUEST_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    SignatureCheck,
    check_signature,
    ignore_reason,
    parse_payload,
    precheck_signature,
)

if TYPE_CHECKING:
    from sitegen.server.launch import RevalidationOutcome

    Revalidate = Callable[[list[str], list[str]], RevalidationOutcome]
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from sitegen.build import BuildResult
    from sitegen.config import SiteConfig


@dataclass(frozen=True)
class HookAuth:
    """How webhooks prove they come from Contentstack; at least one way is set.

    ``public_key`` checks Contentstack's default signature (``x-contentstack-request-signature``,
    see certificate.py), ``secret`` its HMAC signature (``x-contentstack-hmac-signature``): a
    webhook is signed one way or the other, so with both set either may prove a request.
    ``basic`` (Basic Auth credentials) is checked as well when set.
    """

    secret: str | None = field(default=None, repr=False)  # HMAC signing secret
    basic: str | None = field(default=None, repr=False)  # "user:password"
    public_key: RSAPublicKey | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], public_key: str | None = None) -> HookAuth:
        """From ``SITEGEN_HOOK_SECRET`` / ``SITEGEN_HOOK_AUTH`` and ``[hook] public_key`` (the PEM
        text, already read by the config loader)."""
        secret = env.get(SECRET_ENV) or None
        basic = env.get(AUTH_ENV) or None
        if not secret and not basic and not public_key:
            raise ConfigError(
                "set [hook] public_key (Contentstack's public key, for its default signature), "
                f"{SECRET_ENV} (the HMAC signing secret) or {AUTH_ENV} (user:password for Basic "
                "Auth): sitegen hook serve never accepts unauthenticated webhooks"
            )
        if basic is not None:
            user, sep, password = basic.partition(":")
            if not sep or not user or not password:
                raise ConfigError(f"{AUTH_ENV} must be user:password, both parts non-empty")
        key = None
        if public_key:
            from sitegen.server.certificate import load_public_key

            try:
                key = load_public_key(public_key)
            except ValueError as err:
                raise ConfigError(f"hook.public_key {err}") from None
        return cls(secret, basic, key)

    @property
    def methods(self) -> list[str]:
        ways = (("signature", self.public_key), ("hmac", self.secret), ("basic", self.basic))
        return [name for name, on in ways if on]

    @property
    def signed(self) -> bool:
        """Whether requests must carry a signature (of either kind)."""
        return self.public_key is not None or self.secret is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        values = [self.secret, self.basic]
        if self.basic:
            values.append(self.basic.partition(":")[2])
        return tuple(v for v in values if v)

    def basic_ok(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries our Basic credentials (constant time)."""
        if self.basic is None or not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self.basic.encode("utf-8"))


class HookServer:
    """The webhook receiver for one site. ``app`` is the ASGI application.

    ``build`` runs one build and returns its :class:`~sitegen.build.BuildResult` (default: an
    incremental ``build_site`` of the site, with ``sitegen.toml`` read again each time);
    ``deploy`` deploys a successful build (default: from ``[hook]``, or nothing when neither
    ``deploy_command`` nor ``build_hook_url`` is set). ``log`` receives each log record (default:
    one JSON line on stderr) after secrets were masked. ``clock`` is the wall clock that
    signature timestamps are checked against.
    """

    def __init__(
        self,
        config: SiteConfig,
        auth: HookAuth,
        *,
        build: Callable[[], BuildResult] | None = None,
        deploy: Deployer | None = None,
        log: Log | None = None,
        clock: Callable[[], float] = time.time,
        stream: TextIO | None = None,
        revalidate: Revalidate | None = None,
        env: Mapping[str, str] | None = None,
    ):
        if not auth.methods:
            raise ConfigError(
                f"set [hook] public_key, {SECRET_ENV} or {AUTH_ENV}: webhooks must be authenticated"
            )
        self.config = config
        self.auth = auth
        self.debounce = config.hook.debounce
        self.max_age = config.hook.max_age
        # a steady stream of events still gets a build at least this often
        self.max_delay = max(30.0, 10 * self.debounce)
        # unless it is a release being delivered item by item: one build for the release
        self.release_wait = max(self.max_delay, config.hook.release_wait)
        self.clock = clock
        limits = config.hook  # [hook] max_body, body_timeout, max_pending, ...
        self.max_body = limits.max_body
        self.body_timeout = limits.body_timeout
        self.max_pending = limits.max_pending
        self.max_inflight = limits.max_inflight
        self.rate, self.burst = limits.rate, limits.burst
        self._tokens, self._refilled = float(self.burst), time.monotonic()
        self._inflight = 0
        # after a deploy: Launch CDN revalidation of what the build changed ([launch])
        self._revalidate = revalidate
        if revalidate is None and config.launch is not None and config.launch.revalidates:
            from sitegen.server.launch import LaunchRevalidator

            self._revalidate = LaunchRevalidator(config, os.environ if env is None else env)
        # masked in every log record; very short values would garble the log instead
        secrets = {*auth.secrets, config.hook.build_hook_url, *config.stack.secrets}
        secrets.update(getattr(self._revalidate, "secrets", ()))
        self._secrets = tuple(sorted((s for s in secrets if s and len(s) >= 4), key=len)[::-1])
        self._sink = log
        self._stream = stream or sys.stderr
        self._log_lock = threading.Lock()
        self._build = build or (lambda: _default_build(config.root))
        if deploy is not None:
            self._deploy: Deployer | None = deploy
            self.deploy_kind = "custom"
        else:
            self._deploy, self.deploy_kind = default_deployer(config, self.log)
        # webhook state, touched only on the event loop
        self._pending: list[Any] = []
        self._first_at = 0.0
        self._last_at = 0.0
        self._wake: asyncio.Event | None = None
        self._seen: dict[str, float] = {}  # accepted signature digests -> when they expire
        # failed: requests that met a bug of ours (500)
        outcomes = ("received", "queued", "ignored", "refused", "limited", "failed")
        self._counts = dict.fromkeys(outcomes, 0)
        # build state, written by the worker thread
        self._lock = threading.Lock()
        self._builds = 0
        self._building = False
        self._last_build: dict[str, Any] | None = None
        # the last deploy failed: deploy after the next build even if it changed nothing
        self._deploy_owed = False
        self.app = Starlette(
            routes=[
                Route("/webhook", self._webhook, methods=["POST"]),
                Route("/status", self._status, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    # -- logging ---------------------------------------------------------------------------------

    def log(self, record: dict[str, Any]) -> None:
        """Emit one structured log record, secrets masked."""
        record = {"time": _now(), **record}
        record = self._mask(record)
        if self._sink is not None:
            self._sink(record)
            return
        line = json.dumps(record, ensure_ascii=False, default=str)
        with self._log_lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def _mask(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {k: self._mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._mask(v) for v in value]
        return value

    # -- HTTP ------------------------------------------------------------------------------------

    def _retry_after(self) -> int | None:
        """Take a token from the rate limiter; None when allowed, else seconds to wait."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return max(1, math.ceil((1 - self._tokens) / self.rate))

    async def _webhook(self, request: Request):
        """Admission (rate, concurrency) first, so a flood costs little; then the request itself."""
        self._counts["received"] += 1
        wait = self._retry_after()
        if wait is None and self._inflight >= self.max_inflight:
            wait = 1
        if wait is not None:
            return self._limited(request, wait, "too many requests")
        self._inflight += 1
        try:
            return await self._handle(request)
        except Exception as err:  # a bug of ours: one log line and a 500, never a traceback
            self._counts["failed"] += 1
            self.log(
                {
                    "event": "webhook",
                    "outcome": "failed",
                    "status": 500,
                    "reason": f"unexpected {type(err).__name__}: {err}",
                    "client": request.client.host if request.client else None,
                }
            )
            return JSONResponse({"error": _ERRORS[500]}, status_code=500)
        finally:
            self._inflight -= 1

    def _limited(self, request: Request, wait: int, reason: str) -> JSONResponse:
        """429 with Retry-After: a flood is refused without queueing anything."""
        self._counts["limited"] += 1
        client = request.client.host if request.client else None
        self.log(
            {
                "event": "webhook",
                "outcome": "limited",
                "status": 429,
                "reason": reason,
                "retry_after": wait,
                "client": client,
            }
        )
        return JSONResponse(
            {"error": _ERRORS[429]}, status_code=429, headers={"Retry-After": str(wait)}
        )

    async def _handle(self, request: Request):
        client = request.client.host if request.client else None

        def answer(status: int, outcome: str, reason: str, event=None, **extra: Any):
            self._counts[outcome] += 1
            record: dict[str, Any] = {"event": "webhook", "outcome": outcome, "status": status}
            if reason:
                record["reason"] = reason
            if event is not None:
                record.update(_event_fields(event))
            record.update(client=client, **extra)
            self.log(record)
            if outcome == "refused":
                body: dict[str, Any] = {"error": _ERRORS.get(status, "refused")}
            else:
                body = {"status": outcome, **({"reason": reason} if reason else {}), **extra}
            headers = {}
            if status == 401 and self.auth.basic:
                headers["WWW-Authenticate"] = 'Basic realm="sitegen hook"'
            return JSONResponse(body, status_code=status, headers=headers)

        if self.auth.basic and not self.auth.basic_ok(request.headers.get("authorization")):
            return answer(401, "refused", "missing or wrong Basic Auth credentials")
        if len(self._pending) >= self.max_pending:
            # before the signature is checked, so that it is not spent: a retry may reuse it
            return self._limited(request, max(1, math.ceil(self.debounce)), "the queue is full")
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            return answer(415, "refused", "content type is not application/json")
        length = request.headers.get("content-length", "0")
        if length.isdigit() and int(length) > self.max_body:
            return answer(413, "refused", f"body larger than {self.max_body} bytes")
        if self.auth.signed:
            # before the body: an unsigned or stale sender must not hold a slot while it drips
            pre = self._precheck(request)
            if not pre.ok:
                return answer(401, "refused", pre.reason)
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > self.max_body:
                        return answer(413, "refused", f"body larger than {self.max_body} bytes")
        except TimeoutError:
            return answer(408, "refused", f"body not received within {self.body_timeout:g} s")
        body = bytes(body)
        if self.auth.signed:
            check = self._check(request, body)
            if not check.ok:
                return answer(401, "refused", check.reason)
            now = self.clock()
            self._seen = {d: until for d, until in self._seen.items() if until >= now}
            if check.digest in self._seen:
                # a delivery already accepted, sent again: no second build. 200, not 401:
                # Contentstack disables a webhook after 10 failures, 401s included
                return answer(200, "ignored", "duplicate delivery (signature already accepted)")
            assert check.digest is not None and check.timestamp is not None
            self._seen[check.digest] = check.timestamp + self.max_age + 1
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # includes undecodable bytes
            return answer(400, "refused", "the body is not JSON")
        try:
            event = parse_payload(payload)
        except ValueError as err:
            return answer(400, "refused", str(err))
        mine = self.config.stack.api_key
        # as bytes: compare_digest refuses str with non-ASCII characters (TypeError)
        if mine and event.api_key and not hmac.compare_digest(_utf8(event.api_key), _utf8(mine)):
            return answer(200, "ignored", "the event is for another stack", event)
        reason = ignore_reason(event, self.config.stack.environment)
        if reason:
            return answer(200, "ignored", reason, event)
        self._enqueue(event)
        return answer(202, "queued", "", event, queue=len(self._pending))

    def _precheck(self, request: Request) -> SignatureCheck:
        """The signature header of either kind, before the body is read."""
        default = request.headers.get(REQUEST_SIGNATURE_HEADER)
        if self.auth.public_key is not None and (default or not self.auth.secret):
            from sitegen.server.certificate import precheck_request_signature

            return precheck_request_signature(default, self.auth.public_key)
        return precheck_signature(
            request.headers.get(SIGNATURE_HEADER), now=self.clock(), max_age=self.max_age
        )

    def _check(self, request: Request, body: bytes) -> SignatureCheck:
        """The signature of either kind over the body: Contentstack's default signature when the
        request carries one and a public key is configured, else the HMAC signature."""
        default = request.headers.get(REQUEST_SIGNATURE_HEADER)
        if self.auth.public_key is not None and (default or not self.auth.secret):
            from sitegen.server.certificate import check_request_signature

            return check_request_signature(
                default, body, self.auth.public_key, now=self.clock(), max_age=self.max_age
            )
        assert self.auth.secret is not None
        return check_signature(
            request.headers.get(SIGNATURE_HEADER),
            body,
            self.auth.secret,
            now=self.clock(),
            max_age=self.max_age,
        )

    async def _status(self, request: Request):
        if not self._status_allowed(request):
            self.log({"event": "status", "outcome": "refused", "status": 401})
            headers = {"WWW-Authenticate": 'Basic realm="sitegen hook"'} if self.auth.basic else {}
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers=headers)
        return JSONResponse(self.status())

    def _status_allowed(self, request: Request) -> bool:
        """Whether a request may read /status, which shows build errors: not the public.

        Basic Auth when that is configured; with a signature alone, a request signed like a
        webhook over an empty body. A signed GET is not remembered: reading changes nothing.
        """
        if self.auth.basic:
            return self.auth.basic_ok(request.headers.get("authorization"))
        if self.auth.secret is None:  # a public key alone: nobody but Contentstack can sign
            return False
        header = request.headers.get(SIGNATURE_HEADER)
        check = check_signature(
            header, b"", self.auth.secret, now=self.clock(), max_age=self.max_age
        )
        return check.ok

    def status(self) -> dict[str, Any]:
        """What ``GET /status`` answers."""
        with self._lock:
            last = json.loads(json.dumps(self._last_build)) if self._last_build else None
            builds, building = self._builds, self._building
        return self._mask(
            {
                "environment": self.config.stack.environment,
                "builds": builds,
                "building": building,
                "queue": len(self._pending),
                "debounce": self.debounce,
                "deploy": self.deploy_kind,
                "last_build": last,
                "events": dict(self._counts),
            }
        )

    # -- the worker ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _lifespan(self, app):
        self._wake = asyncio.Event()
        if self._pending:
            self._wake.set()
        task = asyncio.create_task(self._worker())
        try:
            yield
        finally:
            with self._lock:
                building = self._building
            if building:
                self.log({"event": "stop", "waiting_for": "the running build and deploy"})
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            if self._pending:
                self.log({"event": "stop", "unbuilt_events": len(self._pending)})

    def _enqueue(self, event: Any) -> None:
        loop_now = time.monotonic()
        if not self._pending:
            self._first_at = loop_now
        self._last_at = loop_now
        self._pending.append(event)
        if self._wake is not None:
            self._wake.set()

    async def _worker(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            while True:  # debounce: wait for a quiet spell (or max_delay after the first event)
                releasing = any(getattr(e, "release", None) for e in self._pending)
                cap = self.release_wait if releasing else self.max_delay
                due = min(self._last_at + self.debounce, self._first_at + cap)
                wait = due - time.monotonic()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            batch, self._pending = self._pending, []
            self._wake.clear()
            with self._lock:
                self._building = True
            try:
                await asyncio.to_thread(self._build_and_deploy, batch)
            except Exception as err:  # keep serving: the next event tries again
                self.log({"event": "build", "outcome": "failed", "message": repr(err)})
            finally:
                with self._lock:
                    self._building = False

    def _build_and_deploy(self, batch: list[Any]) -> None:
        """One build for a batch of events, then the deploy (in a worker thread)."""
        started = _now()
        first = batch[0].describe() if batch else None
        releases: dict[str, dict[str, Any]] = {}
        for item in batch:
            uid = getattr(item, "release", None)
            if uid:
                seen = releases.setdefault(uid, {"uid": uid, "title": None, "events": 0})
                seen["events"] += 1
                seen["title"] = seen["title"] or getattr(item, "release_title", None)
        started_record = {"event": "build", "outcome": "started", "events": len(batch)}
        started_record.update(first=first)
        if releases:
            started_record["releases"] = list(releases.values())
        self.log(started_record)
        t0 = time.monotonic()
        record: dict[str, Any] = {"started_at": started, "events": len(batch)}
        if releases:
            record["releases"] = list(releases.values())
        try:
            result = self._build()
        except SitegenError as err:
            result, message = None, str(err)
        except Exception as err:  # a bug must not kill the worker
            result, message = None, f"internal error: {type(err).__name__}: {err}"
        record["finished_at"] = _now()
        record["seconds"] = round(time.monotonic() - t0, 3)
        if result is None:
            record.update(result="failed", message=message)
            record["deploy"] = {"ran": False, "result": "not run", "message": "the build failed"}
            self.log({"event": "build", "outcome": "failed", "message": message})
            self._finish(record)
            return
        added, changed, removed = len(result.added), len(result.changed), len(result.removed)
        record.update(
            result="ok",
            message=_describe(result),
            kind=result.kind,
            rendered=result.rendered,
            added=added,
            changed=changed,
            removed=removed,
            triggers=list(result.triggers),
        )
        self.log(
            {
                "event": "build",
                "outcome": "ok",
                "message": record["message"],
                "kind": result.kind,
                "added": added,
                "changed": changed,
                "removed": removed,
                "warnings": list(getattr(result, "warnings", []) or []),
            }
        )
        record["deploy"] = self._run_deploy(result, added + changed + removed)
        if self._revalidate is not None and record["deploy"]["result"] in (
            "ok",
            "not configured",
            "skipped",
        ):
            record["revalidate"] = self._run_revalidate(result)
        self._finish(record)

    def _run_revalidate(self, result: BuildResult) -> dict[str, Any]:
        """Revalidate the CDN cache of what the build changed (and what an earlier one could
        not); failures are logged, shown in /status and retried with the next build."""
        assert self._revalidate is not None
        try:
            outcome = self._revalidate(result.changed, result.removed)
            record = outcome.record()
        except Exception as err:  # a bug must not kill the worker
            record = {"ok": False, "message": f"internal error: {type(err).__name__}: {err}"}
        outcome_name = "ok" if record["ok"] else "failed"
        self.log({"event": "revalidate", "outcome": outcome_name, **record})
        return record

    def _run_deploy(self, result: BuildResult, changes: int) -> dict[str, Any]:
        if self._deploy is None:
            return {"ran": False, "result": "not configured", "message": "no deploy is configured"}
        if changes == 0 and not self._deploy_owed:
            message = "the build changed nothing: not deploying"
            self.log({"event": "deploy", "outcome": "skipped", "reason": message})
            return {"ran": False, "result": "skipped", "message": message}
        if changes == 0:
            self.log({"event": "deploy", "outcome": "started", "reason": "the last deploy failed"})
        else:
            self.log({"event": "deploy", "outcome": "started"})
        try:
            outcome = self._deploy(result)
        except Exception as err:
            outcome = DeployOutcome(False, f"internal error: {type(err).__name__}: {err}")
        self._deploy_owed = not outcome.ok
        self.log(
            {
                "event": "deploy",
                "outcome": "ok" if outcome.ok else "failed",
                "message": outcome.message,
            }
        )
        return {"ran": True, "result": "ok" if outcome.ok else "failed", "message": outcome.message}

    def _finish(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._builds += 1
            self._last_build = self._mask(record)

    # -- serving ---------------------------------------------------------------------------------

    def run(self, host: str = "127.0.0.1", port: int = 8787) -> None:
        """Serve on host:port (0: any free port) until interrupted."""
        import uvicorn

        sock = bind(host, port)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.log(
            {
                "event": "start",
                "url": f"http://{shown}:{bound}/webhook",
                "site": str(self.config.root),
                "environment": self.config.stack.environment,
                "auth": self.auth.methods,
                "deploy": self.deploy_kind,
                "debounce": self.debounce,
                "max_age": self.max_age,
            }
        )
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
            self.log({"event": "stop"})


# -- helpers --------------------------------------------------------------------------------------

_ERRORS = {
    400: "bad request",
    401: "unauthorized",
    408: "request timeout",
    413: "payload too large",
    415: "unsupported media type",
    429: "too many requests",
    500: "internal error; the hook server's log has the details",
}


def _default_build(root: Path) -> BuildResult:
    from sitegen.build import build_site
    from sitegen.config import load_config

    return build_site(load_config(root))


def _describe(result: BuildResult) -> str:
    counts = (
        f"{len(result.added)} added, {len(result.changed)} changed, {len(result.removed)} removed"
    )
    if result.kind == "incremental":
        why = ", ".join(result.triggers) or "nothing changed"
        return (
            f"incremental build: {why} → {plural(result.pages_rendered, 'page')} re-rendered "
            f"(files: {counts}) in {result.seconds:.2f} s"
        )
    return (
        f"{result.kind} build: {plural(result.pages_rendered, 'page')} rendered "
        f"(files: {counts}) in {result.seconds:.2f} s"
    )


def _event_fields(event: Any) -> dict[str, Any]:
    fields = {
        "module": event.module,
        "action": event.event,
        "environment": ", ".join(event.environments) or None,
        "content_type": event.content_type,
        "uid": event.uid,
        "locale": event.locale,
        "what": event.describe(),
    }
    return {k: v for k, v in fields.items() if v}


def _utf8(text: str) -> bytes:
    """Any str as bytes, lone surrogates from a JSON ``\\ud800`` escape included."""
    return text.encode("utf-8", "surrogatepass")


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
