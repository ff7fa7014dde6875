"""The dev server: build, serve the output, rebuild on change, reload open pages.

:class:`DevServer` ties four parts together, each on its own thread so that tests can start it
on port 0 and stop it again:

- **uvicorn** serves a small Starlette app (:func:`create_app`): the files of the output folder
  (pretty URLs, the site's ``404.html``, nothing outside the folder), and server-sent events
  at :data:`EVENTS_PATH`. HTML responses get one ``<script>`` tag added *as they are served*;
  the files on disk stay exactly what ``sitegen build`` writes.
- **watchers** (watchfiles): the templates, static and local stack folders recursively, and
  the site folder itself for ``sitegen.toml`` only. The output and state folders, the stack
  history file and editor droppings are ignored.
- **the build thread** runs :func:`sitegen.build.build_site`, one build at a time. File events
  only mark the site dirty, so a burst of changes (or changes made while a build runs) costs
  one more build, not one each. Each build reloads ``sitegen.toml`` first; when that or the
  build fails, the last good site stays served and the error goes to the terminal and to
  every open page, as an overlay, until a build succeeds.
- **the event hub** holds what pages need to know: the *generation* of the output (it changes
  whenever a build changed a file) and the last error. A page is served with the generation
  it shows; when the stream reports another one, the page reloads itself.

Until a build has succeeded (the first one is still running, or failed), a request the output
cannot answer gets a *building page* (503, Retry-After) instead of a 404: the site's name and
folder, the running build's phase and count, the error of a failed build, and a script that
loads the page asked for as soon as a build succeeds.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager as ContextManager
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route
from watchfiles import Change, DefaultFilter, watch

from sitegen.config import SiteConfig, load_config
from sitegen.errors import SitegenError
from sitegen.server.listen import bind, is_loopback
from sitegen.source.progress import Progress

EVENTS_PATH = "/__sitegen/events"
SCRIPT_PATH = "/__sitegen/reload.js"
BUILDING_SCRIPT_PATH = "/__sitegen/building.js"
HEARTBEAT_SECONDS = 15.0
PROGRESS_SECONDS = 0.25  # the building page hears of a running build's count this often
NO_STORE = {"Cache-Control": "no-store"}

# Added to the page as it is served, never written to the output. Classic script (so
# document.currentScript works), external (so a page's CSP with script-src 'self' allows it).
RELOAD_JS = """\
(function () {
  "use strict";
  var script = document.currentScript;
  var generation = script ? script.getAttribute("data-generation") : null;
  var overlay = null;
  var STYLE = ":host{all:initial;display:block;position:fixed;inset:0;z-index:2147483647}" +
    ".backdrop{box-sizing:border-box;height:100%;overflow:auto;background:rgba(20,20,20,.72);" +
    "display:flex;align-items:flex-start;justify-content:center;padding:8vh 16px;" +
    "font:15px/1.5 system-ui,sans-serif}" +
    ".box{max-width:900px;width:100%;background:#fff;color:#222;border-top:6px solid #d33;" +
    "border-radius:6px;padding:18px 22px;box-shadow:0 8px 40px rgba(0,0,0,.4)}" +
    "h1{font-size:18px;margin:0 0 10px;color:#b00}" +
    "pre{white-space:pre-wrap;word-break:break-word;background:#fdf2f2;padding:12px;" +
    "margin:0 0 10px;font:14px/1.45 ui-monospace,monospace}" +
    "p{margin:0;color:#555}";

  function show(message) {
    if (!overlay) {
      overlay = document.createElement("sitegen-error-overlay");
      var root = overlay.attachShadow({ mode: "open" });
      var style = document.createElement("style");
      style.textContent = STYLE;
      var backdrop = document.createElement("div");
      backdrop.className = "backdrop";
      var box = document.createElement("div");
      box.className = "box";
      box.setAttribute("role", "alertdialog");
      box.setAttribute("aria-label", "sitegen build error");
      var title = document.createElement("h1");
      title.textContent = "sitegen: the last build failed";
      var pre = document.createElement("pre");
      var hint = document.createElement("p");
      hint.textContent = "This page is from the last good build. " +
        "Fix the error and save: the page updates by itself.";
      box.append(title, pre, hint);
      backdrop.append(box);
      root.append(style, backdrop);
      (document.body || document.documentElement).append(overlay);
    }
    overlay.shadowRoot.querySelector("pre").textContent = message;  // text, never markup
  }

  function hide() {
    if (overlay) {
      overlay.remove();
      overlay = null;
    }
  }

  var source = new EventSource("__EVENTS_PATH__");
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    if (state.generation !== generation) {
      source.close();
      location.reload();
    } else if (state.error) {
      show(state.error);
    } else {
      hide();
    }
  };
  window.addEventListener("pagehide", function () { source.close(); });
})();
""".replace("__EVENTS_PATH__", EVENTS_PATH)

# The building page's script: the running build's phase and count, the error of a failed one,
# and the page asked for once a build succeeds (a reload: the server answers it from then on).
BUILDING_JS = """\
(function () {
  "use strict";
  var phase = document.getElementById("sitegen-phase");
  var failed = document.getElementById("sitegen-failed");
  var source = new EventSource("__EVENTS_PATH__");
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    if (state.ready) {
      source.close();
      location.reload();
      return;
    }
    phase.textContent = state.status;
    failed.hidden = !state.error;
    failed.querySelector("pre").textContent = state.error || "";  // text, never markup
  };
  window.addEventListener("pagehide", function () { source.close(); });
})();
""".replace("__EVENTS_PATH__", EVENTS_PATH)

_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_HTML_END = re.compile(rb"</html\s*>", re.IGNORECASE)
_HISTORY_FILE = re.compile(r"^\..+\.history\.sqlite")
_SCRATCH = re.compile(r"^\..+\.(staging|overlay|old)-\d+")


# -- what open pages are told ---------------------------------------------------------------------


class EventHub:
    """The output's generation and the last build error, pushed to every open page.

    ``publish`` is called from the build thread; ``subscribe`` runs on the server's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._boot = secrets.token_hex(4)  # a restarted server never repeats a generation
        self._count = 0
        self._error: str | None = None
        self._ready = False  # a build succeeded: the output answers from now on
        self._phase: str | None = None  # the running build's, while none has succeeded yet
        self._done = 0
        self._total: int | None = None
        self._sent = 0.0  # when the count last went out
        self._closed = False
        self._subscribers: dict[asyncio.Queue, asyncio.AbstractEventLoop] = {}

    @property
    def generation(self) -> str:
        with self._lock:
            return self._generation()

    def _generation(self) -> str:
        return f"{self._boot}.{self._count}"

    @property
    def listeners(self) -> int:
        """How many event streams are open."""
        with self._lock:
            return len(self._subscribers)

    @property
    def ready(self) -> bool:
        """Whether a build has succeeded since the server started."""
        with self._lock:
            return self._ready

    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._state()

    def _state(self) -> dict[str, Any]:
        state = {"generation": self._generation(), "error": self._error}
        if not self._ready:  # what the building page shows
            state.update(ready=False, status=self._status())
        else:
            state["ready"] = True
        return state

    def _status(self) -> str:
        if self._phase is None:
            return "Waiting for a change to build again" if self._error else "Starting"
        if self._total:
            return f"{self._phase}: {self._done} of {self._total}"
        return f"{self._phase}: {self._done}" if self._done else self._phase

    def building(self, phase: str, total: int | None = None) -> None:
        """A build started a phase (``start`` of its progress)."""
        with self._lock:
            self._phase, self._done, self._total = phase, 0, total
            if not self._ready:
                self._sent = time.monotonic()
                self._broadcast(self._state())

    def advance(self, n: int = 1) -> None:
        """A build went ``n`` further in its phase; told a few times a second at most."""
        with self._lock:
            self._done += n
            if not self._ready and time.monotonic() - self._sent >= PROGRESS_SECONDS:
                self._sent = time.monotonic()
                self._broadcast(self._state())

    def publish(self, *, changed: bool, error: str | None) -> None:
        """A build ended: ``changed`` when it changed the output, ``error`` when it failed."""
        with self._lock:
            if changed:
                self._count += 1
            self._error = error
            self._ready = self._ready or error is None
            self._phase = None
            self._broadcast(self._state())

    def close(self) -> None:
        """End every event stream (the server is stopping) and refuse new ones."""
        with self._lock:
            self._closed = True
            self._broadcast(None)

    def _broadcast(self, message: dict[str, Any] | None) -> None:
        for queue, loop in list(self._subscribers.items()):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, message)
            except RuntimeError:  # that loop is closed: the connection is gone
                self._subscribers.pop(queue, None)

    async def subscribe(self) -> AsyncIterator[dict[str, Any] | None]:
        """The current state, then every change; None now and then as a heartbeat."""
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:
            if self._closed:
                return
            self._subscribers[queue] = asyncio.get_running_loop()
            first = self._state()
        try:
            yield first
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield None
                    continue
                if message is None:
                    return
                yield message
        finally:
            with self._lock:
                self._subscribers.pop(queue, None)


