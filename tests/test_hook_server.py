"""``sitegen hook serve`` end to end on loopback: signed webhooks in, incremental builds and deploys out.

The server runs under uvicorn in a thread (and once as the real CLI in a subprocess) on a fixture
site with a local stack, after a first full build. The deploy command appends a line to
``deploys.log`` in the site folder, so each test can count deploys.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.server.hooks import HookAuth, HookServer
from sitegen.server.webhook import (
    SIGNATURE_HEADER,
    check_signature,
    describe_netlify_trigger,
    ignore_reason,
    parse_payload,
    sign,
)
from tests.sites import API_KEY, make_site, write_json

SECRET = "whsec_5c1f9a0d7e2b44c8a6f3"
BASIC = "contentstack:pa55-w0rd-9f2e"
DEPLOY = 'echo deploying; echo "secret=${SITEGEN_HOOK_SECRET:-none}"; echo "$SITEGEN_LAST_BUILD" >> deploys.log'
ROOT = Path(__file__).resolve().parent.parent


# -- helpers --------------------------------------------------------------------------------------


def hook_site(root: Path, deploy: str = DEPLOY) -> Path:
    """A fixture site with [hook] settings, built once (fully) so that later builds are incremental."""
    site = make_site(root)
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[hook]\ndeploy_command = {json.dumps(deploy)}\ndebounce = 0.3\n")
    assert build_site(load_config(site, env={})).kind == "full"
    return site


def event(
    uid: str = "post0",
    *,
    n: int = 0,
    env: str = "production",
    module: str = "entry",
    action: str = "publish",
    title: str = "Post 0",
) -> dict[str, Any]:
    """A Contentstack webhook body, shaped like the real ones."""
    return {
        "module": module,
        "api_key": API_KEY,
        "event": action,
        "triggered_at": f"2024-05-01T10:00:{n % 60:02d}.{n // 60:03d}Z",
        "data": {
            "entry": {"uid": uid, "title": title, "locale": "en-us", "_version": 2},
            "content_type": {"uid": "post", "title": "Post"},
            "environment": {"name": env, "uid": "blt_env_1"},
            "locale": "en-us",
            "action": action,
            "status": "success",
        },
    }


def post(
    client: httpx.Client,
    payload: Any = None,
    *,
    raw: bytes | None = None,
    secret: str | None = SECRET,
    t: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = raw if raw is not None else json.dumps(payload).encode()
    h = {"content-type": "application/json", **(headers or {})}
    if secret is not None:
        h[SIGNATURE_HEADER] = sign(body, secret, int(time.time()) if t is None else t)
    return client.post("/webhook", content=body, headers=h)


def basic(credentials: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def edit_post(site: Path, title: str, uid: str = "post0") -> None:
    path = site / "stack/entries/post" / f"{uid}.en-us.json"
    data = json.loads(path.read_text())
    data["title"] = title
    write_json(path, data)


def deploys(site: Path) -> list[str]:
    log = site / "deploys.log"
    return log.read_text().splitlines() if log.exists() else []


class Hook:
    """A running hook server: an HTTP client on it, its log records and its status."""

    def __init__(self, client: httpx.Client, server: HookServer, records: list[dict[str, Any]]):
        self.client = client
        self.server = server
        self.records = records

    def status(self, auth: dict[str, str] | None = None) -> dict[str, Any]:
        headers = dict(auth or {})
        if self.server.auth.secret and not self.server.auth.basic:  # signed, over an empty body
            headers[SIGNATURE_HEADER] = sign(b"", self.server.auth.secret, int(time.time()))
        response = self.client.get("/status", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_builds(self, n: int, auth: dict[str, str] | None = None) -> dict[str, Any]:
        def done():
            s = self.status(auth)
            return s if s["builds"] >= n and not s["building"] and s["queue"] == 0 else None

        return wait_for(done, f"{n} build(s)")

    def webhook_records(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == "webhook"]


LIMITS = ("max_body", "body_timeout", "max_pending", "max_inflight", "rate", "burst")


@contextmanager
def serving(
    site: Path,
    *,
    secret: str | None = SECRET,
    auth: str | None = None,
    public_key: Any = None,
    build: Callable[[], Any] | None = None,
    env: dict[str, str] | None = None,
    **options: Any,
) -> Iterator[Hook]:
    """The hook server for ``site`` under uvicorn in a thread, on a free loopback port."""
    records: list[dict[str, Any]] = []
    config = load_config(site, env=env or {})
    limits = {key: options.pop(key) for key in LIMITS if key in options}
    config = dataclasses.replace(config, hook=dataclasses.replace(config.hook, **limits))
    server = HookServer(
        config,
        HookAuth(secret, auth, public_key),
        build=build or (lambda: build_site(load_config(site, env={}))),
        log=records.append,
        env=env or {},
        **options,
    )
    uv = uvicorn.Server(uvicorn.Config(server.app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_for(lambda: uv.started, "uvicorn to start", timeout=10)
    port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield Hook(client, server, records)
    finally:
        uv.should_exit = True
        thread.join(timeout=15)
    assert_no_secrets(json.dumps(records, ensure_ascii=False))


def assert_no_secrets(text: str) -> None:
    for secret in (SECRET, BASIC, BASIC.split(":")[1]):
        assert secret not in text


# -- the server -----------------------------------------------------------------------------------


def test_signed_publish_rebuilds_the_page_and_deploys(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Freshly published")
    with serving(site) as hook:
        response = post(hook.client, event())
        assert response.status_code == 202 and response.json()["status"] == "queued"
        page = site / "public/posts/post-0/index.html"
        wait_for(lambda: "<h1>Freshly published</h1>" in page.read_text(), "the page to change")
        status = hook.wait_builds(1)
        last = status["last_build"]
        assert last["result"] == "ok" and last["kind"] == "incremental"
        assert last["changed"] >= 1 and last["added"] == 0 and last["removed"] == 0
        assert last["deploy"] == {
            "ran": True,
            "result": "ok",
            "message": last["deploy"]["message"],
        }
        assert status["queue"] == 0 and status["events"]["queued"] == 1
        # the deploy command ran once, in the site folder, with SITEGEN_LAST_BUILD set
        assert deploys(site) == [str(site / ".sitegen/last-build.json")]
        report = json.loads((site / ".sitegen/last-build.json").read_text())
        assert "posts/post-0/index.html" in report["changed"]
        # one log line for the webhook, naming the entry; the deploy output is logged
        (received,) = hook.webhook_records()
        assert received["outcome"] == "queued" and received["status"] == 202
        assert received["uid"] == "post0" and received["content_type"] == "post"
        assert received["environment"] == "production"
        output = [r["line"] for r in hook.records if r["event"] == "deploy_output"]
        assert output == ["deploying", "secret=none"]  # the deploy never sees the webhook secret
        assert any(r["event"] == "deploy" and r["outcome"] == "ok" for r in hook.records)


def test_a_burst_of_events_is_one_build_and_one_deploy(tmp_path: Path):
    site = hook_site(tmp_path)
    for i in range(3):
        edit_post(site, f"Release item {i}", uid=f"post{i}")
    with serving(site) as hook:
        for i in range(20):  # a release: many items at once, some of them delivered twice
            response = post(hook.client, event(f"post{i % 3}", n=i))
            assert response.status_code == 202, response.text
        status = hook.wait_builds(1)
        time.sleep(0.8)  # longer than the debounce: nothing else is coming
        status = hook.status()
        assert status["builds"] == 1 and status["events"]["queued"] == 20
        assert status["last_build"]["events"] == 20 and status["last_build"]["changed"] >= 3
        assert len(deploys(site)) == 1
        for i in range(3):
            html = (site / f"public/posts/post-{i}/index.html").read_text()
            assert f"<h1>Release item {i}</h1>" in html


def test_unauthenticated_stale_and_replayed_requests_change_nothing(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Should not be built by forged requests")
    good = json.dumps(event()).encode()
    now = int(time.time())
    with serving(site) as hook:
        c = hook.client
        refused = {
            "unsigned": post(c, event(), secret=None),
            "wrong secret": post(c, event(), secret="not-the-secret"),
            "stale": post(c, event(), t=int(time.time()) - 310),
            "from the future": post(c, event(), t=int(time.time()) + 310),
            "garbage header": post(c, event(), secret=None, headers={SIGNATURE_HEADER: "v1=zz"}),
            # signed over a different body than the one sent
            "tampered": c.post(
                "/webhook",
                content=good.replace(b"post0", b"post1"),
                headers={
                    SIGNATURE_HEADER: sign(good, SECRET, now),
                    "content-type": "application/json",
                },
            ),
        }
        for why, response in refused.items():
            assert response.status_code == 401, why
            assert response.json() == {"error": "unauthorized"}, why
        assert post(c, raw=b"{not json").status_code == 400
        assert post(c, raw=b'["a list"]').status_code == 400
        assert post(c, raw=b'{"no": "module"}').status_code == 400
        assert post(c, raw=b" " * (1024 * 1024 + 1)).status_code == 413
        time.sleep(0.8)  # past the debounce: had anything been queued, it would be building
        status = hook.status()
        assert status["builds"] == 0 and status["queue"] == 0 and status["last_build"] is None
        assert status["events"]["refused"] == 10 and status["events"]["queued"] == 0
        assert deploys(site) == []
        assert "Should not be built" not in (site / "public/posts/post-0/index.html").read_text()
        reasons = [r.get("reason", "") for r in hook.webhook_records()]
        assert reasons[:6] == [
            "no signature",
            "signature does not match",
            "stale signature timestamp",
            "stale signature timestamp",
            "malformed signature header",
            "signature does not match",
        ]

        # a genuine delivery builds once; the very same request again builds nothing. It is
        # answered 200, not 401: Contentstack disables a webhook after 10 failed deliveries
        headers = {SIGNATURE_HEADER: sign(good, SECRET, now), "content-type": "application/json"}
        assert c.post("/webhook", content=good, headers=headers).status_code == 202
        hook.wait_builds(1)
        replay = c.post("/webhook", content=good, headers=headers)
        assert replay.status_code == 200 and replay.json()["status"] == "ignored"
        assert hook.webhook_records()[-1]["reason"].startswith("duplicate delivery")
        time.sleep(0.8)
        assert hook.status()["builds"] == 1 and len(deploys(site)) == 1


def test_events_the_site_does_not_build_are_acknowledged_and_ignored(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Published on staging only")
    with serving(site) as hook:
        ignored = [
            event(env="staging"),
            event(action="publish.start"),
            event(action="publish.fail"),
            event(action="update"),  # a draft save: not delivered content
            event(module="release", action="deploy.start"),
            event(module="workflow", action="workflow_stage_change"),
        ]
        for n, payload in enumerate(ignored):
            payload["triggered_at"] = f"2024-05-02T00:00:0{n}.000Z"
            response = post(hook.client, payload)
            assert response.status_code == 200, payload
            assert response.json()["status"] == "ignored"
        time.sleep(0.8)
        status = hook.status()
        assert status["builds"] == 0 and status["events"]["ignored"] == 6
        reasons = [r["reason"] for r in hook.webhook_records()]
        assert reasons[0] == "the event is for environment staging; this site builds production"
        assert "publish.start is not a finished change" in reasons
        assert deploys(site) == []


def test_a_failed_build_does_not_deploy_and_status_shows_why(tmp_path: Path):
    site = hook_site(tmp_path)
    post_template = site / "templates/post.html"
    good_template = post_template.read_text()
    post_template.write_text("{% extends 'base.html' %}{% block main %}{{ entry.title | nope }}")
    edit_post(site, "Broken build")
    with serving(site) as hook:
        assert post(hook.client, event()).status_code == 202
        last = hook.wait_builds(1)["last_build"]
        assert last["result"] == "failed" and "post.html" in last["message"]
        assert last["deploy"]["ran"] is False and last["deploy"]["result"] == "not run"
        assert deploys(site) == []
        # the live site was left as it was
        assert "Broken build" not in (site / "public/posts/post-0/index.html").read_text()
        assert any(r["event"] == "build" and r["outcome"] == "failed" for r in hook.records)

        # fixed: the next event builds and deploys what changed
        post_template.write_text(good_template)
        assert post(hook.client, event(n=1)).status_code == 202
        last = hook.wait_builds(2)["last_build"]
        assert last["result"] == "ok" and last["deploy"]["result"] == "ok"
        assert len(deploys(site)) == 1

        # nothing changed since: the build runs, the deploy is skipped and the log says so
        assert post(hook.client, event(n=2)).status_code == 202
        last = hook.wait_builds(3)["last_build"]
        assert (last["added"], last["changed"], last["removed"]) == (0, 0, 0)
        assert last["deploy"]["result"] == "skipped"
        assert "changed nothing" in last["deploy"]["message"]
        assert any(r["event"] == "deploy" and r["outcome"] == "skipped" for r in hook.records)
        assert len(deploys(site)) == 1


def test_a_build_hook_url_is_posted_and_never_shown(tmp_path: Path):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    calls: list[dict[str, Any]] = []

    async def receive(request):
        calls.append(await request.json())
        return JSONResponse({}, status_code=200)

    app = Starlette(routes=[Route("/build_hooks/tok_8d1e55aa", receive, methods=["POST"])])
    receiver = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=receiver.run, daemon=True)
    thread.start()
    wait_for(lambda: receiver.started, "the build hook receiver")
    port = receiver.servers[0].sockets[0].getsockname()[1]
    site = make_site(tmp_path)
    with (site / "sitegen.toml").open("a") as f:
        f.write(f'[hook]\nbuild_hook_url = "http://127.0.0.1:{port}/build_hooks/tok_8d1e55aa"\n')
        f.write("debounce = 0.3\n")
    build_site(load_config(site, env={}))
    edit_post(site, "Hooked")
    try:
        with serving(site) as hook:
            assert post(hook.client, event()).status_code == 202
            last = hook.wait_builds(1)["last_build"]
            assert last["deploy"]["result"] == "ok" and hook.status()["deploy"] == "build hook"
            assert calls and calls[0]["kind"] == "incremental" and calls[0]["changed"] >= 1
            text = json.dumps([hook.records, hook.status()])
            assert "tok_8d1e55aa" not in text
    finally:
        receiver.should_exit = True
        thread.join(timeout=10)
    # the receiver is gone: the failure is reported without the URL
    edit_post(site, "Hooked again")
    with serving(site) as hook:
        assert post(hook.client, event(n=1)).status_code == 202
        deploy = hook.wait_builds(1)["last_build"]["deploy"]
        assert deploy["result"] == "failed" and "could not be reached" in deploy["message"]
        assert "tok_8d1e55aa" not in json.dumps([hook.records, hook.status()])


def test_a_failed_deploy_is_reported_and_retried_with_the_next_build(tmp_path: Path):
    site = hook_site(tmp_path, deploy='echo "upload failed" >&2; echo x >> deploys.log; exit 3')
    edit_post(site, "Deploy me")
    with serving(site) as hook:
        assert post(hook.client, event()).status_code == 202
        deploy = hook.wait_builds(1)["last_build"]["deploy"]
        assert deploy["ran"] and deploy["result"] == "failed" and "status 3" in deploy["message"]
        assert {"event": "deploy_output", "line": "upload failed"} in [
            {k: v for k, v in r.items() if k != "time"} for r in hook.records
        ]
        # nothing new to build, but the site is still undeployed: deploy again
        assert post(hook.client, event(n=1)).status_code == 202
        deploy = hook.wait_builds(2)["last_build"]["deploy"]
        assert deploy["ran"] and len(deploys(site)) == 2


def test_basic_auth_alone_and_together_with_signatures(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Basic auth publish")
    with serving(site, secret=None, auth=BASIC) as hook:
        c = hook.client
        no_auth = post(c, event(), secret=None)
        assert no_auth.status_code == 401 and no_auth.headers["www-authenticate"].startswith(
            "Basic"
        )
        assert post(c, event(), secret=None, headers=basic("contentstack:wrong")).status_code == 401
        assert (
            post(c, event(), secret=None, headers={"authorization": "Basic !!"}).status_code == 401
        )
        assert c.get("/status").status_code == 401  # with Basic Auth, /status needs it too
        assert post(c, event(), secret=None, headers=basic(BASIC)).status_code == 202
        assert hook.wait_builds(1, basic(BASIC))["last_build"]["result"] == "ok"
        assert len(deploys(site)) == 1

    with serving(site, secret=SECRET, auth=BASIC) as hook:  # both: both must pass
        c = hook.client
        assert post(c, event(n=1)).status_code == 401  # signed, no Basic Auth
        assert post(c, event(n=2), secret=None, headers=basic(BASIC)).status_code == 401
        assert post(c, event(n=3), secret="wrong", headers=basic(BASIC)).status_code == 401
        assert post(c, event(n=4), headers=basic(BASIC)).status_code == 202
        assert hook.wait_builds(1, basic(BASIC))["builds"] == 1


def test_status_needs_the_credentials_the_webhook_needs(tmp_path: Path):
    site = hook_site(tmp_path)
    fail = lambda: (_ for _ in ()).throw(RuntimeError("secret build error text"))  # noqa: E731
    with serving(site, build=fail) as hook:  # signature only
        assert post(hook.client, event()).status_code == 202
        assert "secret build error text" in hook.wait_builds(1)["last_build"]["message"]
        now = int(time.time())
        for why, header in {
            "unsigned": None,
            "wrong secret": sign(b"", "not-the-secret", now),
            "stale": sign(b"", SECRET, now - 310),
            "not over an empty body": sign(b"x", SECRET, now),
        }.items():
            response = hook.client.get(
                "/status", headers={SIGNATURE_HEADER: header} if header else {}
            )
            assert response.status_code == 401, why
            assert response.json() == {"error": "unauthorized"}, why
            assert "www-authenticate" not in response.headers, why
            assert "secret build error" not in response.text, why
        assert [r["outcome"] for r in hook.records if r["event"] == "status"] == ["refused"] * 4
        signed = {SIGNATURE_HEADER: sign(b"", SECRET, now)}
        assert hook.client.get("/status", headers=signed).status_code == 200
        assert hook.client.get("/status", headers=signed).status_code == 200  # not a replay


def test_with_basic_auth_alone_a_repeated_delivery_is_accepted(tmp_path: Path):
    """Nothing tells a Contentstack retry from a replay without a signature; both cost one build."""
    site = hook_site(tmp_path)
    with serving(site, secret=None, auth=BASIC) as hook:
        body = json.dumps(event()).encode()
        headers = {"content-type": "application/json", **basic(BASIC)}
        codes = [hook.client.post("/webhook", content=body, headers=headers).status_code]
        codes.append(hook.client.post("/webhook", content=body, headers=headers).status_code)
        assert codes == [202, 202]
        status = hook.wait_builds(1, basic(BASIC))
        assert status["builds"] == 1 and status["last_build"]["events"] == 2


def test_unsigned_and_stale_senders_are_refused_before_their_body(tmp_path: Path):
    """A sender without a fresh, well-formed signature header does not hold a slot for its body."""
    site = hook_site(tmp_path)
    stale = sign(b"{}", SECRET, int(time.time()) - 310)
    with serving(site, body_timeout=5, max_inflight=1) as hook:
        for why, extra in {
            "unsigned": b"",
            "stale": f"{SIGNATURE_HEADER}: {stale}\r\n".encode(),
            "malformed": f"{SIGNATURE_HEADER}: t=1\r\n".encode(),
        }.items():
            t0 = time.monotonic()
            head = (
                b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                + extra
                + b"content-length: 500\r\n\r\n"
            )
            reply = raw_request(port_of(hook), head)  # the body never comes
            assert reply.startswith(b"HTTP/1.1 401"), (why, reply[:200])
            assert time.monotonic() - t0 < 2, why
        assert post(hook.client, event()).status_code == 202  # the one slot is free
        hook.wait_builds(1)


def test_malformed_headers_and_payloads_never_answer_500(tmp_path: Path):
    """Odd bytes and shapes get an answer other than 500 and a log line, never a traceback."""
    site = hook_site(tmp_path)
    now = int(time.time())

    def signed(raw: bytes) -> dict[str, bytes]:
        return {SIGNATURE_HEADER: sign(raw, SECRET, now).encode()}

    def with_key(api_key: str) -> bytes:
        return json.dumps({**event(), "api_key": api_key}).encode()

    odd = {**event(), "module": ["entry"], "event": "publish"}
    shapes = {
        "not an object": b"[1, 2]",
        "a string": b'"entry"',
        "null": b"null",
        "a huge number": b"1" * 5000,
        "a huge exponent": b"1e999999",
        "deeply nested": b"[" * 100_000,
        "not UTF-8": b'{"module": "\xff"}',
        "a list for a module": json.dumps(odd).encode(),
        "odd field types": json.dumps(
            {
                "module": "entry",
                "event": "publish",
                "triggered_at": 10**30,
                "api_key": 1,
                "data": {
                    "entry": {"uid": ["x"], "title": {"a": 1}},
                    "environment": [None],
                    "locale": 5,
                },
            }
        ).encode(),
        "a non-ASCII api_key": with_key("éx"),
        "a lone surrogate api_key": with_key("\ud800"),
        "a control-character api_key": with_key("\x00\n"),
    }
    body = json.dumps(event()).encode()
    headers = {
        "t as a superscript digit": b"t=\xb2,v1=aa",
        "t as superscript digits": b"t=\xb9\xb2\xb3,v1=" + b"a" * 64,
        "a huge t": b"t=" + b"9" * 40 + b",v1=aa",
        "a negative t": f"t=-{now},v1=aa".encode(),
        "non-ASCII v1": f"t={now},v1=".encode() + b"\xe9\xff",
        "empty parts": b",,,=,t=,v1=",
        "only commas": b",,,,",
    }
    requests: dict[str, tuple[bytes, dict[str, bytes]]] = {
        **{why: (raw, signed(raw)) for why, raw in shapes.items()},
        **{why: (body, {SIGNATURE_HEADER: value}) for why, value in headers.items()},
    }
    with serving(site, env={"CONTENTSTACK_API_KEY": API_KEY}) as hook:  # api_keys compared
        assert hook.server.config.stack.api_key == API_KEY
        for why, (raw, extra) in requests.items():
            before = len(hook.webhook_records())
            response = hook.client.post(
                "/webhook", content=raw, headers={"content-type": "application/json", **extra}
            )
            assert response.status_code in (200, 202, 400, 401), (why, response.status_code)
            assert response.json(), why
            records = hook.webhook_records()[before:]
            assert len(records) == 1 and records[0]["status"] == response.status_code, why
            json.loads(json.dumps(records[0]))  # one JSON log line
    with serving(site, secret=None, auth=BASIC) as hook:
        for value in (b"Basic \xe9\xb2", b"\xb2 x", b"Basic " + b"=" * 3, b"Basic", b"Basic  x"):
            response = post(hook.client, event(), secret=None, headers={"authorization": value})
            assert response.status_code == 401, value
        assert len(hook.webhook_records()) == 5


def test_a_bug_in_the_server_is_a_500_with_one_log_line_and_the_next_request_works(
    tmp_path: Path,
):
    site = hook_site(tmp_path)
    calls = []

    def clock() -> float:  # breaks once, like a bug would, on the first signature check
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the clock broke")
        return time.time()

    with serving(site, clock=clock) as hook:
        response = post(hook.client, event())
        assert response.status_code == 500
        assert response.json() == {"error": "internal error; the hook server's log has the details"}
        record = hook.webhook_records()[-1]
        assert record["outcome"] == "failed" and "RuntimeError: the clock broke" in record["reason"]
        assert post(hook.client, event()).status_code == 202  # the server goes on
        status = hook.wait_builds(1)
        assert status["events"]["failed"] == 1 and status["events"]["queued"] == 1


# -- the command line -----------------------------------------------------------------------------


def cli_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SITEGEN_HOOK_", "CONTENTSTACK_", "INCOMING_HOOK_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "set [hook] public_key"),
        ({"SITEGEN_HOOK_SECRET": "", "SITEGEN_HOOK_AUTH": ""}, "SITEGEN_HOOK_SECRET (the HMAC"),
        ({"SITEGEN_HOOK_AUTH": "no-colon-here"}, "SITEGEN_HOOK_AUTH must be user:password"),
    ],
)
def test_the_command_refuses_to_start_without_credentials(
    tmp_path: Path, extra: dict[str, str], message: str
):
    site = make_site(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "hook", "serve", str(site), "--port", "0"],
        env=cli_env(**extra),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "no-colon-here" not in done.stderr


def test_the_command_serves_webhooks_with_json_logs(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Through the command line")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "hook", "serve", str(site), "--port", "0"],
        env=cli_env(SITEGEN_HOOK_SECRET=SECRET, SITEGEN_HOOK_AUTH=BASIC),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        start = wait_for(
            lambda: next((json.loads(x) for x in lines if '"event": "start"' in x), None),
            "the start log line",
        )
        port = re.search(r":(\d+)/webhook$", start["url"]).group(1)
        assert start["auth"] == ["hmac", "basic"] and start["deploy"] == "command"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            assert post(c, event(), headers=basic(BASIC)).status_code == 202
            assert post(c, event(n=1)).status_code == 401
            page = site / "public/posts/post-0/index.html"
            wait_for(lambda: "Through the command line" in page.read_text(), "the page to change")
            status = wait_for(
                lambda: (s := c.get("/status", headers=basic(BASIC)).json())["builds"] and s,
                "the build and deploy",
            )
            assert status["builds"] == 1 and status["last_build"]["deploy"]["result"] == "ok"
            assert len(deploys(site)) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        reader.join(timeout=5)
    records = [json.loads(line) for line in lines]  # every line is one JSON record
    webhooks = [r for r in records if r["event"] == "webhook"]
    assert [r["status"] for r in webhooks] == [202, 401]
    assert any(r["event"] == "build" and r["outcome"] == "ok" for r in records)
    assert_no_secrets("".join(lines))


# -- payloads and Netlify build hooks -------------------------------------------------------------


def test_signature_rules():
    body = b'{"module": "entry"}'
    now = 1_700_000_000
    header = sign(body, SECRET, now)
    assert check_signature(header, body, SECRET, now=now + 299, max_age=300).ok
    assert not check_signature(header, body, SECRET, now=now + 301, max_age=300).ok
    # rotation: any v1 may match
    rotated = f"t={now},v1={'0' * 64},{header.split(',')[1]}"
    assert check_signature(rotated, body, SECRET, now=now, max_age=300).ok
    assert not check_signature(header, body + b" ", SECRET, now=now, max_age=300).ok
    assert not check_signature(f"t={now}", body, SECRET, now=now, max_age=300).ok
    # "²".isdigit() is True, but int() refuses it
    odd = check_signature("t=\xb2,v1=aa", body, SECRET, now=now, max_age=300)
    assert odd.reason == "malformed signature header"


def test_payload_environments_and_ignored_events():
    e = parse_payload(event())
    assert (e.module, e.event, e.environments) == ("entry", "publish", ("production",))
    assert (e.content_type, e.uid, e.locale) == ("post", "post0", "en-us")
    assert ignore_reason(e, "production") is None
    assert "staging" in ignore_reason(e, "staging")
    assert ignore_reason(parse_payload(event(action="unpublish.success")), "production") is None
    assert ignore_reason(parse_payload(event(action="delete")), "production") is None
    assert ignore_reason(parse_payload(event(module="asset")), "production") is None
    release = {"module": "release", "event": "deploy", "data": {"environments": ["production"]}}
    assert ignore_reason(parse_payload(release), "production") is None
    assert ignore_reason(parse_payload(release), "staging") is not None
    # an environment given as a plain string counts too
    assert parse_payload({**event(), "data": {"environment": "qa"}}).environments == ("qa",)
    with pytest.raises(ValueError):
        parse_payload(["not", "an", "object"])


def test_netlify_build_log_names_the_triggering_entry():
    body = event(title="Hello\nworld")
    line = describe_netlify_trigger(
        {"INCOMING_HOOK_BODY": json.dumps(body), "INCOMING_HOOK_TITLE": "contentstack",
         "INCOMING_HOOK_URL": "https://api.netlify.com/build_hooks/s3cr3t"},
        environment="production",
    )  # fmt: skip
    assert line == (
        'Triggered by a Contentstack webhook (build hook "contentstack"): entry publish: '
        'post/post0 "Hello world" (en-us) in production at 2024-05-01T10:00:00.000Z'
    )
    assert API_KEY not in line and "s3cr3t" not in line
    staged = describe_netlify_trigger(
        {"INCOMING_HOOK_BODY": json.dumps(event(env="staging"))}, environment="production"
    )
    assert staged.endswith(
        "(note: the event is for environment staging; this site builds production)"
    )
    assert describe_netlify_trigger({}) is None
    assert describe_netlify_trigger({"INCOMING_HOOK_BODY": "nope"}) == (
        "Triggered by a build hook; its body is not a Contentstack webhook"
    )
    assert describe_netlify_trigger({"INCOMING_HOOK_TITLE": "manual"}) == (
        'Triggered by a build hook (build hook "manual"), without a body'
    )


# -- hardening: every hostile request is refused without touching a running build ----------------


def raw_request(port: int, head: bytes, drip: bytes = b"", pause: float = 0.0) -> bytes:
    """Send a request over a plain socket (a body dripped one byte per ``pause``), return the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for byte in drip:
                sock.sendall(bytes([byte]))
                time.sleep(pause)
        except OSError:  # the server gave up on us and closed: read what it answered
            pass
        reply = b""
        with suppress(OSError):
            while chunk := sock.recv(65536):
                reply += chunk
                if b"\r\n\r\n" in reply:
                    break
        return reply


