"""Full-text search: a Pagefind index of the finished site, written with the site.

Pagefind (https://pagefind.app) reads the built HTML and writes a static search bundle
(``pagefind/``: the index in fragments, ``pagefind-ui.js`` and ``.css``) that works offline in
the browser, with one index per ``<html lang>``. It runs when ``[search] pagefind = true``.
Its binary comes from the ``pagefind-bin`` package (``pagefind[bin]`` on PyPI), a dependency
of sitegen, so there is nothing else to install.

Its files go through the build's output like any page, so they are swapped in with the site
(full builds) or moved over the live ones with the changed pages (incremental builds), and an
index whose bytes did not change keeps its files untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from sitegen.build.write import OverlayOutput, StagedOutput
from sitegen.errors import BuildError

BUNDLE = "pagefind"
# "Indexed 25 pages" in Pagefind's summary
_INDEXED = re.compile(r"Indexed (\d+) pages?")


def pagefind_executable() -> Path:
    """The Pagefind binary shipped by the pagefind-bin wheel."""
    try:
        from pagefind_bin import get_executable
    except ImportError:
        raise BuildError(
            "[search] pagefind = true needs the Pagefind binary: pip install 'pagefind[bin]' "
            "into sitegen's environment (it is a dependency of sitegen: reinstall sitegen)"
        ) from None
    try:
        return get_executable()
    except FileNotFoundError:
        raise BuildError(
            "the pagefind-bin package has no binary for this platform; remove [search] "
            "pagefind from sitegen.toml or install pagefind some other way"
        ) from None


def index_site(site: Path, out: StagedOutput | OverlayOutput) -> int:
    """Index the finished site in ``site`` and write the bundle through ``out``.

    Returns the number of pages Pagefind indexed. Files of an earlier bundle that the new one
    lacks are removed (with an overlay; a staged site starts empty anyway).
    """
    with tempfile.TemporaryDirectory(prefix=".pagefind-", dir=out.output.parent) as scratch:
        bundle = Path(scratch) / BUNDLE
        command = [
            str(pagefind_executable()),
            "--site",
            str(site),
            "--output-path",
            str(bundle),
            "--glob",
            "**/*.html",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise BuildError(f"Pagefind could not index the site: {err}") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise BuildError(
                f"Pagefind could not index the site (exit {done.returncode}): " + " / ".join(detail)
            )
        match = _INDEXED.search(done.stdout)
        written: set[str] = set()
        for folder, _dirs, files in os.walk(bundle):
            for name in sorted(files):
                source = Path(folder) / name
                relative = f"{BUNDLE}/{source.relative_to(bundle).as_posix()}"
                out.place(relative, source)
                written.add(relative)
        if isinstance(out, OverlayOutput):
            live = out.output / BUNDLE
            for folder, _dirs, files in os.walk(live):
                for name in files:
                    relative = f"{BUNDLE}/{(Path(folder) / name).relative_to(live).as_posix()}"
                    if relative not in written:
                        out.remove(relative)
    return int(match.group(1)) if match else 0