# -- serving the output ---------------------------------------------------------------------------


def resolve_path(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None.

    ``/a/b`` is ``a/b`` or ``a/b/index.html``; ``/a/b/`` is ``a/b/index.html``. ``..``,
    backslashes and NUL are refused outright, and a candidate whose real path (symlinks
    followed) leaves ``root`` is never served.
    """
    parts = url_path.split("/")
    if any(p == ".." or "\\" in p or "\0" in p for p in parts):
        return None
    kept = [p for p in parts if p not in ("", ".")]
    if not kept or url_path.endswith("/"):
        candidates = ["/".join([*kept, "index.html"])]
    else:
        candidates = ["/".join(kept), "/".join([*kept, "index.html"])]
    try:
        real_root = root.resolve(strict=True)
    except OSError:
        return None
    for candidate in candidates:
        try:
            real = (real_root / candidate).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            continue
        if real.is_relative_to(real_root) and real.is_file():
            return real
    return None


def inject_script(page: bytes, generation: str) -> bytes:
    """``page`` with the reload script added before ``</body>`` (or ``</html>``, or at the end)."""
    tag = f'<script src="{SCRIPT_PATH}" data-generation="{html.escape(generation)}"></script>'
    data = tag.encode("ascii")
    for pattern in (_BODY_END, _HTML_END):
        matches = list(pattern.finditer(page))
        if matches:
            at = matches[-1].start()
            return page[:at] + data + page[at:]
    return page + data


def _builtin_404(url_path: str, output: Path) -> bytes:
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not found</title>'
        '<body style="font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:40em">'
        "<h1>404: not found</h1>"
        f"<p>Nothing in <code>{html.escape(str(output))}</code> answers "
        f"<code>{html.escape(url_path)}</code>.</p>"
        "<p>Add a <code>404.html</code> to the site to replace this page.</p></body></html>"
    ).encode()


def _building_page(config: SiteConfig | None, state: dict[str, Any]) -> bytes:
    """What a page request gets until a build succeeds: the build's phase, or its error."""
    e = html.escape
    name = config.title if config is not None and config.title else "the site"
    folder = f" in <code>{e(str(config.root))}</code>" if config is not None else ""
    error = state["error"] or ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Building {e(name)}…</title>"
        '<noscript><meta http-equiv="refresh" content="2"></noscript>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        '<body style="font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:46em;'
        'padding:0 1em;color:#222">'
        f"<h1>Building {e(name)}…</h1>"
        f"<p>sitegen is building the site{folder}. This page turns into the page you asked "
        "for as soon as a build succeeds.</p>"
        f'<p id="sitegen-phase" role="status" style="color:#555">{e(state["status"])}</p>'
        f'<section id="sitegen-failed"{"" if error else " hidden"} '
        'style="border-top:6px solid #d33;padding-top:.5em">'
        '<h2 style="font-size:18px;color:#b00;margin:0 0 .5em">The build failed</h2>'
        '<pre style="white-space:pre-wrap;word-break:break-word;background:#fdf2f2;'
        f'padding:12px;font:14px/1.45 ui-monospace,monospace">{e(error)}</pre>'
        "<p>Fix it and save: sitegen builds again, and this page follows.</p></section>"
        f'<script src="{BUILDING_SCRIPT_PATH}"></script></body></html>'
    ).encode()


