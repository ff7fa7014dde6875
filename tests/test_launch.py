"""Contentstack Launch: launch.json from [launch], CDN revalidation after webhook builds, and
Launch deploy hooks as the deploy target of ``sitegen hook serve``.

A stand-in for the Launch API (revalidation and usage endpoints, shapes from Contentstack's
Launch API docs as its ``contentstack-launch`` agent skill records them) and for a Launch deploy
hook runs on a loopback port; the hook server builds the fixture site for real.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import ConfigError
from sitegen.server.launch import Target, changed_paths, plan
from tests.sites import make_site, serve_app, write_json
from tests.test_hook_server import edit_post, event, post, serving, wait_for

TOKEN = "blt_authtoken_5e1d0c"
PROJECT, ENVIRONMENT, ORG = "prj_1", "env_1", "org_1"


class FakeLaunch:
    """What the Launch API and a deploy hook received; ``fail`` answers the next N
    revalidations with this status."""

    def __init__(self) -> None:
        self.revalidations: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.hooks: list[Any] = []
        self.fail: list[int] = []
        self.used, self.max = 0, 500
        self.lock = threading.Lock()

    def app(self) -> Starlette:
        async def revalidate(request: Request):
            assert request.path_params == {"project": PROJECT, "environment": ENVIRONMENT}
            with self.lock:
                self.headers.append(dict(request.headers))
                if self.fail:
                    return JSONResponse({"error_message": "try later"}, self.fail.pop(0))
                self.revalidations.append(await request.json())
                self.used += 1
            return JSONResponse({"message": "Revalidation initiated"})

        async def usage(request: Request):
            return JSONResponse(
                {"currentCacheRevalidations": self.used, "maxCacheRevalidations": self.max}
            )

        async def deploy_hook(request: Request):
            self.hooks.append(await request.body())
            return JSONResponse({"message": "Deployment triggered"})

        return Starlette(
            routes=[
                Route(
                    "/projects/{project}/environments/{environment}/revalidate-cdn-cache",
                    revalidate,
                    methods=["POST"],
                ),
                Route("/usage-analytics/revalidate-cdn-cache", usage),
                Route("/deploy-hook/abc", deploy_hook, methods=["POST"]),
            ]
        )


@contextmanager
def launch_site(
    tmp_path: Path, *, posts: int = 3, extra: str = ""
) -> Iterator[tuple[Path, FakeLaunch, str]]:
    fake = FakeLaunch()
    with serve_app(fake.app()) as url:
        site = make_site(tmp_path / "site", posts=posts)
        with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
            f.write(
                f'\n[launch]\nproject_uid = "{PROJECT}"\nenvironment_uid = "{ENVIRONMENT}"\n'
                f'organization_uid = "{ORG}"\napi_host = "{url}"\n{extra}'
                f'\n[hook]\nbuild_hook_url = "{url}/deploy-hook/abc"\ndebounce = 0.2\n'
            )
        assert build_site(load_config(site, env={})).kind == "full"
        yield site, fake, url


def settled(hook, n: int) -> dict[str, Any]:
    def done():
        s = hook.server.status()
        return s if s["builds"] >= n and not s["building"] and s["queue"] == 0 else None

    return wait_for(done, f"{n} build(s)")


def rename_author(site: Path, name: str) -> None:
    path = site / "stack/entries/author/ada.en-us.json"
    data = json.loads(path.read_text())
    data["title"] = name
    write_json(path, data)


def test_a_one_post_edit_revalidates_its_pages_and_deploys_through_the_launch_hook(
    tmp_path: Path,
):
    with launch_site(tmp_path) as (site, fake, _):
        edit_post(site, "Edited on Launch")
        env = {"CONTENTSTACK_AUTHTOKEN": TOKEN}
        with serving(site, env=env) as hook:
            assert post(hook.client, event()).status_code == 202
            status = settled(hook, 1)
            assert len(fake.hooks) == 1  # the Launch deploy hook, POSTed once
            last = status["last_build"]
            assert last["deploy"]["result"] == "ok"
            assert last["revalidate"]["ok"] is True
            revalidated = {r["cachePath"]["path"] for r in fake.revalidations}
            # the post in both locales, and what lists it: exact paths, no prefixes
            assert {"/posts/post-0/", "/fr/posts/post-0/"} <= revalidated
            assert all(r["cachePath"]["isPrefix"] is False for r in fake.revalidations)
            assert len(fake.revalidations) == last["revalidate"]["requests"] <= 10
            assert fake.headers[0]["authtoken"] == TOKEN
            assert fake.headers[0]["organization_uid"] == ORG
            assert TOKEN not in json.dumps(hook.records) and TOKEN not in json.dumps(status)

            # a delivery that changes nothing: no deploy, no revalidation
            count = len(fake.revalidations)
            assert post(hook.client, event(n=7)).status_code == 202
            status = settled(hook, 2)
            assert status["last_build"]["deploy"]["result"] == "skipped"
            assert status["last_build"]["revalidate"]["requests"] == 0
            assert len(fake.revalidations) == count and len(fake.hooks) == 1


def test_an_author_rename_touching_500_pages_is_a_few_prefix_requests(tmp_path: Path):
    with launch_site(tmp_path, posts=250) as (site, fake, _):
        rename_author(site, "Ada L.")
        with serving(site, env={"CONTENTSTACK_AUTHTOKEN": TOKEN}) as hook:
            assert post(hook.client, event()).status_code == 202
            status = settled(hook, 1)
        last = status["last_build"]
        assert last["changed"] >= 500, last
        assert last["revalidate"]["ok"] and 1 <= len(fake.revalidations) <= 10
        prefixes = {
            r["cachePath"]["path"] for r in fake.revalidations if r["cachePath"]["isPrefix"]
        }
        assert ("/posts/" in prefixes and "/fr/" in prefixes) or "/fr/posts/" in prefixes, prefixes


def test_a_failing_revalidation_is_retried_reported_and_kept_for_the_next_build(tmp_path: Path):
    with launch_site(tmp_path) as (site, fake, _):
        fake.fail = [503, 503, 503]  # every try of the first request
        edit_post(site, "First")
        with serving(site, env={"CONTENTSTACK_AUTHTOKEN": TOKEN}) as hook:
            assert post(hook.client, event()).status_code == 202
            status = settled(hook, 1)
            failed = status["last_build"]["revalidate"]
            assert failed["ok"] is False and "HTTP 503" in failed["message"]
            assert failed["pending"] >= 2
            assert any(
                r["event"] == "revalidate" and r["outcome"] == "failed" for r in hook.records
            )
            assert fake.revalidations == []
            # the next build sends what the failed one could not, with its own changes
            edit_post(site, "Second", uid="post1")
            assert post(hook.client, event("post1", n=3)).status_code == 202
            status = settled(hook, 2)
            assert status["last_build"]["revalidate"]["ok"] is True
            sent = {r["cachePath"]["path"] for r in fake.revalidations}
            assert {"/posts/post-0/", "/posts/post-1/"} <= sent


def test_the_daily_quota_is_never_exceeded(tmp_path: Path):
    with launch_site(tmp_path, extra="max_revalidations = 3\n") as (site, fake, _):
        fake.used, fake.max = 499, 500  # one left today, says the API
        edit_post(site, "Near the quota")
        with serving(site, env={"CONTENTSTACK_AUTHTOKEN": TOKEN}) as hook:
            assert post(hook.client, event()).status_code == 202
            status = settled(hook, 1)
        assert len(fake.revalidations) == 1
        assert fake.revalidations[0]["cachePath"] == {"path": "/", "isPrefix": True}
        assert status["last_build"]["revalidate"]["ok"] is True


def test_revalidation_without_a_token_refuses_to_start(tmp_path: Path):
    with (
        launch_site(tmp_path) as (site, _, _),
        pytest.raises(ConfigError, match="CONTENTSTACK_AUTHTOKEN"),
        serving(site, env={}),
    ):
        pass


def test_launch_json_carries_the_redirects_and_rewrites(tmp_path: Path):
    site = make_site(tmp_path / "site")
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write(
            "\n[launch]\n"
            'redirects = [{ source = "/old/:slug", destination = "/posts/:slug/", status = 301 },'
            ' { source = "/blog", destination = "/posts/" }]\n'
            'rewrites = [{ source = "/api/:path*", destination = "https://api.example.com/:path*" }]\n'
        )
    build_site(load_config(site, env={}))
    document = json.loads((site / "public/launch.json").read_text())
    assert document == {
        "redirects": [
            {"source": "/old/:slug", "destination": "/posts/:slug/", "statusCode": 301},
            {"source": "/blog", "destination": "/posts/", "statusCode": 308},
        ],
        "rewrites": [{"source": "/api/:path*", "destination": "https://api.example.com/:path*"}],
    }
    toml = (site / "sitegen.toml").read_text()
    (site / "sitegen.toml").write_text(toml.replace("status = 301", "status = 200"))
    with pytest.raises(
        ConfigError, match=r"launch\.redirects\[0\]\.status must be 301, 302, 307 or 308"
    ):
        load_config(site, env={})


def test_plan_merges_paths_into_the_deepest_prefixes_that_fit():
    assert plan(["/a/", "/b/"], 10) == [Target("/a/", False), Target("/b/", False)]
    many = [f"/posts/p{i}/" for i in range(40)] + [f"/fr/posts/p{i}/" for i in range(40)]
    assert plan(many, 3) == [Target("/fr/posts/", True), Target("/posts/", True)]
    mixed = [*many, "/", "/about/x/y/"]
    targets = plan(mixed, 3)
    assert len(targets) <= 3
    assert all(
        any(p.startswith(t.path) if t.prefix else p == t.path for t in targets) for p in mixed
    )
    assert plan(many, 1) == [Target("/", True)]
    assert plan([], 5) == []
    assert changed_paths(["index.html", "posts/a/index.html"], ["feed.xml"]) == [
        "/",
        "/feed.xml",
        "/posts/a/",
    ]
