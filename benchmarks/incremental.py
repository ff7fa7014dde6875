"""Incremental-build benchmark: a full build of a synthetic site, then small changes.

    .venv/bin/python benchmarks/incremental.py --entries 10000 --locales 2

Generates a site with benchmarks/synth.py, then runs in this process, through
``sitegen.build.build_site``:

1. a full build (the reference: the state folder and the stack's history are new);
2. a build with no change;
3. a build after one post was edited (title and body, master locale, not localized elsewhere,
   so its page changes in every locale);
4. a build after the popular author (5% of the posts) was renamed;
5. a forced full build of the same content (``--no-full-rebuild`` skips it).

For each: wall time, build kind, pages rendered and files written, CDA requests, the time
relative to the first full build, and a check that the output shows the change. The table is
printed and appended, with a description of the machine, to benchmarks/RESULTS.md.

Written against the incremental interface: ``build_site(config, full=False, progress=None)``
and ``BuildResult.kind`` / ``rendered`` / ``written`` / ``removed``. Where they are missing
(sitegen before incremental builds) every build is a full one and the figures say so.
"""

from __future__ import annotations

import argparse
import html
import inspect
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import MARKER, SynthSite, generate_site

import sitegen
from sitegen.build import build_site
from sitegen.config import load_config

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


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


@dataclass
class Row:
    label: str
    kind: str
    seconds: float
    pages: int
    rendered: int
    written: int
    removed: int
    requests: int
    check: str
    triggers: list[str] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    ratio: float | None = None


def supports_full() -> bool:
    return "full" in inspect.signature(build_site).parameters


def run_build(site: SynthSite, label: str, *, full: bool = False, check=None) -> Row:
    config = load_config(site.root)
    timer = PhaseTimer()
    kwargs: dict[str, Any] = {"progress": timer}
    if full and supports_full():
        kwargs["full"] = True
    started = time.perf_counter()
    result = build_site(config, **kwargs)
    ended = time.perf_counter()
    pages = result.pages
    rendered = getattr(result, "rendered", None)
    written = getattr(result, "written", None)
    removed = getattr(result, "removed", None)
    row = Row(
        label=label,
        kind=str(getattr(result, "kind", "full")),
        seconds=ended - started,
        pages=pages,
        rendered=pages if rendered is None else _count(rendered),
        written=getattr(result, "files", 0) if written is None else _count(written),
        removed=0 if removed is None else _count(removed),
        requests=result.requests,
        check=check(config) if check else "",
        triggers=[str(t) for t in getattr(result, "triggers", None) or []],
        phases=timer.phases(ended),
    )
    print(
        f"  {label}: {row.kind}, {row.seconds:.2f}s, {row.rendered} rendered, "
        f"{row.written} written, {row.requests} requests"
        + (f"; {'; '.join(row.triggers)}" if row.triggers else "")
        + (f"; check: {row.check}" if check else ""),
        flush=True,
    )
    return row


def _count(value: Any) -> int:
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


def table(rows: list[Row]) -> str:
    lines = [
        "| build | kind | wall (s) | vs full | pages | rendered | written | removed "
        "| CDA requests | triggers | output check | phases (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.1%}"
        phases = ", ".join(f"{name.split()[0].lower()} {secs:.2f}" for name, secs in row.phases)
        lines.append(
            f"| {row.label} | {row.kind} | {row.seconds:.2f} | {ratio} | {row.pages:,} "
            f"| {row.rendered:,} | {row.written:,} | {row.removed:,} | {row.requests:,} "
            f"| {'; '.join(row.triggers) or '—'} | {row.check or '—'} | {phases} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the master locale")
    parser.add_argument("--locales", type=int, default=2, help="number of locales (1-8)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="folder for the generated site (default: a temporary folder, removed afterwards)",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help=f"Markdown file to append to ({RESULTS})"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not append")
    parser.add_argument("--note", help="a line to add to the record (e.g. what was measured)")
    parser.add_argument(
        "--no-full-rebuild", action="store_true", help="skip the final forced full build"
    )
    args = parser.parse_args(argv)

    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="sitegen-bench-")) if temporary else args.workdir
    site_dir = workdir / f"site-{args.entries}-{args.locales}-{args.seed}"
    if site_dir.exists():
        if not (site_dir / MARKER).is_file():
            parser.error(f"{site_dir} exists and was not made by benchmarks/synth.py")
        shutil.rmtree(site_dir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, site_dir)
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, site_dir: Path) -> int:
    sitegen_at = sitegen_version()  # now: the code is imported; the tree may change during the run
    print(f"generating {args.entries:,} entries × {args.locales} locale(s) in {site_dir} …")
    site = generate_site(site_dir, args.entries, args.locales, seed=args.seed)
    entry_files = site.entries + sum(site.localized.values())
    generated = (
        f"{site.entries:,} entries ({', '.join(f'{k} {v:,}' for k, v in site.counts.items())}), "
        f"{entry_files:,} entry files, {site.files:,} files, {site.bytes / 1e6:.1f} MB, "
        f"generated in {site.seconds:.2f} s ({site.entries / site.seconds:,.0f} entries/s)"
    )
    print(f"  {generated}")
    incremental = supports_full()
    print(
        "builds (in-process): "
        + ("incremental builds available" if incremental else "build_site has no `full`: all full")
    )

    rows = [run_build(site, "full build", full=True)]
    rows.append(run_build(site, "no change"))

    post = site.pick_post(localized=False)
    title = site.edit_entry(post)
    rows.append(
        run_build(
            site,
            "edit 1 post",
            check=lambda config: pages_showing(config, site, [post], title),
        )
    )

    name = site.rename_author()
    author_posts = site.popular_author_post_uids
    rows.append(
        run_build(
            site,
            f"rename author of {len(author_posts):,} posts",
            check=lambda config: pages_showing(
                config, site, [site.popular_author, *author_posts], name
            ),
        )
    )
    if not args.no_full_rebuild:
        rows.append(run_build(site, "full rebuild (forced)", full=True))

    reference = rows[0].seconds
    for row in rows[1:]:
        row.ratio = row.seconds / reference

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    info = machine(sitegen_at)
    heading = (
        f"## {info['date']} · {args.entries:,} entries × {args.locales} locale(s), seed {args.seed}"
    )
    notes = [
        f"- machine: {info['platform']}; {info['cpu']}; {info['memory']}; {info['python']}",
        f"- sitegen {info['sitegen']}; "
        + (
            "incremental builds available"
            if incremental
            else "no incremental builds (`build_site` has no `full` parameter): every build is full"
        ),
        f"- site: {generated}",
        f"- peak RSS of the benchmark process: {peak_rss:,.0f} MiB",
    ]
    if args.note:
        notes.append(f"- note: {args.note}")
    report = "\n".join([heading, "", *notes, "", table(rows), ""])
    print()
    print(report)
    if not args.no_record:
        new = not args.results.exists()
        with args.results.open("a", encoding="utf-8") as out:
            if new:
                out.write(
                    "# Benchmark results\n\nAppended by benchmarks/incremental.py; "
                    "see benchmarks/README.md for what the figures mean.\n\n"
                )
            out.write(report + "\n")
        print(f"appended to {args.results}")
    stale = [row for row in rows if row.check.startswith("STALE")]
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