def _wants_html(request: Request) -> bool:
    """A page (a browser's navigation, or a path that names one), not a style sheet or image."""
    if request.headers.get("sec-fetch-dest") in ("document", "iframe", "frame"):
        return True
    if "text/html" in request.headers.get("accept", ""):
        return True
    return Path(request.scope["path"]).suffix.lower() in ("", ".html", ".htm")


def create_app(
    output: Callable[[], Path],
    hub: EventHub,
    site_config: Callable[[], SiteConfig | None] = lambda: None,
) -> Starlette:
    """The dev server's ASGI app; ``output()`` names the folder to serve at each request,
    ``site_config()`` the site the building page names."""

    def html_response(path: Path, status: int = 200) -> Response:
        page = inject_script(path.read_bytes(), hub.generation)
        return Response(page, status, headers=NO_STORE, media_type="text/html; charset=utf-8")

    def site(request: Request) -> Response:
        url_path = request.scope["path"]
        root = output()
        found = resolve_path(root, url_path)
        if found is not None:
            if found.suffix.lower() in (".html", ".htm"):
                return html_response(found)
            return FileResponse(found, headers=NO_STORE)
        if not hub.ready:  # no build has succeeded yet: not a 404 (yet), the site is building
            unavailable = {**NO_STORE, "Retry-After": "1"}
            state = hub.state()
            if _wants_html(request):
                page = _building_page(site_config(), state)
                return Response(page, 503, unavailable, "text/html; charset=utf-8")
            text = state["error"] or f"sitegen is building the site ({state['status']})"
            return Response(text + "\n", 503, unavailable, "text/plain; charset=utf-8")
        not_found = resolve_path(root, "/404.html")
        if not_found is not None:
            return html_response(not_found, 404)
        page = inject_script(_builtin_404(url_path, root), hub.generation)
        return Response(page, 404, headers=NO_STORE, media_type="text/html; charset=utf-8")

    def script(request: Request) -> Response:
        return Response(RELOAD_JS, headers=NO_STORE, media_type="text/javascript")

    def building_script(request: Request) -> Response:
        return Response(BUILDING_JS, headers=NO_STORE, media_type="text/javascript")

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            yield "retry: 1000\n\n"
            async for message in hub.subscribe():
                if message is None:
                    yield ": heartbeat\n\n"
                else:
                    yield f"data: {json.dumps(message)}\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={**NO_STORE, "X-Accel-Buffering": "no"},
        )

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events),
            Route(SCRIPT_PATH, script),
            Route(BUILDING_SCRIPT_PATH, building_script),
            Route("/{path:path}", site),
        ]
    )


