"""``[assets] download = true``: asset files fetched over HTTP into the site, content-hashed.

Every download here is a real HTTP request: to the bundled local stack in-process (ASGI), on a
loopback port (uvicorn), or to a scripted loopback server for failures. Requests are counted
where they arrive, at the server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from sitegen.build import BuildResult, build_site
from sitegen.build.assets import output_path, safe_filename
from sitegen.config import load_config
from sitegen.errors import BuildError, ConfigError
from sitegen.stack.app import create_app
from tests.incremental_site import TwinSites, touch
from tests.incremental_site import write_json as write_json_later
from tests.scripted_server import Answer, scripted_server
from tests.sites import API_KEY, TOKEN, embed_asset, make_site, serve_app, write_json
from tests.test_build import tree

LOGO = b"<svg xmlns='http://www.w3.org/2000/svg'><title>logo</title></svg>"
CONTENTSTACK_IMAGE = "https://images.contentstack.io/v3/assets/{key}/photo/v1/photo.jpg"

TEMPLATE = (
    "<h1>{{ entry.title }}</h1>{{ entry.body | rte }}"
    '{% if entry.hero %}<img class=hero src="{{ entry.hero.url }}">'
    '<img class=plain src="{{ image_url(entry.hero) }}">'
    '<img class=wide src="{{ image_url(entry.hero, width=300) }}">'
    '<img class=set srcset="{{ srcset(entry.hero) }}">'
    '<meta property="og:image" content="{{ site.base_url }}{{ entry.hero.url }}">{% endif %}'
    "{{ entry.html | rte }}"
)


class Recorder:
    """ASGI middleware in front of a real app: notes (host, path, headers) of every request.

    ``files`` answers for other hosts (an image CDN), by host and path.
    """

    def __init__(self, app: Any, files: dict[tuple[str, str], bytes] | None = None):
        self.app = app
        self.files = files or {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        host = headers.get("host", "").split(":")[0]
        self.seen.append((host, scope["path"], headers))
        if (host, scope["path"]) in self.files or host not in ("local-stack", "127.0.0.1"):
            body = self.files.get((host, scope["path"]))
            status = 200 if body is not None else 404
            await send({"type": "http.response.start", "status": status, "headers": [(b"x", b"y")]})
            await send({"type": "http.response.body", "body": body or b"not found"})
            return
        await self.app(scope, receive, send)

    def asset_paths(self) -> list[str]:
        return sorted(path for _, path, _ in self.seen if not path.startswith("/v3/"))


def site_with_assets(root: Path, extra_toml: str = "", stack_toml: str | None = None) -> Path:
    """The fixture site plus a logo asset used as a file field, in JSON-RTE and in HTML-RTE."""
    site = make_site(root, stack_toml=stack_toml)
    stack = site / "stack"
    schema = json.loads((stack / "content_types/page.json").read_text())
    schema["schema"] += [
        {"uid": "hero", "data_type": "file"},
        {"uid": "html", "data_type": "text", "field_metadata": {"allow_rich_text": True}},
    ]
    write_json(stack / "content_types/page.json", schema)
    put_asset(stack, "logo", "logo.svg", LOGO)
    home = json.loads((stack / "entries/page/home.en-us.json").read_text())
    home["hero"] = "logo"
    home["body"]["children"].append(embed_asset("logo", "logo.svg"))
    home["html"] = (
        '<p><img src="/assets/logo/logo.svg" alt="x"> '
        '<a href="/assets/logo/logo.svg">download</a> (see /assets/logo/logo.svg).</p>'
    )
    write_json(stack / "entries/page/home.en-us.json", home)
    (site / "templates/page.html").write_text(TEMPLATE, encoding="utf-8")
    with (site / "sitegen.toml").open("a", encoding="utf-8") as f:
        f.write(f"[assets]\ndownload = true\n{extra_toml}")
    return site


def put_asset(stack: Path, uid: str, filename: str, data: bytes, **meta: Any) -> None:
    if data:
        (stack / "assets" / uid).mkdir(parents=True, exist_ok=True)
        (stack / "assets" / uid / filename).write_bytes(data)
        touch(stack / "assets" / uid / filename)
    fields = {"title": uid, "filename": filename, "content_type": "image/svg+xml", **meta}
    write_json_later(stack / f"assets/{uid}.json", fields)


def build(site: Path, transport: httpx.AsyncBaseTransport | None = None, full: bool = False):
    return build_site(load_config(site, env={}), transport=transport, full=full)


def local(site: Path, files: dict[tuple[str, str], bytes] | None = None) -> Recorder:
    return Recorder(create_app(site / "stack"), files)


def hashed(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


# -- configuration ------------------------------------------------------------------------------


def test_config_defaults_and_values(tmp_path: Path):
    site = make_site(tmp_path)
    assert load_config(site, env={}).assets.download is False
    with (site / "sitegen.toml").open("a") as f:
        f.write('[assets]\ndownload = true\npath = "/media/cms/"\n')
    config = load_config(site, env={})
    assert (config.assets.download, config.assets.path) == (True, "media/cms")


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("download = 'yes'", "assets.download", "must be a bool"),
        ("dowload = true", "assets.dowload", "not a known setting"),
        ("path = '../up'", "assets.path", "inside the output"),
        ("path = 'a b'", "assets.path", "inside the output"),
        ("path = 3", "assets.path", "must be a string"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, toml: str, key: str, words: str):
    site = make_site(tmp_path)
    with (site / "sitegen.toml").open("a") as f:
        f.write(f"[assets]\n{toml}\n")
    with pytest.raises(ConfigError) as err:
        load_config(site, env={})
    assert str(site / "sitegen.toml") in str(err.value)
    assert key in str(err.value) and words in str(err.value)


def test_safe_file_names():
    assert safe_filename("../../etc/passwd") == "_.._etc_passwd"
    assert safe_filename("..") == "file"
    assert safe_filename("a\x00b\nc\x7f.png") == "a_b_c_.png"
    assert safe_filename(".htaccess") == "htaccess"
    long = safe_filename("é" * 300 + ".jpeg")
    assert long.endswith(".jpeg") and len(long.encode()) <= 255
    long.encode().decode()  # still valid UTF-8
    path = output_path("assets", "../x", "0123456789abcdef", safe_filename("/etc/passwd"))
    assert ".." not in path.split("/") and path.startswith("assets/uid-")


# -- full builds --------------------------------------------------------------------------------


def test_downloads_into_hashed_paths_and_rewrites_every_url(tmp_path: Path):
    site = site_with_assets(tmp_path)
    server = local(site)
    result = build(site, httpx.ASGITransport(app=server))
    out = site / "public"
    path = f"assets/logo/{hashed(LOGO)}/logo.svg"
    assert (out / path).read_bytes() == LOGO
    assert result.assets_downloaded == 1
    assert server.asset_paths() == ["/assets/logo/logo.svg"]
    # the plain copy of the local stack's file is not shipped as well
    assert not (out / "assets/logo/logo.svg").exists()
    html = (out / "index.html").read_text()
    local_url = "/" + path
    assert f'class=hero src="{local_url}"' in html
    assert f'class=plain src="{local_url}"' in html
    assert f'class=wide src="{local_url}"' in html  # not an Images API host: no transform
    assert f'srcset="{local_url}"' in html
    assert f'content="https://example.com{local_url}"' in html
    assert f'<img src="{local_url}" alt="x" />' in html  # HTML-RTE (re-serialized, sanitized)
    assert f'<a href="{local_url}">download</a>' in html
    assert f"(see {local_url})." in html
    assert html.count(local_url) == 9  # + the JSON-RTE embedded asset
    for file in out.rglob("*.html"):
        assert "/assets/logo/logo.svg" not in file.read_text(), file


def test_assets_path_setting_and_no_download_without_it(tmp_path: Path):
    site = site_with_assets(tmp_path / "on", 'path = "media/cms"\n')
    build(site)
    assert (site / f"public/media/cms/logo/{hashed(LOGO)}/logo.svg").read_bytes() == LOGO
    off = site_with_assets(tmp_path / "off")
    toml = (off / "sitegen.toml").read_text().replace("download = true", "download = false")
    (off / "sitegen.toml").write_text(toml)
    server = local(off)
    build(off, httpx.ASGITransport(app=server))
    assert server.asset_paths() == []
    assert (off / "public/assets/logo/logo.svg").read_bytes() == LOGO
    assert 'src="/assets/logo/logo.svg"' in (off / "public/index.html").read_text()


def test_full_rebuild_reuses_intact_copies_and_refetches_damaged_ones(tmp_path: Path):
    site = site_with_assets(tmp_path)
    build(site)
    before = tree(site / "public")
    server = local(site)
    result = build(site, httpx.ASGITransport(app=server), full=True)
    assert result.assets_downloaded == 0 and server.asset_paths() == []
    assert tree(site / "public") == before
    copy = site / f"public/assets/logo/{hashed(LOGO)}/logo.svg"
    copy.write_bytes(LOGO.replace(b"logo", b"LOGO"))  # same size, other bytes
    server = local(site)
    build(site, httpx.ASGITransport(app=server), full=True)
    assert server.asset_paths() == ["/assets/logo/logo.svg"]
    assert tree(site / "public") == before


def test_remote_stack_over_loopback_port_sends_no_credentials_to_asset_urls(tmp_path: Path):
    stack_site = site_with_assets(tmp_path / "stack-site")
    recorder = local(stack_site)
    with serve_app(recorder) as url:
        site = site_with_assets(
            tmp_path / "remote",
            stack_toml=f'host = "{url}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
            'environment = "production"\n',
        )
        result = build(site)
    assert result.assets_downloaded == 1
    assert (site / f"public/assets/logo/{hashed(LOGO)}/logo.svg").read_bytes() == LOGO
    downloads = [headers for _, path, headers in recorder.seen if path.startswith("/assets/")]
    cda = [headers for _, path, headers in recorder.seen if path.startswith("/v3/")]
    assert len(downloads) == 1 and cda
    assert all(h.get("api_key") == API_KEY for h in cda)
    for headers in downloads:
        assert "api_key" not in headers and "access_token" not in headers
        assert API_KEY not in json.dumps(headers) and TOKEN not in json.dumps(headers)


def test_images_api_transforms_stay_remote(tmp_path: Path):
    # a "remote" stack whose transport is in-process, so the image CDN can be too
    site = site_with_assets(
        tmp_path,
        stack_toml=f'host = "http://local-stack"\napi_key = "{API_KEY}"\n'
        f'delivery_token = "{TOKEN}"\nenvironment = "production"\n',
    )
    image = CONTENTSTACK_IMAGE.format(key=API_KEY)
    put_asset(site / "stack", "photo", "photo.jpg", b"", url=image)
    home = json.loads((site / "stack/entries/page/home.en-us.json").read_text())
    home["hero"] = "photo"
    write_json(site / "stack/entries/page/home.en-us.json", home)
    jpeg = b"\xff\xd8\xff\xe0 not really a jpeg"
    path = f"/v3/assets/{API_KEY}/photo/v1/photo.jpg"
    server = local(site, {("images.contentstack.io", path): jpeg})
    build(site, httpx.ASGITransport(app=server))
    local_url = f"/assets/photo/{hashed(jpeg)}/photo.jpg"
    assert (site / "public" / local_url.lstrip("/")).read_bytes() == jpeg
    html = (site / "public/index.html").read_text()
    assert f'class=hero src="{local_url}"' in html
    assert f'class=plain src="{local_url}"' in html
    # transformations need the Images API: those URLs keep pointing at it
    assert f'class=wide src="{image}?width=300"' in html
    assert f"{image}?width=320 320w, {image}?width=640 640w" in html
    assert f'src="{image}"' not in html
    cdn = [h for host, _, h in server.seen if host == "images.contentstack.io"]
    assert len(cdn) == 1 and "api_key" not in cdn[0] and "access_token" not in cdn[0]


# -- failures -----------------------------------------------------------------------------------


def test_failed_download_names_the_asset_and_leaves_the_site(tmp_path: Path):
    site = site_with_assets(tmp_path)
    build(site)
    before = tree(site / "public")
    with scripted_server() as cdn:
        url = f"{cdn.url}/v3/assets/{API_KEY}/logo/v2/logo.svg"
        put_asset(site / "stack", "logo", "logo.svg", b"", url=url)
        shutil.rmtree(site / "stack/assets/logo")
        for full in (False, True):
            with pytest.raises(BuildError) as err:
                build(site, full=full)
            message = str(err.value)
            assert "\n" not in message
            assert "asset logo (logo.svg)" in message and "HTTP 404" in message
            assert "used by entry home of page" in message
            assert API_KEY not in message and "/v3/assets/***/logo/v2/logo.svg" in message
            assert tree(site / "public") == before
        assert all("api_key" not in seen.headers for seen in cdn.seen)
        assert not list(tmp_path.glob(".public.*"))  # no scratch folders left behind


def test_retries_like_cda_requests_then_gives_up(tmp_path: Path):
    site = site_with_assets(tmp_path)
    toml = (site / "sitegen.toml").read_text()
    (site / "sitegen.toml").write_text(toml.replace("[stack]\n", "[stack]\nmax_tries = 3\n", 1))
    with scripted_server() as cdn:
        put_asset(site / "stack", "logo", "logo.svg", b"", url=f"{cdn.url}/logo.svg")
        shutil.rmtree(site / "stack/assets/logo")
        cdn.then(Answer(503, headers={"retry-after": "0"}), Answer(200, LOGO.decode()))
        result = build(site)
        assert result.assets_downloaded == 1 and len(cdn.seen) == 2
        assert (site / f"public/assets/logo/{hashed(LOGO)}/logo.svg").read_bytes() == LOGO
        put_asset(site / "stack", "logo", "logo.svg", b"", url=f"{cdn.url}/logo2.svg")
        cdn.then(*[Answer(502, headers={"retry-after": "0"})] * 3)
        with pytest.raises(BuildError, match=r"asset logo \(logo.svg\).*HTTP 502 after 3 tries"):
            build(site)
        assert len(cdn.seen) == 5


# -- incremental builds -------------------------------------------------------------------------


class CountingTwins(TwinSites):
    """TwinSites with downloads on; site a's requests are counted at its stack server."""

    def __init__(self, root: Path):
        super().__init__(root, posts=4)
        for site in (self.a, self.b):
            with (site / "sitegen.toml").open("a") as f:
                f.write("[assets]\ndownload = true\n")
        self.server: Recorder | None = None

    def build_both(self) -> BuildResult:
        self.server = Recorder(create_app(self.stack))
        result = build(self.a, httpx.ASGITransport(app=self.server))
        build(self.b, full=True)
        assert tree(self.a / "public") == tree(self.b / "public")
        return result

    def fetched(self) -> list[str]:
        assert self.server is not None
        return self.server.asset_paths()