def port_of(hook: Hook) -> int:
    return int(str(hook.client.base_url).rstrip("/").rsplit(":", 1)[1])


def test_wrong_content_types_are_refused_with_415(tmp_path: Path):
    site = hook_site(tmp_path)
    with serving(site) as hook:
        body = json.dumps(event()).encode()
        for content_type in (None, "text/plain", "application/x-www-form-urlencoded", "json"):
            headers = {SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))}
            if content_type:
                headers["content-type"] = content_type
            response = hook.client.post("/webhook", content=body, headers=headers)
            assert response.status_code == 415, content_type
            assert response.json() == {"error": "unsupported media type"}
        # parameters and case do not matter
        ok = post(hook.client, event(), headers={"content-type": "Application/JSON; charset=utf-8"})
        assert ok.status_code == 202
        hook.wait_builds(1)
        assert hook.status()["events"]["refused"] == 4


def test_a_slow_drip_body_is_cut_off_with_408(tmp_path: Path):
    site = hook_site(tmp_path)
    body = json.dumps(event()).encode()
    head = (
        b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"{SIGNATURE_HEADER}: {sign(body, SECRET, int(time.time()))}\r\n".encode()
        + f"content-length: {len(body)}\r\n\r\n".encode()
    )
    with serving(site, body_timeout=0.5) as hook:
        t0 = time.monotonic()
        reply = raw_request(port_of(hook), head, drip=body[:40], pause=0.05)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert time.monotonic() - t0 < 5
        assert hook.webhook_records()[-1]["reason"].startswith("body not received within")
        # a prompt sender is unaffected
        assert post(hook.client, event()).status_code == 202
        hook.wait_builds(1)


