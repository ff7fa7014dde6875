"""Revalidating Contentstack Launch's CDN cache for what a build changed.

A redeploy purges a Launch environment's whole CDN cache (Launch docs, "Revalidate CDN
Cache"), so a site deployed to Launch on every change needs nothing more. This is for a Launch
environment that serves pages it does not redeploy, such as pages fetched through an edge
rewrite from the origin ``sitegen hook serve`` updates: after a build, the pages it changed or
removed are revalidated through the Launch API
(``POST /projects/{project}/environments/{environment}/revalidate-cdn-cache``, one strategy per
request: ``{"cachePath": {"path", "isPrefix"}}``, Contentstack's ``contentstack-launch`` agent
skill, sourced from the Launch API docs). Added pages need none: Launch never caches a 404.

Every request counts against Launch's daily quota (500 a day per organization, 2,000 on
Enterprise; "Platform Limits on Launch"), so a build sends at most ``max_revalidations``
requests: when more paths changed, they are merged into the deepest common prefixes that fit
(an author rename touching 500 posts becomes a prefix or two, never 500 requests). The day's
count is kept in the state folder and checked against the API's own usage figures when it
answers them. What could not be sent (quota reached, the API failing after retries) is kept
and sent with the next build: never dropped silently.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from sitegen.config import SiteConfig
from sitegen.errors import ConfigError

TOKEN_ENV = "CONTENTSTACK_AUTHTOKEN"  # the Launch API's authtoken (with organization_uid)
STATE_NAME = "launch-revalidation.json"
TRIES = 3


@dataclass(frozen=True)
class Target:
    """One revalidation request: a path, or every path under a prefix."""

    path: str
    prefix: bool

    def body(self) -> dict[str, Any]:
        return {"cachePath": {"path": self.path, "isPrefix": self.prefix}}


@dataclass
class RevalidationOutcome:
    ok: bool
    message: str
    targets: list[Target] = field(default_factory=list)
    pending: int = 0  # paths kept for the next build

    def record(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "message": self.message,
            "requests": len(self.targets),
            "targets": [t.path + ("*" if t.prefix else "") for t in self.targets],
            "pending": self.pending,
        }


def url_path(file: str) -> str:
    """The URL path a file of the output answers: ``blog/x/index.html`` → ``/blog/x/``."""
    file = file.replace("\\", "/").lstrip("/")
    if file == "index.html":
        return "/"
    if file.endswith("/index.html"):
        return "/" + file[: -len("index.html")]
    return "/" + file


def changed_paths(changed: Iterable[str], removed: Iterable[str]) -> list[str]:
    """The URL paths to revalidate after a build: changed and removed files (not added ones:
    Launch never caches a 404, so a new page has nothing stale to replace)."""
    return sorted({url_path(f) for f in (*changed, *removed)})


def plan(paths: Iterable[str], max_requests: int) -> list[Target]:
    """At most ``max_requests`` targets covering ``paths``: each path exactly when they fit;
    else folders replace their paths, the folder covering the most items first (deeper ones
    on ties), until few enough remain (at worst ``/`` and everything under it)."""
    unique = sorted(set(paths))
    if not unique or max_requests < 1:
        return []
    # an item: the path's segments, and whether it stands for everything under them
    items: set[tuple[tuple[str, ...], bool]] = {
        (tuple(s for s in p.split("/") if s), False) for p in unique
    }
    exact_paths = {tuple(s for s in p.split("/") if s): p for p in unique}
    while len(items) > max_requests:
        parents: dict[tuple[str, ...], int] = {}
        for segments, _ in items:
            if segments:
                parent = segments[:-1]
                parents[parent] = parents.get(parent, 0) + 1
        if not parents:
            break
        folder = max(parents, key=lambda f: (parents[f], len(f)))
        items = {i for i in items if i[0][: len(folder)] != folder or (i[0] == folder and not i[1])}
        items.discard((folder, False))  # the folder's own page is under the prefix too
        items.add((folder, True))
    if len(items) > max_requests:
        return [Target("/", True)]
    targets = []
    for segments, prefix in items:
        if prefix:
            targets.append(Target("/" + "".join(s + "/" for s in segments), True))
        else:
            targets.append(Target(exact_paths[segments], False))
    return sorted(targets, key=lambda t: t.path)


class LaunchRevalidator:
    """Revalidates what builds changed, within the per-build and daily limits; ``__call__``
    takes a build's changed and removed files."""

    def __init__(
        self,
        config: SiteConfig,
        env: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        launch = config.launch
        assert launch is not None and launch.revalidates
        token = env.get(TOKEN_ENV)
        if not token:
            raise ConfigError(
                f"[launch] project_uid is set, so CDN revalidation needs {TOKEN_ENV} (an authtoken "
                "of a user who may manage the Launch project); set it, or remove project_uid"
            )
        self.launch = launch
        self.token = token
        self.state_file = config.state_dir / STATE_NAME
        self.clock, self.sleep = clock, sleep
        self.client = httpx.Client(
            base_url=launch.api_host,
            headers={
                "authtoken": token,
                "organization_uid": launch.organization_uid or "",
                "content-type": "application/json",
            },
            timeout=30,
            transport=transport,
            follow_redirects=False,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    def close(self) -> None:
        self.client.close()

    def __call__(self, changed: Iterable[str], removed: Iterable[str]) -> RevalidationOutcome:
        state = self._state()
        paths = sorted({*state["pending"], *changed_paths(changed, removed)})
        if not paths:
            return RevalidationOutcome(True, "nothing changed: nothing to revalidate")
        allowed = min(self.launch.max_revalidations, self._remaining(state))
        if allowed <= 0:
            state["pending"] = paths
            self._save(state)
            return RevalidationOutcome(
                False,
                f"the daily revalidation quota is used up; {len(paths)} path(s) kept for the "
                "next build",
                pending=len(paths),
            )
        targets = plan(paths, allowed)
        done: list[Target] = []
        failure = None
        for target in targets:
            failure = self._send(target)
            if failure:
                break
            done.append(target)
            state["used"] += 1
        covered = [p for p in paths if any(_covers(t, p) for t in done)]
        state["pending"] = [p for p in paths if p not in set(covered)]
        self._save(state)
        if failure:
            return RevalidationOutcome(
                False,
                f"revalidation failed: {failure}; {len(state['pending'])} path(s) kept for the "
                "next build",
                done,
                len(state["pending"]),
            )
        return RevalidationOutcome(
            True, f"revalidated {len(paths)} path(s) in {len(done)} request(s)", done
        )

    # -- the API -----------------------------------------------------------------------------

    def _send(self, target: Target) -> str | None:
        """POST one revalidation, retrying 429 (Retry-After), 5xx and network errors; None when
        it succeeded, else why not (never the token)."""
        url = (
            f"/projects/{self.launch.project_uid}/environments/{self.launch.environment_uid}"
            "/revalidate-cdn-cache"
        )
        why = ""
        for attempt in range(TRIES):
            try:
                response = self.client.post(url, content=json.dumps(target.body()))
            except httpx.HTTPError as err:
                why = f"{type(err).__name__} reaching {self.launch.api_host}"
            else:
                if response.is_success:
                    return None
                why = f"HTTP {response.status_code} from POST {url}: {_said(response)}"
                if response.status_code not in (429, 500, 502, 503, 504):
                    return why
                wait = _retry_after(response)
                if wait is not None and attempt < TRIES - 1:
                    self.sleep(min(wait, 30))
                    continue
            if attempt < TRIES - 1:
                self.sleep(0.5 * 2**attempt)
        return why

    def _remaining(self, state: dict[str, Any]) -> int:
        """Requests left today: the API's figure when it gives one, else our own count."""
        local = self.launch.daily_revalidations - state["used"]
        try:
            response = self.client.get("/usage-analytics/revalidate-cdn-cache")
            data = response.json() if response.is_success else {}
        except (httpx.HTTPError, ValueError):
            data = {}
        current, most = data.get("currentCacheRevalidations"), data.get("maxCacheRevalidations")
        if isinstance(current, int) and isinstance(most, int):
            return min(local, most - current)
        return local

    # -- state ---------------------------------------------------------------------------------

    def _today(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")

    def _state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        pending = [p for p in state.get("pending", []) if isinstance(p, str)]
        used = state.get("used") if state.get("day") == self._today() else 0
        return {
            "day": self._today(),
            "used": used if isinstance(used, int) else 0,
            "pending": pending,
        }

    def _save(self, state: dict[str, Any]) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(f"{self.state_file}.tmp")
        temporary.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        temporary.replace(self.state_file)


def _covers(target: Target, path: str) -> bool:
    return path.startswith(target.path) if target.prefix else path == target.path


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _said(response: httpx.Response) -> str:
    """What an error answer said, as one short line of text."""
    try:
        data = response.json()
        text = data.get("error_message") or data.get("message") or data.get("error") or ""
    except (ValueError, AttributeError):
        text = response.text
    text = " ".join(str(text).split())
    return text[:200] or response.reason_phrase
