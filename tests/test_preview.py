"""Preview builds: drafts, their own output and state, noindex, robots.txt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build import build_site
from sitegen.build.pages import noindex
from sitegen.cli import cli
from sitegen.config import for_preview, load_config
from sitegen.errors import ConfigError
from tests.scripted_server import Answer, scripted_server
from tests.sites import make_site, write_json


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return h.hexdigest()


def test_noindex_goes_into_the_head():
    assert noindex("<html><head><title>x</title></head></html>") == (
        '<html><head><meta name="robots" content="noindex"><title>x</title></head></html>'
    )
    assert (
        noindex('<HTML lang="fr"><p>x')
        == '<HTML lang="fr"><meta name="robots" content="noindex"><p>x'
    )
    assert noindex("<p>x</p>").startswith('<meta name="robots" content="noindex">')


def test_preview_has_its_own_output_and_state_and_leaves_production_alone(tmp_path: Path):
    site = make_site(tmp_path)
    (site / "static").mkdir()
    (site / "static/robots.txt").write_text("User-agent: *\nAllow: /\n")
    build_site(load_config(site, env={}))
    production = digest(site / "public")
    state = digest(site / ".sitegen")
    config = for_preview(
        load_config(site, env={"DEPLOY_PRIME_URL": "https://deploy-preview-3--x.netlify.app"})
    )
    result = build_site(config)
    assert result.kind == "full"
    assert config.base_url == "https://deploy-preview-3--x.netlify.app"
    assert (site / "public-preview/index.html").is_file()
    assert (site / ".sitegen-preview/store.sqlite").is_file()
    for page in (site / "public-preview").rglob("*.html"):
        assert '<meta name="robots" content="noindex">' in page.read_text(), page
    assert (site / "public-preview/robots.txt").read_text() == "User-agent: *\nDisallow: /\n"
    assert digest(site / "public") == production
    assert digest(site / ".sitegen") == state
    assert "noindex" not in (site / "public/index.html").read_text()
    assert (site / "public/robots.txt").read_text() == "User-agent: *\nAllow: /\n"


def test_remote_preview_uses_the_preview_host_and_token(tmp_path: Path):
    with scripted_server() as server:
        site = make_site(
            tmp_path,
            stack_toml='api_key = "blt_key"\ndelivery_token = "cs_delivery"\nenvironment = "production"\n',
        )
        toml = (site / "sitegen.toml").read_text() + f'[preview]\nhost = "{server.url}"\n'
        (site / "sitegen.toml").write_text(toml)
        # assets and taxonomies are asked for at once: either answer fits either request
        empty = {"assets": [], "taxonomies": [], "count": 0}
        server.then(Answer(200, {"content_types": [], "count": 0}), Answer(200, empty))
        server.then(Answer(200, empty))
        config = for_preview(
            load_config(site, env={"CONTENTSTACK_PREVIEW_TOKEN": "cs_preview"}), "lp-hash"
        )
        result = build_site(config)
    assert result.pages == 0
    paths = [s.path.split("?")[0] for s in server.seen]
    assert paths[0] == "/v3/content_types"
    assert sorted(paths[1:]) == ["/v3/assets", "/v3/taxonomies"]
    for seen in server.seen:
        assert seen.headers["preview_token"] == "cs_preview"
        assert seen.headers["live_preview"] == "lp-hash"
        assert seen.headers["api_key"] == "blt_key"
        assert "access_token" not in seen.headers


def test_remote_preview_needs_a_preview_token(tmp_path: Path):
    site = make_site(
        tmp_path, stack_toml='api_key = "k"\ndelivery_token = "t"\nenvironment = "production"\n'
    )
    with pytest.raises(ConfigError, match="CONTENTSTACK_PREVIEW_TOKEN"):
        for_preview(load_config(site, env={}))


def test_live_preview_needs_preview_on_the_command_line(tmp_path: Path):
    site = make_site(tmp_path)
    result = CliRunner().invoke(cli, ["build", str(site), "--live-preview", "abc"])
    assert result.exit_code == 1 and "--live-preview goes with --preview" in result.output


def test_preview_on_the_command_line(tmp_path: Path):
    site = make_site(tmp_path)
    result = CliRunner().invoke(cli, ["build", str(site), "--preview"])
    assert result.exit_code == 0, result.output
    assert (site / "public-preview/index.html").is_file() and not (site / "public").exists()
    report = json.loads((site / ".sitegen-preview/last-build.json").read_text())
    assert report["kind"] == "full"


@pytest.mark.parametrize("field", ["title"])
def test_a_draft_shows_in_preview_but_not_in_production(tmp_path: Path, field: str):
    site = make_site(tmp_path)
    write_json(
        site / "stack/entries/post/post1.en-us.draft.json",
        {
            **json.loads((site / "stack/entries/post/post1.en-us.json").read_text()),
            field: "Draft title",
        },
    )
    write_json(
        site / "stack/entries/post/secret.en-us.draft.json",
        {
            "title": "Not yet published",
            "url": "/posts/secret/",
            "author": [{"uid": "ada", "_content_type_uid": "author"}],
        },
    )
    build_site(load_config(site, env={}))
    production = (site / "public/posts/post-1/index.html").read_text()
    assert "Draft title" not in production and not (site / "public/posts/secret").exists()
    state = digest(site / ".sitegen")
    build_site(for_preview(load_config(site, env={})))
    assert "Draft title" in (site / "public-preview/posts/post-1/index.html").read_text()
    assert "Not yet published" in (site / "public-preview/posts/secret/index.html").read_text()
    assert digest(site / ".sitegen") == state
    # and production stays as it was after another (incremental) production build
    build_site(load_config(site, env={}))
    assert "Draft title" not in (site / "public/posts/post-1/index.html").read_text()