# -- watching -------------------------------------------------------------------------------------


class _SiteFilter(DefaultFilter):
    """watchfiles' defaults (editor droppings, .git, …) minus what builds themselves write."""

    def __init__(self, config: SiteConfig):
        super().__init__()
        self.ignored = tuple(
            p
            for p in (
                config.output,
                config.state_dir,
                config.preview.output if config.preview else None,
                config.preview.state_dir if config.preview else None,
            )
            if p is not None
        )

    def __call__(self, change: Change, path: str) -> bool:
        p = Path(path)
        if _HISTORY_FILE.match(p.name) or any(_SCRATCH.match(part) for part in p.parts):
            return False
        if any(p == d or p.is_relative_to(d) for d in self.ignored):
            return False
        return super().__call__(change, path)


def watched_folders(config: SiteConfig) -> tuple[Path, ...]:
    """The folders whose changes call for a rebuild (outermost only, existing only)."""
    folders = [config.templates, config.static, config.stack.local]
    found: list[Path] = []
    for folder in sorted({f for f in folders if f is not None and f.is_dir()}):
        if not any(folder.is_relative_to(outer) for outer in found):
            found.append(folder)
    return tuple(found)


def _watch_key(config: SiteConfig) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """What the folder watcher depends on: a change restarts it."""
    return watched_folders(config), _SiteFilter(config).ignored