def test_a_flood_gets_429_with_retry_after_and_nothing_is_queued(tmp_path: Path):
    site = hook_site(tmp_path)
    with serving(site, rate=1.0, burst=5) as hook:
        answers = [post(hook.client, event(n=i)) for i in range(12)]
        codes = [a.status_code for a in answers]
        assert codes[:5] == [202] * 5 and set(codes[5:]) == {429}, codes
        limited = answers[-1]
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json() == {"error": "too many requests"}
        status = hook.wait_builds(1)
        assert status["events"]["queued"] == 5 and status["events"]["limited"] == 7
        time.sleep(1.1)  # the bucket refills: a later delivery is accepted again
        assert post(hook.client, event(n=99)).status_code == 202


def test_a_full_queue_refuses_with_429(tmp_path: Path):
    site = hook_site(tmp_path)
    release = threading.Event()

    def slow_build():
        release.wait(10)
        return build_site(load_config(site, env={}))

    with serving(site, build=slow_build, max_pending=3) as hook:
        assert post(hook.client, event(n=0)).status_code == 202
        wait_for(lambda: hook.status()["building"], "the build to start")
        codes = [post(hook.client, event(n=i)).status_code for i in range(1, 6)]
        assert codes == [202, 202, 202, 429, 429]
        assert hook.status()["queue"] == 3
        # the refused delivery did not spend its signature: the sender's retry is accepted
        body = json.dumps(event(n=5)).encode()
        headers = {SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))}
        headers["content-type"] = "application/json"
        assert hook.client.post("/webhook", content=body, headers=headers).status_code == 429
        release.set()
        assert hook.wait_builds(2)["last_build"]["events"] == 3
        assert hook.client.post("/webhook", content=body, headers=headers).status_code == 202


