"""Rendering in other processes and on a Dask cluster gives exactly the one-process output."""

from __future__ import annotations

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
from sitegen.errors import ConfigError
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
