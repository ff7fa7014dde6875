"""Contentstack's default webhook signature, and releases delivered item by item.

Contentstack signs each delivery with a platform key (``x-contentstack-request-signature:
v1=<base64>``, RSA-PSS/SHA-256 over the JSON body as ``JSON.stringify`` writes it; see
sitegen/server/certificate.py for the sources). Here the signing is done the way Contentstack's
Node.js services do it, by Node's ``crypto.sign`` with a key pair made for the test, and the
receiver is the real ``sitegen hook serve`` app on a loopback port. ``JSON.stringify``
compatibility is checked against Node itself. Without Node these tests are skipped with the
reason printed (CI requires it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen.server.certificate import js_stringify
from sitegen.server.hooks import HookAuth
from sitegen.server.webhook import REQUEST_SIGNATURE_HEADER, SIGNATURE_HEADER, sign
from tests.test_hook_server import deploys, edit_post, event, hook_site, post, serving, wait_for


def node() -> str:
    path = shutil.which("node")
    if path is None:
        reason = "node is not installed (apt-get install nodejs): it signs as Contentstack does"
        if os.environ.get("SITEGEN_REQUIRE_NODE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


SIGNER = r"""
// Reads {key, bodies: [...]} on stdin; prints, per body, JSON.stringify(body) and its
// signature as Contentstack sends it: base64 RSA-PSS/SHA-256 (Node's default salt length).
const crypto = require("crypto");
let input = "";
process.stdin.on("data", (c) => (input += c)).on("end", () => {
  const { key, bodies } = JSON.parse(input);
  const out = bodies.map((body) => {
    const text = JSON.stringify(body);
    const signature = crypto
      .sign("sha256", Buffer.from(text), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING })
      .toString("base64");
    return { text, signature };
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def node_sign(private_pem: str, bodies: list[Any]) -> list[dict[str, str]]:
    done = subprocess.run(
        [node(), "-e", SIGNER],
        input=json.dumps({"key": private_pem, "bodies": bodies}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def key_pair() -> tuple[str, str]:
    """A private key (PKCS#8 PEM) and its public key as Contentstack publishes one (PKCS#1)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    return private, public


def built(status: dict[str, Any], n: int) -> dict[str, Any] | None:
    """The status once ``n`` builds ran and nothing is building or waiting."""
    done = status["builds"] >= n and not status["building"] and status["queue"] == 0
    return status if done else None


def fresh(payload: dict[str, Any], age: float = 0.0) -> dict[str, Any]:
    when = datetime.fromtimestamp(time.time() - age, UTC)
    return {**payload, "triggered_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"}


def site_with_key(tmp_path: Path, public: str) -> Path:
    site = hook_site(tmp_path / "site")
    (site / "contentstack-webhook.pem").write_text(public, encoding="utf-8")
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write('public_key = "contentstack-webhook.pem"\n')
    return site


def send(client, text: str, signature: str | None, **headers: str):
    h = {"content-type": "application/json", **headers}
    if signature is not None:
        h[REQUEST_SIGNATURE_HEADER] = f"v1={signature}"
    return client.post("/webhook", content=text.encode(), headers=h)


def test_contentstacks_default_signature_is_verified_with_the_configured_public_key(
    tmp_path: Path,
):
    private, public = key_pair()
    other_private, _ = key_pair()
    site = site_with_key(tmp_path, public)
    edit_post(site, "Signed by Contentstack")
    config = load_config(site, env={})
    good, stale, pretty, second = node_sign(
        private,
        [
            fresh(event()),
            fresh(event(n=1), age=400),
            fresh(event(n=2)),
            fresh(event("post1", n=3)),
        ],
    )
    (forged,) = node_sign(other_private, [fresh(event(n=4))])
    auth = HookAuth.from_env({}, config.hook.public_key)
    assert auth.methods == ["signature"]
    with serving(site, secret=None, public_key=auth.public_key) as hook:
        c = hook.client
        refused = {
            "unsigned": send(c, good["text"], None),
            "tampered": send(c, good["text"].replace("post0", "post1"), good["signature"]),
            "another key": send(c, forged["text"], forged["signature"]),
            "stale": send(c, stale["text"], stale["signature"]),
            "garbage": send(c, good["text"], "not base64!"),
            "HMAC instead": c.post(
                "/webhook",
                content=good["text"].encode(),
                headers={
                    "content-type": "application/json",
                    SIGNATURE_HEADER: sign(good["text"].encode(), "a guess", int(time.time())),
                },
            ),
        }
        for why, response in refused.items():
            assert response.status_code == 401, (why, response.text)
        reasons = [r["reason"] for r in hook.webhook_records()]
        assert reasons == [
            "no request signature",
            "request signature does not match",
            "request signature does not match",
            "stale triggered_at",
            "malformed request signature header",
            "no request signature",
        ]
        assert c.get("/status").status_code == 401  # nobody but Contentstack can sign

        assert send(c, good["text"], good["signature"]).status_code == 202
        # the same delivery again (a replay, or a retry after a lost answer): no second build
        again = send(c, good["text"], good["signature"])
        assert again.status_code == 200 and again.json()["status"] == "ignored"
        assert hook.webhook_records()[-1]["reason"].startswith("duplicate delivery")
        # pretty-printed on the way (a proxy), still the body Contentstack signed
        spaced = json.dumps(json.loads(pretty["text"]), indent=2)
        assert send(c, spaced, pretty["signature"]).status_code == 202
        # rotation: any v1 may match
        both = f"v1={forged['signature']},v1={second['signature']}"
        response = c.post(
            "/webhook",
            content=second["text"].encode(),
            headers={"content-type": "application/json", REQUEST_SIGNATURE_HEADER: both},
        )
        assert response.status_code == 202
        wait_for(lambda: built(hook.server.status(), 1), "the build")
    assert "Signed by Contentstack" in (site / "public/posts/post-0/index.html").read_text()
    assert len(deploys(site)) == 1


def test_with_a_public_key_and_a_secret_either_signature_proves_a_request(tmp_path: Path):
    private, public = key_pair()
    site = site_with_key(tmp_path, public)
    key = HookAuth.from_env({}, load_config(site, env={}).hook.public_key).public_key
    (signed,) = node_sign(private, [fresh(event())])
    with serving(site, public_key=key) as hook:  # and the HMAC secret of test_hook_server
        assert send(hook.client, signed["text"], signed["signature"]).status_code == 202
        body = json.dumps(fresh(event(n=5))).encode()
        hmac_signed = hook.client.post(
            "/webhook",
            content=body,
            headers={
                "content-type": "application/json",
                SIGNATURE_HEADER: sign(body, "whsec_5c1f9a0d7e2b44c8a6f3", int(time.time())),
            },
        )
        assert hmac_signed.status_code == 202
        assert send(hook.client, signed["text"], None).status_code == 401


def test_the_public_key_setting_names_what_is_wrong(tmp_path: Path):
    site = hook_site(tmp_path / "site")
    toml = (site / "sitegen.toml").read_text()
    (site / "sitegen.toml").write_text(toml + 'public_key = "missing.pem"\n')
    with pytest.raises(ConfigError, match=r"hook.public_key names .*missing.pem, which cannot"):
        load_config(site, env={})
    (site / "sitegen.toml").write_text(toml + 'public_key = "-----BEGIN PUBLIC KEY-----\\nxx"\n')
    pem = load_config(site, env={}).hook.public_key
    with pytest.raises(ConfigError, match=r"hook\.public_key cannot be read as a public key"):
        HookAuth.from_env({}, pem)
    # the public-keys.json document itself is accepted too
    _, public = key_pair()
    document = json.dumps({"signing-key": public})
    assert HookAuth.from_env({}, document).public_key is not None


@settings(max_examples=40, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**60), 2**60)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.text(max_size=6) | st.from_regex(r"[0-9]{1,3}", fullmatch=True),
                children,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_js_stringify_writes_what_node_writes(value):
    text = json.dumps(value)  # what arrives; Node parses it and writes it again
    done = subprocess.run(
        [
            node(),
            "-e",
            "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>process.stdout.write(JSON.stringify(JSON.parse(s))))",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert js_stringify(json.loads(text)) == done.stdout


# -- releases ---------------------------------------------------------------------------------


def release_event(n: int, release: str = "blt_release_1") -> dict[str, Any]:
    payload = event(f"post{n % 3}", n=n)
    payload["source"] = {"type": "release", "uid": release, "title": "Spring launch"}
    return payload


def test_a_release_delivered_item_by_item_is_one_build(tmp_path: Path):
    site = hook_site(tmp_path / "site")  # [hook] debounce = 0.3
    with serving(site) as hook:
        hook.server.max_delay = 0.8  # a steady stream is cut into builds this often…
        hook.server.release_wait = 20  # …unless it is one release being delivered
        post_all = [release_event(n) for n in range(9)]
        for payload in post_all:
            assert post(hook.client, payload).status_code == 202
            time.sleep(0.2)  # 1.8 s of deliveries, never 0.3 s of quiet
        status = hook.wait_builds(1)
        assert status["builds"] == 1, status
        assert status["last_build"]["releases"] == [
            {"uid": "blt_release_1", "title": "Spring launch", "events": 9}
        ]
        started = [r for r in hook.records if r["event"] == "build" and r["outcome"] == "started"]
        assert started[0]["events"] == 9
        assert "through release blt_release_1" in started[0]["first"]

        # the same stream without a release is cut at max_delay: more than one build
        for n in range(9):
            assert post(hook.client, event(f"post{n % 3}", n=20 + n)).status_code == 202
            time.sleep(0.2)
        time.sleep(0.5)  # past the debounce: the last of them is queued or building
        status = wait_for(lambda: built(hook.server.status(), 2), "the builds")
        assert status["builds"] >= 3, status