def svg(title: str) -> bytes:
    return f"<svg xmlns='http://www.w3.org/2000/svg'><title>{title}</title></svg>".encode()


def test_incremental_downloads_only_what_changed_and_equals_full(tmp_path: Path):
    twins = CountingTwins(tmp_path)
    # a URL no entry data names: only the page's recorded asset URLs can re-render it
    twins.write_template(
        "home.html", '<title>{{ entry.title }}</title><link rel=icon href="/assets/img1/img1.svg">'
    )
    first = twins.build_both()
    assert first.kind == "full" and twins.fetched() == [
        "/assets/img0/img0.svg",
        "/assets/img1/img1.svg",
    ]
    out = twins.a / "public"
    img0 = f"assets/img0/{hashed(svg('picture 0'))}/img0.svg"
    assert (out / img0).is_file()
    assert f'src="/{img0}"' in (out / "posts/p1/index.html").read_text()

    # an entry edit downloads nothing
    fields = twins.read("post", "p1", "en-us")
    fields["title"] = "Edited"
    twins.put("post", "p1", "en-us", fields)
    result = twins.build_both()
    assert result.kind == "incremental" and twins.fetched() == [] and result.assets_downloaded == 0

    # replacing img0's bytes: one download, old copy removed, pages using it re-rendered
    twins.put_asset("img0", "picture zero")
    result = twins.build_both()
    assert twins.fetched() == ["/assets/img0/img0.svg"] and result.assets_downloaded == 1
    new_img0 = f"assets/img0/{hashed(svg('picture zero'))}/img0.svg"
    assert not (out / img0).exists() and (out / new_img0).is_file()
    assert img0 in result.removed and new_img0 in result.added
    assert f'src="/{new_img0}"' in (out / "posts/p1/index.html").read_text()

    # replacing img1, which the home template names literally: the home pages follow
    twins.put_asset("img1", "picture one")
    result = twins.build_both()
    assert twins.fetched() == ["/assets/img1/img1.svg"]
    new_img1 = f"assets/img1/{hashed(svg('picture one'))}/img1.svg"
    assert f'href="/{new_img1}"' in (out / "index.html").read_text()
    assert "index.html" in result.changed

    # a new asset used by an entry: just that one is fetched
    twins.put_asset("img2", "picture 2")
    bob = twins.read("author", "bob", "en-us")
    twins.put("author", "bob", "en-us", {**bob, "photo": "img2"})
    result = twins.build_both()
    assert twins.fetched() == ["/assets/img2/img2.svg"]
    assert (out / f"assets/img2/{hashed(svg('picture 2'))}/img2.svg").is_file()

    # deleting an asset (still named in JSON-RTE bodies) removes its copy, fetches nothing
    (twins.stack / "assets/img1.json").unlink()
    shutil.rmtree(twins.stack / "assets/img1")
    result = twins.build_both()
    assert twins.fetched() == [] and not (out / "assets/img1").exists()
    assert any(path.startswith("assets/img1/") for path in result.removed)

    # nothing changed: nothing fetched, nothing written
    result = twins.build_both()
    assert twins.fetched() == [] and result.written == 0


