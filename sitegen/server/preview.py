"""``sitegen preview serve``: Live Preview for editors, a page rendered on each request.

Contentstack's entry editor shows the site in an iframe at the stack's Live Preview URL, with
``live_preview=<hash>`` (and ``content_type_uid``, ``entry_uid``, ``locale``) in the query; on
each edit, live-preview-utils (``ssr: true``) reloads the iframe with the session's new hash.
This server answers those requests: a page whose entry the request names is rendered at once
from the Preview API with that hash (``live_preview`` header and the preview token, which
stays on the server; a Timeline preview's ``preview_timestamp`` and ``release_id`` go along as
headers), everything else the page reads coming from the store of the preview build made at
start. Without a hash an entry's page is rendered from its latest draft; other pages and files
come from that build's output. Responses carry edit
tags (``cslp()``) and the live-preview-utils module, initialised with the stack's API key and
environment; production output never does.

Security: the server binds to loopback by default; anywhere else it needs a password (Basic
Auth, ``SITEGEN_PREVIEW_PASSWORD``), since it shows unpublished content. The hash and the
tokens are never logged or echoed: error pages say what went wrong in words.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hmac
import html
import json
import logging
import mimetypes
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from sitegen.build import build_site
from sitegen.build.listings import Listings
from sitegen.build.pull import stack_source
from sitegen.build.render import Renderer
from sitegen.build.template_warnings import WARNING, warning_lines
from sitegen.config import SiteConfig, for_preview
from sitegen.errors import APIError, BuildError, SitegenError
from sitegen.source.cda import CDAClient
from sitegen.store import Page, Store

log = logging.getLogger("sitegen.preview")
PASSWORD_ENV = "SITEGEN_PREVIEW_PASSWORD"
TIMELINE_PARAMS = ("preview_timestamp", "release_id")  # passed on as headers
STORE_NAME = "store.sqlite"


class PreviewSite:
    """The preview build of a site and what renders its pages on request."""

    def __init__(self, config: SiteConfig, transport: httpx.AsyncBaseTransport | None = None):
        self.config = for_preview(config)
        # a local stack is served in-process until close()
        self.resources = ExitStack()
        self.stack, self.transport = self.resources.enter_context(
            stack_source(self.config.stack, transport)
        )
        self.api_key = self.stack.api_key or ""
        # SQLite and the renderer stay on one thread: every store read and render goes there
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sitegen-preview")
        self.store: Store | None = None
        self.renderer: Renderer | None = None

    def start(self) -> None:
        """Build the drafts once (a full preview build), then open its store for requests."""
        build_site(self.config, transport=self.transport)
        self.worker.submit(self._open).result()

    def _open(self) -> None:
        store = Store(self.config.state_dir / STORE_NAME, readonly=True)
        types = frozenset(json.loads(store.meta("rendered_types") or "[]"))
        listings = Listings(self.config, store)
        renderer = Renderer(self.config, store, types, listings)
        renderer.edit_tags = True
        self.store, self.renderer = store, renderer

    def close(self) -> None:
        if self.store is not None:
            self.worker.submit(self.store.close).result()
        self.worker.shutdown()
        self.resources.close()

    async def run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def page(self, file: str) -> Page | None:
        assert self.store is not None
        return next((p for batch in self.store.graph.pages([file]) for p in batch), None)

    async def fetch_entry(
        self, page: Page, live_preview: str | None, timeline: dict[str, str]
    ) -> dict[str, Any] | None:
        """The page's entry as the editing session has it (the latest draft without a
        session), from the Preview API; ``timeline``: the ``preview_timestamp`` and
        ``release_id`` headers of a Timeline preview, as the delivery SDK sends them."""
        stack = dataclasses.replace(self.stack, live_preview=live_preview or None)
        async with CDAClient(stack, transport=self.transport) as client:
            try:
                body = await client.get(
                    f"/content_types/{page.content_type}/entries/{page.uid}",
                    client.entry_params(page.locale),
                    headers=timeline or None,
                )
            except APIError as err:
                if err.status in (404, 422):
                    return None
                raise
        entry = body.get("entry")
        if not isinstance(entry, dict):
            return None
        entry["_content_type_uid"] = page.content_type
        return entry

    def render(self, page: Page, entry: dict[str, Any]) -> str:
        assert self.renderer is not None
        html_text, deps = self.renderer.render(
            self.config.template_for(page.content_type),
            entry,
            self.renderer.locales[page.locale],
            page.url,
        )
        for line in warning_lines(key for kind, key in deps if kind == WARNING):
            log.warning("preview of %s: %s", page.file, line)
        self.renderer.flush_fragments()
        return html_text

    def script(self) -> str:
        """The live-preview-utils module and its initialisation (ssr: the editor reloads the
        page with a new hash on each change)."""
        settings = {
            "enable": True,
            "ssr": True,
            "mode": self.config.preview.mode if self.config.preview else "preview",
            "stackDetails": {"apiKey": self.api_key, "environment": self.stack.environment},
            "clientUrlParams": {
                "host": self.config.preview.app_host if self.config.preview else ""
            },
        }
        source = self.config.preview.live_script if self.config.preview else ""
        return (
            '<script type="module" data-sitegen-live-preview>\n'
            f"  import ContentstackLivePreview from {json.dumps(source)};\n"
            f"  ContentstackLivePreview.init({json.dumps(settings)});\n"
            "</script>\n"
        )


def page_file(path: str) -> str:
    """The output file a URL path names: ``/blog/x/`` and ``/blog/x`` are ``blog/x/index.html``."""
    relative = path.lstrip("/")
    if relative == "" or relative.endswith("/"):
        return relative + "index.html"
    if "." not in relative.rsplit("/", 1)[-1]:
        return relative + "/index.html"
    return relative


def inject(text: str, script: str) -> str:
    at = text.find("</head>")
    return text[:at] + script + text[at:] if at >= 0 else script + text


def problem(status: int, title: str, detail: str) -> HTMLResponse:
    """A page the iframe shows instead of the site: what went wrong, as text."""
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Preview: '
        f'{html.escape(title)}</title><body style="font:16px/1.5 system-ui;margin:2rem">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></body></html>\n"
    )
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def create_app(site: PreviewSite, password: str | None = None) -> Starlette:
    """The preview server over a started :class:`PreviewSite`."""
    output = site.config.output

    async def serve(request: Request) -> Response:
        if password is not None and not _authorized(request, password):
            return Response(
                "A password is needed to preview this site.\n",
                status_code=401,
                headers={"www-authenticate": 'Basic realm="sitegen preview"'},
            )
        file = page_file(request.url.path)
        if ".." in file.split("/"):
            return problem(404, "Not found", "There is no such page in the preview.")
        page = await site.run(site.page, file)
        live_preview = request.query_params.get("live_preview")
        timeline = {
            name: request.query_params[name]
            for name in TIMELINE_PARAMS
            if request.query_params.get(name)
        }
        if page is not None and page.kind == "entry":  # rendered now: what was saved or typed
            try:
                entry = await site.fetch_entry(page, live_preview, timeline)
            except SitegenError as err:
                log.warning("preview of %s: the Preview API failed: %s", file, err)
                return problem(502, "The preview could not be loaded", str(err))
            if entry is None:
                return problem(
                    404,
                    "This entry is not in the preview",
                    f"Entry {page.uid} of {page.content_type} ({page.locale}) was not found; "
                    "it may have been deleted, or the editing session has ended.",
                )
            try:
                text = await site.run(site.render, page, entry)
            except BuildError as err:
                log.warning("preview of %s: %s", file, err)
                return problem(500, "This page's template failed", str(err))
            return _html(inject(text, site.script()))
        target = output / file
        if not target.is_file() or not target.resolve().is_relative_to(output.resolve()):
            return problem(404, "Not found", "There is no such page in the preview.")
        if target.suffix == ".html":
            return _html(inject(target.read_text(encoding="utf-8"), site.script()))
        media = mimetypes.guess_type(target.name)[0]
        return FileResponse(target, media_type=media, headers={"cache-control": "no-store"})

    return Starlette(routes=[Route("/{path:path}", serve)])


def _html(text: str) -> HTMLResponse:
    # every answer is the editing session's state of the moment: never cached
    return HTMLResponse(text, headers={"cache-control": "no-store"})


def _authorized(request: Request, password: str) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        _, _, given = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), password.encode())


def serve(config: SiteConfig, host: str, port: int, password: str | None) -> None:
    """Build the preview, then serve it until interrupted."""
    import uvicorn

    loopback = host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not password:
        raise SitegenError(
            f"sitegen preview serve: {host} is not loopback, and the preview shows unpublished "
            f"content: set {PASSWORD_ENV} (Basic Auth, any user name) or serve on 127.0.0.1"
        )
    site = PreviewSite(config)
    site.start()
    try:
        uvicorn.run(create_app(site, password), host=host, port=port, log_level="warning")
    finally:
        site.close()
