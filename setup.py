"""Ship the starter sites in the wheel (everything else is in pyproject.toml).

`sitegen init` copies a starter from the repository's top-level templates/<name>/ folders. An
installed sitegen has no repository, so the wheel build copies them into the package as
sitegen/starters/<name>/, where sitegen.cli.scaffold looks first. Editable installs skip the copy:
they read the repository folder directly, so a starter edit needs no reinstall.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

STARTERS = Path(__file__).resolve().parent / "templates"
# Build output, state and clutter, never part of a starter: the same rules as
# sitegen.cli.scaffold.skipped (sitegen cannot be imported while it is being built).
ROOT_SKIP = {"public", "public-preview", ".sitegen", ".sitegen-preview"}
ANYWHERE_SKIP = {"__pycache__", ".DS_Store"}


def _skipped(rel: Path) -> bool:
    top = rel.parts[0]
    if top in ROOT_SKIP or (top.startswith(".") and ".history.sqlite" in top):
        return True
    return any(part in ANYWHERE_SKIP or part.endswith(".pyc") for part in rel.parts)


def starter_files() -> list[Path]:
    """Every file of every starter, relative to templates/."""
    found: list[Path] = []
    for starter in sorted(p for p in STARTERS.iterdir() if p.is_dir()):
        for folder, dirs, files in os.walk(starter):
            rel_dir = Path(folder).relative_to(starter)
            dirs[:] = sorted(d for d in dirs if not _skipped(rel_dir / d))
            found += [
                Path(starter.name, rel_dir, name)
                for name in sorted(files)
                if not _skipped(rel_dir / name)
            ]
    return found


class BuildWithStarters(build_py):
    """build_py, plus templates/<starter>/… copied to <build>/sitegen/starters/<starter>/…."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "sitegen" / "starters"
        if target.exists():
            shutil.rmtree(target)
        for rel in starter_files():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(STARTERS / rel, dest)


setup(cmdclass={"build_py": BuildWithStarters})