def test_turning_download_off_and_on_again_converges(tmp_path: Path):
    twins = CountingTwins(tmp_path)
    twins.build_both()
    for site in (twins.a, twins.b):
        toml = (site / "sitegen.toml").read_text()
        (site / "sitegen.toml").write_text(toml.replace("download = true", "download = false"))
    result = twins.build_both()
    out = twins.a / "public"
    assert result.kind == "incremental" and twins.fetched() == []
    assert sorted(p.relative_to(out).as_posix() for p in (out / "assets").rglob("*.svg")) == [
        "assets/img0/img0.svg",
        "assets/img1/img1.svg",
    ]
    for site in (twins.a, twins.b):
        toml = (site / "sitegen.toml").read_text()
        (site / "sitegen.toml").write_text(toml.replace("download = false", "download = true"))
    result = twins.build_both()
    assert result.kind == "incremental" and len(twins.fetched()) == 2
    assert not (out / "assets/img0/img0.svg").exists()


def test_an_asset_published_after_the_page_that_names_it(tmp_path: Path):
    twins = CountingTwins(tmp_path)
    twins.write_template(
        "home.html", '<title>{{ entry.title }}</title><img src="/assets/late/late.svg">'
    )
    twins.build_both()
    home = twins.a / "public/index.html"
    assert '<img src="/assets/late/late.svg">' in home.read_text()
    twins.put_asset("late", "published late")
    result = twins.build_both()  # also checks incremental == full
    assert twins.fetched() == ["/assets/late/late.svg"] and "index.html" in result.changed
    assert f'<img src="/assets/late/{hashed(svg("published late"))}/late.svg">' in home.read_text()


