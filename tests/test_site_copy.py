"""A site folder copied or moved with its build state (``cp -r site site-copy``, a CI checkout
in another folder with ``.sitegen/`` restored from a cache) builds incrementally where it is,
and never touches the folder it came from (issue 18, finding 6)."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildResult, build_site
from sitegen.build.pipeline import STORE_NAME
from sitegen.config import load_config
from sitegen.store import Store
from tests.sites import make_site, write_json
from tests.test_build import tree


def build(site: Path, full: bool = False) -> BuildResult:
    return build_site(load_config(site, env={}), full=full, jobs=1)


def copy_folder(source: Path, target: Path) -> Path:
    """``cp -r``: every file, dot files included, with new modification times."""
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy)
    return target


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under ``folder``: size, modification time, hash of the bytes."""
    gc.collect()  # a build's in-process local stack closes its history (checkpoints) when freed
    result = {}
    for path in sorted(folder.rglob("*")):
        st = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        result[path.relative_to(folder).as_posix()] = (st.st_size, st.st_mtime_ns, digest)
    return result


def assert_nothing_changed(result: BuildResult) -> None:
    assert result.kind == "incremental", result.warnings
    assert result.warnings == []
    assert result.triggers == []
    assert result.rendered == 0
    assert (result.added, result.changed, result.removed) == ([], [], [])
    assert "Incremental build: nothing changed" in result.summary()


def test_a_copied_site_builds_incrementally_and_leaves_the_original_alone(tmp_path: Path):
    original = make_site(tmp_path / "mysite")
    assert build(original).kind == "full"
    before = snapshot(original)
    copy = copy_folder(original, tmp_path / "mysite-copy")

    result = build(copy)
    assert_nothing_changed(result)
    assert result.output == copy / "public"
    assert tree(copy / "public") == tree(original / "public")

    # a change in the copy reaches the copy's output, and only the copy's
    post = copy / "stack/entries/post/post1.en-us.json"
    fields = json.loads(post.read_text(encoding="utf-8"))
    write_json(post, {**fields, "title": "Post 1, copied"})
    result = build(copy)
    assert result.kind == "incremental"
    assert result.triggers == ["1 entry changed"]
    assert "Post 1, copied" in (copy / "public/posts/post-1/index.html").read_text()
    assert snapshot(original) == before
    assert "Post 1, copied" not in (original / "public/posts/post-1/index.html").read_text()
    # and the original still builds incrementally from its own state
    assert_nothing_changed(build(original))


def test_a_checkout_elsewhere_with_the_state_from_a_cache_builds_incrementally(tmp_path: Path):
    """CI: the repository (a site beside its local stack) is checked out in another folder and
    .sitegen/ and public/ come back from a cache."""
    repo = tmp_path / "runner-1/work/repo"
    site = make_site(repo / "site")
    (site / "stack").rename(repo / "stack")
    config = (site / "sitegen.toml").read_text(encoding="utf-8")
    (site / "sitegen.toml").write_text(config.replace('"stack"', '"../stack"'), encoding="utf-8")
    assert build(site).kind == "full"
    cache = tmp_path / "cache"
    for name in (".sitegen", "public"):
        copy_folder(site / name, cache / name)

    checkout = tmp_path / "runner-2/build/other-name"
    copy_folder(repo, checkout)
    for name in (".sitegen", "public"):
        shutil.rmtree(checkout / "site" / name)
        copy_folder(cache / name, checkout / "site" / name)
    shutil.rmtree(repo)  # the first checkout is gone: nothing may point at it

    assert_nothing_changed(build(checkout / "site"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("environment", "[stack] environment changed (production → staging)"),
        ("locales", "the site's locales changed"),
        ("local", "the stack ([stack] host, local or api_key) changed"),
    ],
)
def test_a_real_change_in_a_copy_still_runs_a_full_build(tmp_path: Path, change: str, reason: str):
    original = make_site(tmp_path / "mysite")
    build(original)
    before = snapshot(original)
    copy = copy_folder(original, tmp_path / "mysite-copy")
    config_file = copy / "sitegen.toml"
    config = config_file.read_text(encoding="utf-8")
    if change == "environment":
        stack = json.loads((copy / "stack/stack.json").read_text(encoding="utf-8"))
        write_json(copy / "stack/stack.json", {**stack, "environments": ["production", "staging"]})
        config = config.replace('"production"', '"staging"')
    elif change == "locales":
        config = config.split('locales = ["en-us", "fr-fr"]')[0] + 'locales = ["en-us"]\n'
    else:
        shutil.copytree(copy / "stack", copy / "other-stack")
        config = config.replace('local = "stack"', 'local = "other-stack"')
    config_file.write_text(config, encoding="utf-8")

    result = build(copy)
    assert result.kind == "full"
    assert result.warnings == [f"{reason} since the last build; running a full build"]
    assert snapshot(original) == before


def test_a_state_that_recorded_the_absolute_stack_folder_still_builds_incrementally(
    tmp_path: Path,
):
    """Older builds stored the local stack's absolute path: the same folder is no change, a
    copy of the site reading that state sees another folder (the state cannot tell)."""
    site = make_site(tmp_path / "mysite")
    build(site)
    config = load_config(site, env={})
    store = Store(config.state_dir / STORE_NAME, create=False)
    recorded = json.loads(store.meta("content_source") or "{}")
    assert recorded["local"] == "stack"
    store.set_meta("content_source", json.dumps({**recorded, "local": str(site / "stack")}))
    store.set_meta("content_fingerprint", "from-an-older-sitegen")
    store.close()
    copy = copy_folder(site, tmp_path / "mysite-copy")

    assert_nothing_changed(build(site))
    result = build(copy)
    assert result.kind == "full"
    assert result.warnings[0].startswith("the stack ([stack] host, local or api_key) changed")