class _Either:
    """A stop event for watchfiles that is set when either of two events is."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()


# -- the server -----------------------------------------------------------------------------------


class DevServer:
    """Build ``site_dir``, serve its output on host:port, rebuild and reload on change.

    ``start()`` returns once the server listens and the watchers run (the first build then runs
    in the background); ``stop()`` stops everything and waits for a running build to end.
    ``echo(message, err=False)`` prints (click.echo by default); ``env`` goes to ``load_config``;
    ``progress(quiet)`` makes the display of a build's progress (the CLI's terminal one; none by
    default), called with ``quiet=True`` after the first build.
    """

    def __init__(
        self,
        site_dir: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        env: dict[str, str] | None = None,
        echo: Callable[..., None] = click.echo,
        progress: Callable[[bool], ContextManager[Any]] | None = None,
    ):
        self.site_dir = Path(site_dir)
        self.progress = progress
        self.host = host
        self.port = port
        self.env = env
        self.echo = echo
        self.hub = EventHub()
        self.config: SiteConfig | None = None
        self.serving: Path | None = None  # the output of the last good build (or the first)
        self.url = ""
        self.builds = 0  # builds finished, good or bad
        self.last_error: str | None = None
        self._cond = threading.Condition()
        self._dirty = False
        self._building = False
        self._stopping = threading.Event()
        self._rewatch = threading.Event()
        self._threads: list[threading.Thread] = []
        self._uvicorn: Any = None

    # -- lifecycle

    def start(self) -> str:
        """Load the configuration, listen, start watching and queue the first build."""
        import uvicorn

        self.config = load_config(self.site_dir, self.env)  # an invalid one stops us here
        self.serving = self.config.output
        sock = bind(self.host, self.port)
        bound, self.port = sock.getsockname()[:2]
        if not is_loopback(bound):
            self.echo(
                click.style("warning: ", fg="yellow", bold=True)
                + f"listening on {bound}, not on loopback: other machines can reach this "
                "server and the unpublished site it serves",
                err=True,
            )
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bound, bound)
        self.url = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}/"

        app = create_app(self._output, self.hub, lambda: self.config)
        config = uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=3,
        )
        self._uvicorn = uvicorn.Server(config)
        ready = [threading.Event(), threading.Event()]
        self._spawn("sitegen-dev-http", self._uvicorn.run, [sock])
        self._spawn("sitegen-dev-build", self._build_loop)
        self._spawn("sitegen-dev-watch", self._watch_folders, ready[0])
        self._spawn("sitegen-dev-watch-config", self._watch_config, ready[1])
        deadline = time.monotonic() + 10
        while not (self._uvicorn.started and all(r.is_set() for r in ready)):
            if time.monotonic() > deadline or not self._threads[0].is_alive():
                self.stop()
                raise SitegenError(f"the dev server did not start on {self.url}")
            time.sleep(0.01)
        self.request_build()
        return self.url

    def stop(self) -> None:
        """Stop watching, serving and building; waits for a build that is running to end."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.hub.close()  # event streams end, so uvicorn need not wait for them
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        with self._cond:
            building = self._building
            self._cond.notify_all()
        if building:
            self.echo("waiting for the running build to finish…", err=True)
        for thread in self._threads:
            thread.join()

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        while not self._stopping.wait(0.25):
            if self._threads and not self._threads[0].is_alive():
                raise SitegenError("the HTTP server stopped unexpectedly")

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[..., Any], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _output(self) -> Path:
        assert self.serving is not None
        return self.serving

    # -- building

    def request_build(self) -> None:
        """Mark the site dirty: the build thread builds once more, soon."""
        with self._cond:
            self._dirty = True
            self._cond.notify_all()

    def wait_for_builds(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` builds have finished; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self.builds >= count, timeout)

    def _build_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._stopping.is_set())
                if self._stopping.is_set():
                    return
                self._dirty = False
                self._building = True
            try:
                self._build_once(first=self.builds == 0)
            finally:
                with self._cond:
                    self._building = False
                    self.builds += 1
                    self._cond.notify_all()

    def _build_once(self, first: bool) -> None:
        from sitegen.build import build_site

        try:
            config = load_config(self.site_dir, self.env)
            if self.config is None or _watch_key(config) != _watch_key(self.config):
                self._rewatch.set()
            self.config = config
            self.hub.building("Starting")
            with self.progress(not first) if self.progress else nullcontext() as progress:
                result = build_site(config, progress=_Reporting(progress, self.hub))
        except SitegenError as err:
            self._failed(str(err))
            return
        except Exception as err:  # a bug: keep serving, but show where it happened
            traceback.print_exc()
            self._failed(f"unexpected {type(err).__name__}: {err}")
            return
        self.last_error = None
        self.serving = config.output  # a new site.output is served once it holds a good build
        self.hub.publish(changed=bool(result.added or result.changed or result.removed), error=None)
        text = result.summary()
        self.echo(text if first else f"{_now()} {text.splitlines()[0]}")

    def _failed(self, message: str) -> None:
        self.last_error = message
        self.hub.publish(changed=False, error=message)
        self.echo(f"{_now()} " + click.style("error: ", fg="red", bold=True) + message, err=True)

    # -- watching

    def _watch_folders(self, ready: threading.Event) -> None:
        """Templates, static and stack folders, recursively; restarted when they change."""
        while not self._stopping.is_set():
            self._rewatch.clear()
            config = self.config
            assert config is not None
            folders = watched_folders(config)
            if not folders:
                ready.set()
                self._rewatch.wait(0.5)
                continue
            changes = watch(
                *folders,
                watch_filter=_SiteFilter(config),
                stop_event=_Either(self._stopping, self._rewatch),
                rust_timeout=250,
                yield_on_timeout=True,  # an empty set first says the watcher is in place
                raise_interrupt=False,
                ignore_permission_denied=True,
            )
            try:
                for found in changes:
                    ready.set()
                    if found:
                        self.request_build()
            except OSError as err:  # a watched folder vanished: try again shortly
                ready.set()
                self.echo(f"{_now()} watching {', '.join(map(str, folders))}: {err}", err=True)
                self._stopping.wait(1)

    def _watch_config(self, ready: threading.Event) -> None:
        """The site folder, not recursively, for sitegen.toml (editors replace files)."""
        assert self.config is not None
        root, config_file = self.config.root, self.config.config_file
        changes = watch(
            root,
            watch_filter=lambda change, path: Path(path) == config_file,
            stop_event=self._stopping,
            rust_timeout=250,
            yield_on_timeout=True,
            raise_interrupt=False,
            recursive=False,
            ignore_permission_denied=True,
        )
        for found in changes:
            ready.set()
            if found:
                self.request_build()


class _Reporting:
    """A build's progress, to the terminal (when shown there) and to the building page."""

    def __init__(self, inner: Progress | None, hub: EventHub):
        self.inner = inner
        self.hub = hub

    def start(self, phase: str, total: int | None = None) -> None:
        self.hub.building(phase, total)
        if self.inner is not None:
            self.inner.start(phase, total)

    def advance(self, n: int = 1) -> None:
        self.hub.advance(n)
        if self.inner is not None:
            self.inner.advance(n)

    def warn(self, message: str) -> None:
        if self.inner is not None:
            self.inner.warn(message)


def _now() -> str:
    return click.style(time.strftime("%H:%M:%S"), dim=True)