def test_moving_the_assets_folder_reuses_the_copies(tmp_path: Path):
    twins = CountingTwins(tmp_path)
    twins.build_both()
    for site in (twins.a, twins.b):
        with (site / "sitegen.toml").open("a") as f:
            f.write('path = "media"\n')
    result = twins.build_both()
    out = twins.a / "public"
    assert result.kind == "incremental" and twins.fetched() == []
    assert not (out / "assets").exists()
    img0 = f"media/img0/{hashed(svg('picture 0'))}/img0.svg"
    assert (out / img0).is_file() and f'src="/{img0}"' in (out / "posts/p1/index.html").read_text()


def test_feeds_get_absolute_local_urls(tmp_path: Path):
    # the package's feed.xml: escaped HTML in <content>, root-relative URLs made absolute
    toml = (
        '[[feeds]]\npath = "/html.xml"\ncontent_type = "page"\ncontent = "html"\n'
        '[[feeds]]\npath = "/body.xml"\ncontent_type = "page"\ncontent = "body"\n'
    )
    site = site_with_assets(tmp_path, toml)
    build(site)
    local_url = f"https://example.com/assets/logo/{hashed(LOGO)}/logo.svg"
    html = (site / "public/html.xml").read_text()
    assert f"&lt;img src=&#34;{local_url}&#34; alt=&#34;x&#34; /&gt;" in html
    assert f"&lt;a href=&#34;{local_url}&#34;&gt;download" in html
    assert f"(see /assets/logo/{hashed(LOGO)}/logo.svg)." in html  # text stays text
    body = (site / "public/body.xml").read_text()
    assert f"&lt;img src=&#34;{local_url}&#34;" in body  # the JSON-RTE embedded asset
    for xml in (html, body):
        assert "/assets/logo/logo.svg" not in xml
