"""Writing the site: into a staging folder, swapped in only when the whole build succeeded.

A failed or interrupted build therefore never leaves a half-written site where the previous
one was; the staging folder is removed and the old output is untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sitegen.errors import BuildError


class StagedOutput:
    """A staging folder beside the output folder, committed by :meth:`swap`."""

    def __init__(self, output: Path):
        self.output = output
        self.staging = output.parent / f".{output.name}.staging-{os.getpid()}"
        self.files = 0
        self.bytes = 0

    def __enter__(self) -> StagedOutput:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir()
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)

    def path_for(self, relative: str) -> Path:
        """Where a '/'-separated relative output path lands; never outside the staging folder."""
        target = (self.staging / relative).resolve()
        if not target.is_relative_to(self.staging.resolve()):
            raise BuildError(f"output path {relative!r} would leave the output folder")
        return target

    def write(self, relative: str, data: str | bytes) -> None:
        target = self.path_for(relative)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payload)
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            raise BuildError(
                f"output path {relative!r} clashes with another page's file or folder; "
                "check the url fields of the entries that write there"
            ) from None
        self.files += 1
        self.bytes += len(payload)

    def copy_tree(self, source: Path, relative: str = "") -> int:
        """Copy a folder (static files, local assets) into the output; returns files copied."""
        count = 0
        base = self.path_for(relative) if relative else self.staging
        for path in sorted(source.rglob("*")):
            if path.is_dir() or path.name.startswith("."):
                continue
            target = base / path.relative_to(source)
            if target.exists():
                raise BuildError(
                    f"{path}: would overwrite {target.relative_to(self.staging)}, which a page already wrote"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            count += 1
            self.files += 1
            self.bytes += target.stat().st_size
        return count

    def swap(self) -> None:
        """Replace the output folder by the staging folder (old one removed afterwards)."""
        old = self.output.parent / f".{self.output.name}.old-{os.getpid()}"
        if self.output.exists():
            if not self.output.is_dir():
                raise BuildError(
                    f"{self.output}: the output path exists and is not a folder; move it away"
                )
            os.replace(self.output, old)
        os.replace(self.staging, self.output)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
