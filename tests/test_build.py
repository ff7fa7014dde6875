"""End-to-end builds of small fixture sites through the local stack.

In-process (ASGI transport) and over a real loopback port, with the same pipeline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.config import load_config
from sitegen.errors import APIError, BuildError
from sitegen.stack.app import create_app
from tests.sites import API_KEY, TOKEN, embed_asset, embed_entry, make_site, serve_app, write_json


def build(site: Path, env: dict[str, str] | None = None):
    return build_site(load_config(site, env=env or {}))


def tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@contextmanager
def served(stack_dir: Path) -> Iterator[str]:
    """The local stack on a real loopback port, for the duration of a test."""
    with serve_app(create_app(stack_dir)) as url:
        yield url


def test_pages_per_entry_with_url_in_every_locale(tmp_path: Path):
    site = make_site(tmp_path, posts=3)
    result = build(site)
    out = site / "public"
    assert result.pages_by_locale == {"en-us": 4, "fr-fr": 4}
    for file in (
        "index.html",
        "posts/post-0/index.html",
        "fr/index.html",
        "fr/posts/post-2/index.html",
    ):
        assert (out / file).is_file(), file
    # types without a url (author, team) have no pages
    assert not any("author" in p for p in tree(out))


def test_localized_and_fallback_content(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    out = site / "public"
    assert "<h1>Accueil</h1>" in (out / "fr/index.html").read_text()
    assert "<p>Bienvenue</p>" in (out / "fr/index.html").read_text()
    # post0 is not localized: fr-fr falls back to en-us content, under the fr prefix
    fr_post = (out / "fr/posts/post-0/index.html").read_text()
    assert "<h1>Post 0</h1>" in fr_post and '<html lang="fr-fr">' in fr_post


def test_references_two_levels_deep_markdown_and_links(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    html = (site / "public/posts/post-1/index.html").read_text()
    assert '<p class="author">Ada of Core Team</p>' in html
    assert "<em>notes</em>" in html and "<table>" in html
    assert '<a hreflang="fr-fr" href="/fr/posts/post-1/">' in html
    home = (site / "public/fr/index.html").read_text()
    assert 'href="/fr/posts/post-2/"' in home


def test_embedded_items_render_in_json_rte(tmp_path: Path):
    site = make_site(tmp_path)
    asset_dir = site / "stack/assets"
    write_json(
        asset_dir / "logo.json",
        {"title": "Logo", "filename": "logo.svg", "content_type": "image/svg+xml"},
    )
    (asset_dir / "logo").mkdir()
    (asset_dir / "logo/logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    embed = embed_asset("logo", "logo.svg")
    home = json.loads((site / "stack/entries/page/home.en-us.json").read_text())
    home["body"]["children"].append(embed)
    write_json(site / "stack/entries/page/home.en-us.json", home)
    build(site)
    html = (site / "public/index.html").read_text()
    assert 'src="/assets/logo/logo.svg"' in html
    assert (site / "public/assets/logo/logo.svg").is_file()


def test_two_builds_in_a_row_are_byte_identical(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    first = tree(site / "public")
    build(site)
    assert tree(site / "public") == first


def test_build_over_a_real_loopback_port(tmp_path: Path):
    site = make_site(tmp_path / "a")
    in_process = build(site)
    expected = tree(site / "public")
    with served(site / "stack") as url:
        remote = make_site(
            tmp_path / "b",
            stack_toml=f'host = "{url}"\napi_key = "{API_KEY}"\ndelivery_token = "{TOKEN}"\n'
            'environment = "production"\n',
        )
        result = build(remote)
    assert tree(remote / "public") == expected
    # the lower bound: the sync token, content types, assets, the taxonomy list (the stack
    # has none, else their terms per locale), one page per type and locale
    assert result.requests == in_process.requests == 4 + 4 * 2


@pytest.mark.parametrize(
    ("key", "token", "status", "hint"),
    [("wrong-key", TOKEN, 412, "API key"), (API_KEY, "wrong-token", 401, "delivery token")],
)
def test_bad_credentials_fail_with_a_hint_and_keep_the_old_site(
    tmp_path: Path, key: str, token: str, status: int, hint: str
):
    site = make_site(tmp_path)
    build(site)
    before = tree(site / "public")
    with served(site / "stack") as url:
        toml = (
            (site / "sitegen.toml")
            .read_text()
            .replace(
                'local = "stack"', f'host = "{url}"\napi_key = "{key}"\ndelivery_token = "{token}"'
            )
        )
        (site / "sitegen.toml").write_text(toml)
        with pytest.raises(APIError) as caught:
            build(site)
    assert caught.value.status == status and hint in str(caught.value)
    assert key not in str(caught.value) and token not in str(caught.value)
    assert tree(site / "public") == before


def test_template_syntax_error_names_file_and_line(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates/post.html").write_text("line one\n{% if %}\n")
    with pytest.raises(BuildError, match=r"templates/post\.html:2: template syntax error"):
        build(site)


def test_template_runtime_error_names_file_line_entry_and_locale(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates/post.html").write_text("ok\n{{ entry.title.nope() }}\n")
    with pytest.raises(BuildError) as caught:
        build(site)
    message = str(caught.value)
    assert "templates/post.html:2" in message
    assert "entry post0 of post in en-us" in message


def test_failed_build_leaves_previous_site_intact_and_no_staging(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    before = tree(site / "public")
    (site / "templates/page.html").write_text("{{ entry.title.nope() }}")
    with pytest.raises(BuildError):
        build(site)
    assert tree(site / "public") == before
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_two_entries_claiming_one_path_are_both_named(tmp_path: Path):
    site = make_site(tmp_path)
    post = json.loads((site / "stack/entries/post/post1.en-us.json").read_text())
    post["url"] = "/posts/post-0"  # same file as /posts/post-0/
    write_json(site / "stack/entries/post/post1.en-us.json", post)
    with pytest.raises(BuildError) as caught:
        build(site)
    message = str(caught.value)
    assert "post0" in message and "post1" in message and "posts/post-0/index.html" in message


@pytest.mark.parametrize("url", ["/../../escape/", "https://evil.example/", "//evil.example/x"])
def test_url_escaping_the_output_fails_naming_the_entry(tmp_path: Path, url: str):
    site = make_site(tmp_path)
    post = json.loads((site / "stack/entries/post/post2.en-us.json").read_text())
    post["url"] = url
    write_json(site / "stack/entries/post/post2.en-us.json", post)
    with pytest.raises(BuildError, match="entry 'post2' of content type 'post'"):
        build(site)
    assert not (tmp_path.parent / "escape").exists()


def test_content_type_with_urls_but_no_template_is_skipped_with_a_warning(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "templates/post.html").unlink()
    result = build(site)
    assert result.pages_by_locale == {"en-us": 1, "fr-fr": 1}
    assert any("content type 'post'" in w and "no template" in w for w in result.warnings)
    assert not (site / "public/posts").exists()


def test_pagination_over_more_than_one_page(tmp_path: Path):
    site = make_site(tmp_path, posts=230)
    result = build(site)
    assert result.pages_by_locale["en-us"] == 231
    assert len(list((site / "public/fr/posts").iterdir())) == 230
    # 3 pages per locale for posts, 1 each for the other three types; sync, content types,
    # assets, taxonomies
    assert result.requests == 4 + 2 * (3 + 3)


def _embed_author_in_home(site: Path, display_type: str) -> None:
    embed = embed_entry("ada", "author", display_type)
    home = json.loads((site / "stack/entries/page/home.en-us.json").read_text())
    home["body"]["children"].append(embed)
    write_json(site / "stack/entries/page/home.en-us.json", home)


def test_embedded_entry_uses_the_default_markup_without_a_template(tmp_path: Path):
    site = make_site(tmp_path)
    _embed_author_in_home(site, "block")
    build(site)
    html = (site / "public/index.html").read_text()
    assert "<div><p>Ada</p><p>Content type: <span>author</span></p></div>" in html


def test_embedded_entry_renders_through_the_site_template(tmp_path: Path):
    site = make_site(tmp_path)
    _embed_author_in_home(site, "block")
    (site / "templates/embedded").mkdir()
    (site / "templates/embedded/author.html").write_text(
        '<aside class="author" data-locale="{{ locale }}">{{ item.title }} ({{ display_type }}) '
        "[{{ url_for(item) }}]</aside>"
    )
    build(site)
    html = (site / "public/index.html").read_text()
    assert (
        '<aside class="author" data-locale="en-us">Ada (block) []</aside>' in html
    )  # url_for of a pageless entry: never "None"
    assert "Content type: <span>author</span>" not in html


def test_embedded_fallback_templates_for_any_entry_and_for_assets(tmp_path: Path):
    site = make_site(tmp_path)
    _embed_author_in_home(site, "block")
    home = json.loads((site / "stack/entries/page/home.en-us.json").read_text())
    home["body"]["children"].append(embed_asset("pic", "pic.svg"))
    write_json(site / "stack/entries/page/home.en-us.json", home)
    (site / "stack/assets/pic").mkdir(parents=True)
    (site / "stack/assets/pic/pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    write_json(
        site / "stack/assets/pic.json",
        {"title": "A picture", "filename": "pic.svg", "content_type": "image/svg+xml"},
    )
    build(site)
    default = (site / "public/index.html").read_text()
    assert "<img" in default and "Content type: <span>author</span>" in default

    (site / "templates/embedded").mkdir()
    (site / "templates/embedded/_entry.html").write_text(
        "<aside>{{ item._content_type_uid }}: {{ item.title }}</aside>"
    )
    (site / "templates/embedded/_asset.html").write_text(
        '<figure><img src="{{ item.url }}" alt=""><figcaption>{{ item.title }}</figcaption></figure>'
    )
    result = build(site)
    assert result.kind == "incremental" and "index.html" in result.changed
    html = (site / "public/index.html").read_text()
    assert "<aside>author: Ada</aside>" in html
    assert (
        '<figure><img src="/assets/pic/pic.svg" alt=""><figcaption>A picture</figcaption>' in html
    )
    # a template for the content type wins over the fallback
    (site / "templates/embedded/author.html").write_text("<b>{{ item.title }}</b>")
    build(site)
    assert "<b>Ada</b>" in (site / "public/index.html").read_text()


def test_failed_build_leaves_no_temporary_store(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    (site / "templates/page.html").write_text("{{ entry.title.nope() }}")
    with pytest.raises(BuildError):
        build(site)
    assert sorted(p.name for p in (site / ".sitegen").iterdir() if "tmp" in p.name) == []
    assert (site / ".sitegen/store.sqlite").is_file()


def test_a_second_build_of_the_same_site_stops_with_a_clear_message(tmp_path: Path):
    import fcntl

    site = make_site(tmp_path)
    build(site)
    state = site / ".sitegen"
    with (state / "build.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        with pytest.raises(BuildError, match="another sitegen build of this site is running"):
            build(site)
    assert build(site).kind == "incremental"  # the lock is free again


def test_a_replaced_site_is_deleted_after_the_build_and_leftovers_by_the_next(tmp_path: Path):
    import subprocess
    import sys
    import time

    from sitegen.build.write import remove_leftovers

    site = make_site(tmp_path)
    build_site(load_config(site, env={}))
    result = build_site(load_config(site, env={}), full=True)
    # the new site is complete when the build returns; the old one goes in the background
    assert result.kind == "full" and (site / "public/posts/post-0/index.html").is_file()
    deadline = time.monotonic() + 30
    while list(site.glob(".public.*old-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(site.glob(".public.*old-*"))
    # a folder named after a live process (a remover at work) is left alone; a dead one's goes
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout.strip()
        (site / f".public.old-{live.pid}").mkdir()
        (site / f".public.old-{dead}").mkdir()
        removed = remove_leftovers(site / "public")
        assert removed == [site / f".public.old-{dead}"]
        assert (site / f".public.old-{live.pid}").is_dir()
    finally:
        live.kill()
        live.wait()


def test_full_builds_in_a_row_do_not_wait_for_the_old_sites_removal(tmp_path: Path):
    """Each swap moves the old site to a folder of its own: the removal of the last one may
    still be running when the next full build (the dev or hook server's) swaps again."""
    site = make_site(tmp_path)
    build_site(load_config(site, env={}))
    # an old site of this process still being removed, where a swap used to move the next one
    (site / f".public.old-{os.getpid()}" / "posts").mkdir(parents=True)
    for _ in range(3):
        assert build_site(load_config(site, env={}), full=True).kind == "full"
    assert (site / "public/posts/post-0/index.html").is_file()


def test_a_build_closes_the_local_stack_it_served(tmp_path: Path):
    """The in-process local stack's history database is closed when the build ends, so a dev
    server rebuilding all day does not gather open files."""
    site = make_site(tmp_path, posts=2)

    def open_files() -> list[str]:
        found = []
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):  # closed while listing
                found.append(os.readlink(fd))
        return [f for f in found if f.startswith(str(tmp_path))]

    before = open_files()
    build(site)
    build(site)
    assert open_files() == before
