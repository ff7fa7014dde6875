"""No credential ever leaves sitegen: not in output, logs, errors, state, reports or the site.

Every token here is distinctive (it holds the marker ``zq9``), so one search finds any copy of
any of them. Each scenario provokes a failure the way a user would meet it (wrong credentials
against a real local stack on a loopback port, a closed port, a server that echoes credentials
back, a bad sitegen.toml, a template error, hostile webhooks) and then searches everything the
run left behind: the CLI's stdout and stderr, the exception and its traceback, the log records,
``.sitegen/last-build.json``, the state SQLite files byte by byte, the output folders and the
hook server's log and answers.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner, Result

from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.server.hooks import HookAuth, HookServer
from sitegen.server.webhook import SIGNATURE_HEADER, sign
from sitegen.stack import create_app
from tests.scripted_server import Answer, scripted_server
from tests.sites import make_site, serve_app, write_json

MARKER = "zq9"
API_KEY = "blt_zq9APIKEY_4f1c88"
DELIVERY = "cs_zq9DELIVERY_a7e2d1"
PREVIEW = "cs_zq9PREVIEW_51bb0e"
AUTHTOKEN = "zq9AUTHTOKEN_c0ffee"
HOOK_SECRET = "whsec_zq9HOOK_42aa17"
HOOK_BASIC = "hooker:zq9BASICPW_9e03"
WRONG_KEY = "blt_zq9WRONGKEY_0001"
WRONG_DELIVERY = "cs_zq9WRONGDELIVERY_0002"
WRONG_PREVIEW = "cs_zq9WRONGPREVIEW_0003"
NEEDLES = (
    MARKER,
    API_KEY,
    DELIVERY,
    PREVIEW,
    AUTHTOKEN,
    HOOK_SECRET,
    HOOK_BASIC,
    WRONG_KEY,
    WRONG_DELIVERY,
    WRONG_PREVIEW,
    base64.b64encode(HOOK_BASIC.encode()).decode(),  # as it travels in an Authorization header
)


def assert_clean(what: str, data: str | bytes) -> None:
    """No token (nor the marker they share) in this text or these bytes."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
    for needle in NEEDLES:
        assert needle.encode() not in raw, f"{needle!r} leaked into {what}"


def assert_site_clean(site: Path) -> None:
    """Every file the runs wrote (output, state databases, reports, caches), byte by byte.

    The stack folder (whose stack.json holds the credentials by design) and sitegen.toml (where a
    user may write them) are the only files allowed to hold a token.
    """
    checked = 0
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        if not path.is_file() or rel.parts[0] == "stack" or rel == Path("sitegen.toml"):
            continue
        assert_clean(str(rel), path.read_bytes())
        checked += 1
    assert checked, "the runs wrote nothing to check"


def secret_site(root: Path, host: str, extra: str = "") -> Path:
    """A site reading a local stack over HTTP, whose stack.json holds our distinctive tokens."""
    site = make_site(
        root,
        stack_toml=f'host = "{host}"\nenvironment = "production"\nmax_tries = 2\ntimeout = 5\n',
    )
    stack_json = site / "stack/stack.json"
    data = json.loads(stack_json.read_text())
    data.update(api_key=API_KEY, delivery_token=DELIVERY, preview_token=PREVIEW)
    write_json(stack_json, data)
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[preview]\nhost = "{host}"\n{extra}')
    return site


PLACEHOLDER = "http://placeholder.invalid"


def point_at(site: Path, url: str) -> None:
    """Aim the site (stack and preview host) at a server started after the site was made."""
    toml = site / "sitegen.toml"
    toml.write_text(toml.read_text().replace(PLACEHOLDER, url))