def test_hostile_requests_do_not_disturb_a_build_in_progress(tmp_path: Path):
    site = hook_site(tmp_path)
    edit_post(site, "Built while under attack")
    started, release = threading.Event(), threading.Event()

    def gated_build():
        started.set()
        release.wait(10)
        return build_site(load_config(site, env={}))

    good = json.dumps(event()).encode()
    with serving(site, build=gated_build, body_timeout=0.5, max_body=4096) as hook:
        headers = {SIGNATURE_HEADER: sign(good, SECRET, int(time.time()))}
        headers["content-type"] = "application/json"
        assert hook.client.post("/webhook", content=good, headers=headers).status_code == 202
        assert started.wait(10)
        c = hook.client
        again = c.post("/webhook", content=good, headers=headers)  # a duplicate: no second build
        assert again.status_code == 200 and again.json()["status"] == "ignored"
        assert post(c, raw=b" " * 5000).status_code == 413
        assert post(c, raw=b"{not json").status_code == 400
        assert post(c, event(), headers={"content-type": "text/plain"}).status_code == 415
        slow = raw_request(  # a fresh signature header gets the body read: too slowly
            port_of(hook),
            b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"{SIGNATURE_HEADER}: {headers[SIGNATURE_HEADER]}\r\n".encode()
            + b"content-length: 500\r\n\r\n",
            drip=b"{" * 30,
            pause=0.05,
        )
        assert slow.startswith(b"HTTP/1.1 408"), slow[:200]
        mid = hook.status()
        assert mid["building"] and mid["builds"] == 0 and mid["queue"] == 0
        release.set()
        status = hook.wait_builds(1)
        last = status["last_build"]
        assert last["result"] == "ok" and last["events"] == 1 and last["changed"] >= 1
        html = (site / "public/posts/post-0/index.html").read_text()
        assert "<h1>Built while under attack</h1>" in html
        time.sleep(0.8)
        assert hook.status()["builds"] == 1 and len(deploys(site)) == 1
