"""Rendering in other processes and on a Dask cluster gives exactly the one-process output."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build import build_site
from sitegen.cli import cli
from sitegen.config import load_config
from sitegen.errors import BuildError, ConfigError
from tests.test_build import tree

EXAMPLE = Path(__file__).resolve().parent.parent / "example_site"


def _example(target: Path) -> Path:
    ignore = shutil.ignore_patterns("public", ".sitegen", ".*.history.sqlite*")
    shutil.copytree(EXAMPLE, target, ignore=ignore)
    return target


def _deps(site: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    try:
        return db.execute("SELECT kind, key, file FROM deps ORDER BY file, kind, key").fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = _example(tmp_path_factory.mktemp("jobs1") / "site")
    result = build_site(load_config(site, env={}), jobs=1)
    assert result.pages > 400
    return site


def test_two_processes_give_the_same_site_and_dependencies(one_process: Path, tmp_path: Path):
    site = _example(tmp_path / "site")
    result = build_site(load_config(site, env={}), jobs=2)
    assert result.kind == "full"
    assert tree(site / "public") == tree(one_process / "public")
    deps = _deps(site)
    assert deps == _deps(one_process)
    # every page recorded what it read: the incremental build after it relies on that
    assert {file for _, _, file in deps} >= {"index.html", "blog/page/2/index.html"}
    # and an incremental build after a parallel one still works
    post = next((site / "stack/entries/blog_post").glob("*.en-us.json"))
    post.write_text(post.read_text().replace('"title": "', '"title": "Edited: ', 1))
    again = build_site(load_config(site, env={}), jobs=2)
    assert again.kind == "incremental" and again.written >= 3


def test_a_dask_cluster_gives_the_same_site(one_process: Path, tmp_path: Path):
    distributed = pytest.importorskip("distributed", reason="pip install 'sitegen[dask]'")
    site = _example(tmp_path / "site")
    snapshots = set(Path(tempfile.gettempdir()).glob("sitegen-render-*.sqlite"))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = CliRunner().invoke(
            cli, ["build", str(site), "-q", "--executor", f"dask://{address}"]
        )
        assert result.exit_code == 0, result.output
        with distributed.Client(cluster) as client:  # the workers really did the rendering
            rendered = client.run(
                lambda: len(__import__("sitegen.build.parallel", fromlist=["_workers"])._workers)
            )
        assert sum(rendered.values()) >= 1
        # the state snapshot each worker got is not left on its disk, even while it lives
        assert set(Path(tempfile.gettempdir()).glob("sitegen-render-*.sqlite")) <= snapshots
    assert tree(site / "public") == tree(one_process / "public")
    assert _deps(site) == _deps(one_process)


def test_executor_errors_are_clear(tmp_path: Path):
    site = _example(tmp_path / "site")
    with pytest.raises(ConfigError, match=r"dask://host:port"):
        build_site(load_config(site, env={}), executor="tcp://127.0.0.1:8786")
    result = CliRunner().invoke(cli, ["build", str(site), "--executor", "dask://host:notaport"])
    assert result.exit_code != 0 and "the port is not a number" in result.output
    assert "Traceback" not in result.output


def test_help_imports_nothing_heavy():
    """``sitegen --help`` stays fast because commands import their machinery when they run."""
    code = (
        "import sys, sitegen.cli\n"
        "heavy = ('jinja2', 'httpx', 'starlette', 'sqlite3', 'distributed', 'rich', "
        "'markdown_it', 'uvicorn', 'watchfiles')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    result = CliRunner().invoke(cli, ["build", "--help"])
    assert "--jobs" in result.output and "--executor" in result.output


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_large_incremental_build_renders_in_workers_like_one_process(
    one_process: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A template change re-renders every page: in worker processes, with the same output and
    dependencies as one process gives, and no pending-pages mark left behind."""
    import sitegen.build.pipeline as pipeline

    serial = _example(tmp_path / "serial")
    build_site(load_config(serial, env={}), jobs=1)
    _edit(serial / "templates/base.html", "</body>", "<!-- edited --></body>")
    assert build_site(load_config(serial, env={}), jobs=1).kind == "incremental"

    opened: list[int] = []
    real_open = pipeline.open_workers

    def counting(jobs: int, executor: str | None):
        opened.append(jobs)
        return real_open(jobs, executor)

    parallel = _example(tmp_path / "parallel")
    build_site(load_config(parallel, env={}), jobs=2)
    _edit(parallel / "templates/base.html", "</body>", "<!-- edited --></body>")
    monkeypatch.setattr(pipeline, "open_workers", counting)
    result = build_site(load_config(parallel, env={}), jobs=2)
    assert result.kind == "incremental" and result.pages_rendered > 400
    assert opened == [2]  # the pages went to two worker processes
    assert len(result.changed) > 400
    assert tree(parallel / "public") == tree(serial / "public")
    assert _deps(parallel) == _deps(serial)
    db = sqlite3.connect(parallel / ".sitegen/store.sqlite")
    try:
        assert db.execute("SELECT value FROM meta WHERE key = 'pages_pending'").fetchone() is None
    finally:
        db.close()


def test_a_large_incremental_build_that_fails_after_committing_content_is_redone(tmp_path: Path):
    """Workers read committed state, so a large incremental build commits the content first.
    If it then fails (here a template error), the live site stays as it was, and the next
    build re-renders everything and removes what the failed build would have removed: the
    site ends as a full build of the same content makes it."""
    site = _example(tmp_path / "site")
    build_site(load_config(site, env={}), jobs=2)
    before = tree(site / "public")
    posts = sorted((site / "stack/entries/blog_post").glob("*.en-us.json"))
    gone = posts[0]
    gone.unlink()  # an unpublished post: its page must go
    base = site / "templates/base.html"
    good = base.read_text(encoding="utf-8")
    _edit(base, "</body>", "{{ 1 // 0 }}</body>")
    with pytest.raises(BuildError, match="ZeroDivisionError"):
        build_site(load_config(site, env={}), jobs=2)
    assert tree(site / "public") == before  # nothing of the failed build is live
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    try:
        (pending,) = db.execute("SELECT value FROM meta WHERE key = 'pages_pending'").fetchone()
    finally:
        db.close()
    assert json.loads(pending)["gone"]  # the page of the unpublished post, among others

    base.write_text(good.replace("</body>", "<!-- fixed --></body>", 1), encoding="utf-8")
    again = build_site(load_config(site, env={}), jobs=1)  # one process: recovery either way
    assert again.kind == "incremental"
    assert "the last build stopped before it wrote its pages" in again.triggers
    assert again.removed

    fresh = _example(tmp_path / "fresh")
    (fresh / "stack/entries/blog_post" / gone.name).unlink()
    (fresh / "templates/base.html").write_text(base.read_text(encoding="utf-8"), encoding="utf-8")
    build_site(load_config(fresh, env={}), jobs=1)
    assert tree(site / "public") == tree(fresh / "public")
    assert _deps(site) == _deps(fresh)


def test_a_worker_that_dies_stops_the_build_with_a_clear_error():
    """A worker killed (say, by the out-of-memory killer) breaks the process pool; the build
    says so in one line rather than a traceback."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    from sitegen.build.parallel import RenderPool

    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        dying = executor.submit(os._exit, 1)
        with pytest.raises(Exception):  # noqa: B017 (the pool's own error, whichever it is)
            dying.result(timeout=60)
        with pytest.raises(BuildError, match="a worker process stopped while rendering"):
            list(RenderPool(executor, spec=None, window=1).render(["index.html"]))  # type: ignore[arg-type]
    finally:
        executor.shutdown(wait=True)