def credentials(**overrides: str) -> dict[str, str]:
    env = {
        "CONTENTSTACK_API_KEY": API_KEY,
        "CONTENTSTACK_DELIVERY_TOKEN": DELIVERY,
        "CONTENTSTACK_PREVIEW_TOKEN": PREVIEW,
        "CONTENTSTACK_AUTHTOKEN": AUTHTOKEN,
        "SITEGEN_HOOK_SECRET": HOOK_SECRET,
        "SITEGEN_HOOK_AUTH": HOOK_BASIC,
    }
    env.update(overrides)
    return env


def run_build(site: Path, env: dict[str, str], *args: str) -> Result:
    """``sitegen build`` through click, with everything it printed and raised checked."""
    result = CliRunner().invoke(cli, ["build", str(site), *args], env=env)
    assert_clean("stdout", result.stdout)
    assert_clean("stderr", result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert_clean("the exception", repr(result.exception) + str(result.exception))
        assert_clean("the traceback", "".join(traceback.format_exception(result.exception)))
    return result


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of every library (httpx included), at every level, checked at the end."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert_clean("the log", "\n".join(r.getMessage() for r in caplog.records))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- sitegen build: every way a build can fail --------------------------------------------------


def test_refusals_of_the_stack_never_show_a_credential(tmp_path: Path, logs):
    site = secret_site(tmp_path, PLACEHOLDER)
    with serve_app(create_app(site / "stack")) as url:
        point_at(site, url)
        refusals = {
            "wrong api key (412)": (credentials(CONTENTSTACK_API_KEY=WRONG_KEY), (), "412"),
            "wrong delivery token (401)": (
                credentials(CONTENTSTACK_DELIVERY_TOKEN=WRONG_DELIVERY),
                (),
                "401",
            ),
            "unknown environment (422)": (
                credentials(CONTENTSTACK_ENVIRONMENT="nope"),
                (),
                "422",
            ),
            "wrong preview token (401)": (
                credentials(CONTENTSTACK_PREVIEW_TOKEN=WRONG_PREVIEW),
                ("--preview",),
                "401",
            ),
        }
        for why, (env, args, status) in refusals.items():
            result = run_build(site, env, *args)
            assert result.exit_code == 1, (why, result.output)
            assert status in result.stderr, (why, result.stderr)
        # and a good build, full then incremental, then a preview: nothing stored either
        assert run_build(site, credentials()).exit_code == 0
        assert run_build(site, credentials()).exit_code == 0
        assert run_build(site, credentials(), "--preview").exit_code == 0
    assert (site / ".sitegen/last-build.json").is_file()
    assert (site / "public/index.html").is_file() and (site / "public-preview").is_dir()
    assert any(p.suffix == ".sqlite" for p in (site / ".sitegen").iterdir())
    assert_site_clean(site)


def test_a_closed_port_never_shows_a_credential(tmp_path: Path, logs):
    site = secret_site(tmp_path, closed_port_url())
    result = run_build(site, credentials())
    assert result.exit_code == 1 and "error" in result.stderr
    assert_site_clean(site)


def test_a_server_that_echoes_credentials_is_redacted(tmp_path: Path, logs):
    """Proxies and misconfigured gateways quote the request back; sitegen must not repeat it."""
    echo = f"bad credentials api_key={API_KEY} access_token={DELIVERY}"  # what a build sends
    preview_echo = f"bad credentials api_key={API_KEY} preview_token={PREVIEW}"
    with scripted_server() as server:
        site = secret_site(tmp_path, server.url)
        server.default = Answer(500, echo)  # not JSON, retried, then reported with a snippet
        result = run_build(site, credentials())
        assert result.exit_code == 1 and "500" in result.stderr
        server.default = Answer(401, {"error_message": echo, "error_code": 104})
        result = run_build(site, credentials())
        assert result.exit_code == 1 and "401" in result.stderr
        server.default = Answer(401, {"error_message": preview_echo, "error_code": 104})
        result = run_build(site, credentials(), "--preview")
        assert result.exit_code == 1 and "401" in result.stderr
        assert "***" in result.stderr  # the message was shown, with the credentials masked
    assert_site_clean(site)


def test_analytics_refusals_never_show_the_authtoken(tmp_path: Path, logs):
    echo = f"authtoken {AUTHTOKEN} is not valid"
    extra = '[analytics]\norg_uid = "org_1"\nhost = "http://analytics.invalid"\n'
    site = secret_site(tmp_path, PLACEHOLDER, extra)
    with scripted_server() as analytics, serve_app(create_app(site / "stack")) as url:
        analytics.default = Answer(401, {"error_message": echo, "error_code": 105})
        point_at(site, url)
        toml = site / "sitegen.toml"
        toml.write_text(toml.read_text().replace("http://analytics.invalid", analytics.url))
        result = run_build(site, credentials(), "--usage-days", "7")
        assert result.exit_code == 0 and "CDN usage not shown" in result.stdout
        result = CliRunner().invoke(
            cli,
            [
                "analytics",
                "usage",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
                "--site",
                str(site),
            ],
            env=credentials(),
        )
        assert result.exit_code != 0
        assert_clean("sitegen analytics output", result.stdout + result.stderr)
    assert analytics.seen and analytics.seen[0].headers["authtoken"] == AUTHTOKEN
    assert_site_clean(site)


def test_config_errors_never_show_a_credential(tmp_path: Path, logs):
    site = secret_site(tmp_path, "http://127.0.0.1:9")
    toml = (site / "sitegen.toml").read_text()
    bad = {
        "a token of the wrong type": ("[stack]\n", f'[stack]\ndelivery_token = ["{DELIVERY}"]\n'),
        "an api key of the wrong type": (
            "[stack]\n",
            f"[stack]\napi_key = {{ k = '{API_KEY}' }}\n",
        ),
        "a preview token of the wrong type": (
            "[preview]\n",
            f'[preview]\npreview_token = ["{PREVIEW}"]\n',
        ),
        "a build hook URL of the wrong type": (
            "[preview]\n",
            f'[hook]\nbuild_hook_url = ["https://hooks.example.com/{MARKER}"]\n[preview]\n',
        ),
        "a build hook URL that is not a URL": (
            "[preview]\n",
            f'[hook]\nbuild_hook_url = "hooks.example.com/{MARKER}"\n[preview]\n',
        ),
        "an unknown key next to a token": (
            "[stack]\n",
            f'[stack]\ndelivery_token = "{DELIVERY}"\ndelivery_tokn = "{DELIVERY}"\n',
        ),
    }
    for why, (old, new) in bad.items():
        (site / "sitegen.toml").write_text(toml.replace(old, new, 1))
        result = run_build(site, credentials())
        assert result.exit_code == 1 and "sitegen.toml" in result.stderr, (why, result.stderr)
        assert "error" in result.stderr, why


def test_template_errors_never_show_a_credential(tmp_path: Path, logs):
    site = secret_site(tmp_path, PLACEHOLDER)
    with serve_app(create_app(site / "stack")) as url:
        point_at(site, url)
        assert run_build(site, credentials()).exit_code == 0
        (site / "templates/post.html").write_text("{{ entry.title.no_such_method() }}")
        result = run_build(site, credentials(), "--full")
        assert result.exit_code == 1 and "post.html" in result.stderr
        (site / "templates/post.html").write_text("{% if %}")
        result = run_build(site, credentials())
        assert result.exit_code == 1 and "post.html" in result.stderr
    assert_site_clean(site)


# -- sitegen hook serve ---------------------------------------------------------------------------


@contextmanager
def hook_server(site: Path, stream: io.StringIO) -> Iterator[httpx.Client]:
    """The real hook server (default build and deploy, its JSON log in ``stream``) on loopback."""
    config = load_config(site)
    server = HookServer(config, HookAuth.from_env(credentials()), stream=stream)
    uv = uvicorn.Server(uvicorn.Config(server.app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        uv.should_exit = True
        thread.join(timeout=15)


def signed(client: httpx.Client, payload: Any, **headers: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    h = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(body, HOOK_SECRET, int(time.time())),
        "authorization": "Basic " + base64.b64encode(HOOK_BASIC.encode()).decode(),
        **headers,
    }
    return client.post("/webhook", content=body, headers=h)


def publish(uid: str, title: str, n: int) -> dict[str, Any]:
    return {
        "module": "entry",
        "api_key": API_KEY,
        "event": "publish",
        "triggered_at": f"2024-05-01T10:00:{n:02d}.000Z",
        "data": {
            "entry": {"uid": uid, "title": title, "locale": "en-us"},
            "content_type": {"uid": "post"},
            "environment": {"name": "production"},
            "locale": "en-us",
            "action": "publish",
            "status": "success",
        },
    }


def test_the_hook_server_never_logs_or_answers_a_credential(
    tmp_path: Path, logs, monkeypatch: pytest.MonkeyPatch
):
    for name, value in credentials().items():
        monkeypatch.setenv(name, value)
    stream = io.StringIO()
    deploy = 'echo "deploying with $CONTENTSTACK_DELIVERY_TOKEN and $CONTENTSTACK_API_KEY"'
    hook = f"[hook]\ndeploy_command = '{deploy}'\ndebounce = 0.2\n"
    site = secret_site(tmp_path, PLACEHOLDER, hook)
    with serve_app(create_app(site / "stack")) as url:
        point_at(site, url)
        assert run_build(site, credentials()).exit_code == 0
        entry = site / "stack/entries/post/post0.en-us.json"
        write_json(entry, {**json.loads(entry.read_text()), "title": "Changed"})  # to deploy
        with hook_server(site, stream) as client:
            answers = [
                signed(client, publish("post0", f"title with {DELIVERY}", 1)),  # builds, deploys
                signed(client, publish("post0", "x", 2), authorization="Basic bm9wZTpub3Bl"),
                signed(client, publish("post0", "x", 3), **{SIGNATURE_HEADER: f"t=1,v1={MARKER}"}),
                signed(client, {"module": HOOK_SECRET}),  # signed, but not a webhook
                signed(client, publish("post0", "x", 4), **{"content-type": "text/plain"}),
                client.post(
                    "/webhook",
                    content=f"{{{HOOK_SECRET}".encode(),
                    headers={"content-type": "application/json"},
                ),
            ]
            assert [a.status_code for a in answers] == [202, 401, 401, 400, 415, 401]
            auth = {"authorization": "Basic " + base64.b64encode(HOOK_BASIC.encode()).decode()}

            def status() -> dict[str, Any]:
                return client.get("/status", headers=auth).json()

            deadline = time.monotonic() + 30
            while status()["builds"] < 1 or status()["building"]:
                assert time.monotonic() < deadline, "no build"
                time.sleep(0.05)
            first = status()
            assert first["last_build"]["result"] == "ok", first
            assert first["last_build"]["deploy"]["result"] == "ok", first
            # a build that fails: the stack refuses (the server's env is not re-read for tokens,
            # but the template is): the failure is logged and shown in /status
            (site / "templates/post.html").write_text("{{ entry.title.no_such_method() }}")
            assert signed(client, publish("post1", "y", 5)).status_code == 202
            while status()["builds"] < 2 or status()["building"]:
                assert time.monotonic() < deadline, "no second build"
                time.sleep(0.05)
            second = status()
            assert second["last_build"]["result"] == "failed", second
            for answer in answers:
                assert_clean("a webhook answer", answer.content)
            assert_clean("/status", json.dumps(first) + json.dumps(second))
    log = stream.getvalue()
    assert '"deploying with *** and ***"' in log  # the deploy's output was logged, masked
    assert '"outcome": "failed"' in log
    assert_clean("the hook server's log", log)
    assert_site_clean(site)
