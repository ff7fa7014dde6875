"""Helpers shared by the benchmarks (perf.py, incremental.py): progress timing, output checks,
the machine and sitegen version lines, the work folder and the results file."""

from __future__ import annotations

import html
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synth import MARKER, SynthSite

import sitegen

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\nAppended by benchmarks/perf.py and benchmarks/incremental.py; "
    "see benchmarks/README.md for what the figures mean.\n\n"
)


class PhaseTimer:
    """A build progress sink that records when each phase started."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = [("setup", time.perf_counter())]
        self.warnings: list[str] = []

    def start(self, phase: str, total: int | None = None) -> None:
        self.marks.append((phase, time.perf_counter()))

    def add_total(self, n: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def __getattr__(self, name: str) -> Any:  # progress methods added later: ignore them
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None

    def phases(self, end: float) -> list[tuple[str, float]]:
        times = [t for _, t in self.marks[1:]] + [end]
        return [(name, after - at) for (name, at), after in zip(self.marks, times, strict=True)]


def count(value: Any) -> int:
    """A count, whether the result gives a number or a collection."""
    return value if isinstance(value, int) else len(value)


def page_file(config, url: str, locale: str) -> Path:
    prefix = next(loc.prefix for loc in config.locales if loc.code == locale)
    parts = [p for p in f"{prefix}{url}".split("/") if p]
    return config.output.joinpath(*parts, "index.html")


def pages_showing(config, site: SynthSite, uids: list[str], text: str) -> str:
    """'ok' when the page of every entry in ``uids`` in every locale contains ``text``."""
    needle = html.escape(text, quote=True)
    stale = missing = total = 0
    for uid in uids:
        url = site.entry(uid)["url"]
        for locale in site.locales:
            total += 1
            file = page_file(config, url, locale)
            if not file.is_file():
                missing += 1
            elif needle not in file.read_text(encoding="utf-8"):
                stale += 1
    if stale or missing:
        return f"STALE: {stale} of {total} pages without the change, {missing} missing"
    return f"ok ({total} pages)"


def machine(sitegen_at: str) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory = "RAM unknown"
    return {
        "platform": platform.platform(),
        "cpu": f"{os.cpu_count()} × {cpu}",
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sitegen": sitegen_at,
    }


def sitegen_version() -> str:
    package = Path(sitegen.__file__).resolve().parent
    version = getattr(sitegen, "__version__", "?")
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{version} from {package}"
    return f"{version} at {commit}{' + uncommitted changes' if dirty else ''}"


def describe_site(site: SynthSite) -> str:
    """One line: what was generated, how big, how fast."""
    entry_files = site.entries + sum(site.localized.values())
    return (
        f"{site.entries:,} entries ({', '.join(f'{k} {v:,}' for k, v in site.counts.items())}), "
        f"{entry_files:,} entry files, {site.files:,} files, {site.bytes / 1e6:.1f} MB, "
        f"generated in {site.seconds:.2f} s ({site.entries / site.seconds:,.0f} entries/s)"
    )


def machine_line(info: dict[str, str]) -> str:
    return f"{info['platform']}; {info['cpu']}; {info['memory']}; {info['python']}"


@contextmanager
def site_folder(
    workdir: Path | None, entries: int, locales: int, seed: int, prefix: str = "sitegen-bench-"
) -> Iterator[Path]:
    """``workdir/site-<entries>-<locales>-<seed>`` (replaced if a generated site is there), or
    the same in a temporary folder removed afterwards."""
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix=prefix)) if temporary else workdir
    site_dir = root / f"site-{entries}-{locales}-{seed}"
    if site_dir.exists():
        if not (site_dir / MARKER).is_file():
            raise SystemExit(f"{site_dir} exists and was not made by benchmarks/synth.py")
        shutil.rmtree(site_dir)
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield site_dir
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


def append_report(results: Path, report: str) -> None:
    new = not results.exists()
    with results.open("a", encoding="utf-8") as out:
        if new:
            out.write(RESULTS_HEADER)
        out.write(report + "\n")
    print(f"appended to {results}")
