"""The performance benchmark: one run, one machine, every figure of the "Performance" issue.

    .venv/bin/python benchmarks/perf.py --entries 10000 --locales 2

Generates a synthetic site (benchmarks/synth.py), serves its local stack from a separate
process (``sitegen stack serve``) and runs every build in a child process of its own, so the
build's peak RSS is the build's alone. Then reports:

- the full build: wall time, pages per second, the render phase, peak RSS, CDA requests;
- the floor: the same pages rendered by a bare loop of ``template.render(context)`` plus a file
  write, with the build's own Jinja environment and contexts built before the clock starts;
  and the ratios build / floor;
- CDA requests against the lower bound;
- incremental builds after a one-entry edit and after renaming the author of 5% of the posts;
- ``build_site(jobs=1)`` against ``jobs=2`` (and ``executor``) when sitegen has them;
- ``sitegen --help`` (median of 5);
- Hugo on the same posts, when ``hugo`` is on PATH (benchmarks/hugo.py);

with the published anchors and the issue's targets, appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    PhaseTimer,
    append_report,
    count,
    describe_site,
    machine,
    machine_line,
    pages_showing,
    site_folder,
    sitegen_version,
)
from synth import ASSET_COUNT, SynthSite, generate_site

HERE = Path(__file__).resolve()
FLOOR_CHUNK = 2000  # pages whose contexts are built, then rendered, at a time (bounds memory)
CDA_PAGE = 100  # entries per CDA page
ANCHORS = "Hugo ≈0.17 ms/page, Eleventy ≈0.5 ms/page on 4,000 markdown files (Zach Leatherman's SSG build benchmark, 2022)"


# -- a build in a child process ---------------------------------------------------------------


def child_build(argv: list[str]) -> int:
    """``perf.py _build SITE [--full] [--jobs N] [--executor X]``: one build; prints a JSON line."""
    parser = argparse.ArgumentParser(prog="perf.py _build")
    parser.add_argument("site", type=Path)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--executor")
    args = parser.parse_args(argv)

    from sitegen.build import build_site
    from sitegen.config import load_config

    config = load_config(args.site)
    kwargs: dict[str, Any] = {}
    if args.full:
        kwargs["full"] = True
    if args.jobs is not None:
        kwargs["jobs"] = args.jobs
    if args.executor is not None:
        kwargs["executor"] = args.executor
    timer = PhaseTimer()
    started = time.perf_counter()
    result = build_site(config, progress=timer, **kwargs)
    ended = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "seconds": ended - started,
        "kind": str(getattr(result, "kind", "full")),
        "pages": result.pages,
        "rendered": count(getattr(result, "rendered", result.pages)),
        "written": count(getattr(result, "written", 0)),
        "requests": result.requests,
        "triggers": [str(t) for t in getattr(result, "triggers", None) or []],
        "phases": timer.phases(ended),
        "maxrss_mib": peak_rss_mib(usage),
        "workers_maxrss_mib": workers.ru_maxrss / 1024,  # KiB on Linux; 0 without workers
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    print("RESULT " + json.dumps(report), flush=True)
    return 0


def peak_rss_mib(usage: resource.struct_rusage) -> float:
    """This process's peak RSS: ``VmHWM`` of /proc/self/status, else ``ru_maxrss``.

    Not ``ru_maxrss`` where there is a choice: Linux carries the peak of the memory image a
    process had before ``exec`` into it, and subprocess forks (or vforks) from the benchmark
    process, so a child started after the floor (which holds a large part of the site in
    memory) would report the benchmark's peak, not its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return usage.ru_maxrss / 1024  # KiB on Linux


@dataclass
class Build:
    label: str
    seconds: float
    kind: str
    pages: int
    rendered: int
    written: int
    requests: int
    triggers: list[str]
    phases: list[tuple[str, float]]
    maxrss_mib: float
    cpu_seconds: float
    workers_maxrss_mib: float = 0.0  # the largest of the build's own child processes
    check: str = ""

    def phase(self, prefix: str) -> float | None:
        return next((s for name, s in self.phases if name.lower().startswith(prefix)), None)


def run_child(site_dir: Path, label: str, *extra: str) -> Build:
    command = [sys.executable, str(HERE), "_build", str(site_dir), *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{label}: the build failed (exit {done.returncode})")
    data = json.loads(line[len("RESULT ") :])
    data["phases"] = [tuple(p) for p in data["phases"]]
    build = Build(label=label, **data)
    settle(site_dir)
    print(
        f"  {label}: {build.kind}, {build.seconds:.2f} s, {build.rendered:,} rendered, "
        f"{build.written:,} written, {build.requests} requests, peak RSS {build.maxrss_mib:,.0f} MiB",
        flush=True,
    )
    return build


def settle(site_dir: Path, limit: float = 120.0) -> None:
    """Wait until the folders a build left to be deleted in the background are gone.

    A build that swaps in a new site hands the old one (tens of thousands of files) to a
    process of its own and returns; measured back to back, the next build would share the
    machine with that deletion. A user's next build rarely follows within seconds.
    """
    output = load(site_dir).output
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(output.parent.glob(f".{output.name}.*-*")):
        time.sleep(0.2)


# -- the local stack in its own process -------------------------------------------------------


def compile_sitegen() -> bool:
    """Write sitegen's ``__pycache__`` when this environment would not, so process start and
    worker start are measured as an installed sitegen has them; True if it was needed."""
    if not sys.dont_write_bytecode:
        return False
    import compileall

    import sitegen

    compileall.compile_dir(Path(sitegen.__file__).parent, quiet=1)
    return True


SMALL = 2_000  # entries of the site whose one-post edit counts process start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StackServer:
    """``sitegen stack serve STACK --port P`` for the length of a ``with`` block."""

    def __init__(self, stack: Path, log: Path):
        self.stack = stack
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen | None = None
        self.stack_peak_mib: float | None = None  # the server's peak RSS, read as it stops

    def __enter__(self) -> StackServer:
        sitegen_cli = Path(sys.executable).with_name("sitegen")
        command = [str(sitegen_cli), "stack", "serve", str(self.stack), "--port", str(self.port)]
        self.log_file = self.log.open("w")
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600  # the first scan of a big stack takes a while
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"sitegen stack serve exited: see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"sitegen stack serve did not start listening: see {self.log}")

    def peak_rss_mib(self) -> float | None:
        """The server process's peak RSS so far (``VmHWM``; None where /proc has none)."""
        if self.process is None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.stack_peak_mib = self.peak_rss_mib()
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def small_site_edit(site_dir: Path, args: argparse.Namespace) -> float:
    """Wall-clock seconds of ``sitegen build`` (process start included) after a one-post edit
    on a 2,000-entry site, its stack served by another process as for the big one."""
    small_dir = site_dir.with_name(site_dir.name + "-2000")
    small = generate_site(small_dir, SMALL, args.locales, seed=args.seed, fanout=args.fanout)
    try:
        with StackServer(small.stack, small_dir.with_name(small_dir.name + "-stack.log")) as server:
            use_served_stack(small, server.host)
            run_child(small.root, f"{SMALL:,} entries: full build", "--full")
            small.edit_entry(small.pick_post(localized=False))
            sitegen_cli = Path(sys.executable).with_name("sitegen")
            started = time.perf_counter()
            subprocess.run(
                [str(sitegen_cli), "build", str(small.root), "-q"], check=True, capture_output=True
            )
            seconds = time.perf_counter() - started
        print(f"  {SMALL:,} entries: edit 1 post, `sitegen build` in {seconds:.2f} s")
        return seconds
    finally:
        shutil.rmtree(small_dir, ignore_errors=True)


def use_served_stack(site: SynthSite, host: str) -> None:
    """Point the site's sitegen.toml at the served stack (with its credentials, if any)."""
    stack_json = json.loads((site.stack / "stack.json").read_text(encoding="utf-8"))
    api_key = stack_json.get("api_key") or "blt0000000000000bench"
    token = stack_json.get("delivery_token") or "csbench"
    config = site.root / "sitegen.toml"
    text = config.read_text(encoding="utf-8")
    served = f'host = "{host}"\napi_key = "{api_key}"\ndelivery_token = "{token}"'
    assert 'local = "stack"' in text
    config.write_text(text.replace('local = "stack"', served), encoding="utf-8")


def in_process_site(site: SynthSite) -> Path:
    """A sibling folder building the same stack in-process ([stack] local), own state/output."""
    other = site.root.with_name(site.root.name + "-in-process")
    shutil.rmtree(other, ignore_errors=True)
    other.mkdir()
    for name in ("templates", "static"):
        (other / name).symlink_to(site.root / name)
    text = (site.root / "sitegen.toml").read_text(encoding="utf-8")
    lines = []
    skip = {"host", "api_key", "delivery_token"}
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in skip:
            if key == "host":
                lines.append(f'local = "{site.stack}"')
            continue
        lines.append(line)
    (other / "sitegen.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return other


# -- the floor --------------------------------------------------------------------------------


@dataclass
class Floor:
    pages: int
    seconds: float
    context_seconds: float
    skipped: list[str] = field(default_factory=list)

    @property
    def ms_per_page(self) -> float:
        return self.seconds * 1000 / max(1, self.pages)


def measure_floor(site_dir: Path, scratch: Path) -> Floor:
    """Render the built site's pages again with a bare loop, contexts built beforehand.

    The contexts are the ones the build passes to Jinja: ``Renderer.render`` /
    ``render_file`` are called as ``render_pages`` calls them, with ``Renderer._render``
    replaced by a recorder, so entry, listing, feed and site-file pages get exactly the
    build's context. The loop then runs ``env.get_template(name).render(context)`` and writes
    the file, with the build's environment (its filters and globals: ``url_for`` and
    ``entries()`` query the store as in the build; dependency recording is off). Sitemaps are
    left out (they are not rendered through one template call per page). Pages go
    FLOOR_CHUNK at a time: build contexts, start the clock, render and write, stop it.
    """
    from sitegen.build.listings import Listings
    from sitegen.build.pages import _render_listing, rendered_types
    from sitegen.build.pipeline import STORE_NAME
    from sitegen.build.render import Renderer
    from sitegen.build.site_files import render_fixed
    from sitegen.config import load_config
    from sitegen.store import Store

    config = load_config(site_dir)
    store = Store(config.state_dir / STORE_NAME, create=False)
    try:
        listings = Listings(config, store)
        renderer = Renderer(config, store, frozenset(), listings)
        renderer.rendered_types = rendered_types(config, store, renderer, lambda message: None)
        env = renderer.env
        locales = {loc.code: loc for loc in config.locales}
        captured: list[tuple[str, dict[str, Any]]] = []

        def record(template: str, context: dict[str, Any], where: str) -> tuple[str, set]:
            captured.append((template, context))
            return "", set()

        renderer._render = record  # type: ignore[method-assign]
        pages = [page for batch in store.graph.pages() for page in batch]
        skipped = sorted(page.file for page in pages if page.source == "sitemap")
        pages = [page for page in pages if page.source != "sitemap"]
        shutil.rmtree(scratch, ignore_errors=True)
        for folder in {(scratch / page.file).parent for page in pages}:
            folder.mkdir(parents=True, exist_ok=True)
        rendering = context_time = 0.0
        for i in range(0, len(pages), FLOOR_CHUNK):
            chunk = pages[i : i + FLOOR_CHUNK]
            started = time.perf_counter()
            keys = [(p.content_type, p.uid, p.locale) for p in chunk if p.kind == "entry"]
            entries = store.content.entries_by_key(keys)
            jobs: list[tuple[str, dict[str, Any], Path]] = []
            for page in chunk:
                captured.clear()
                if page.kind == "entry":
                    renderer.render(
                        config.template_for(page.content_type),
                        entries[(page.content_type, page.uid, page.locale)],
                        locales[page.locale],
                        page.url,
                    )
                elif page.kind == "file":
                    render_fixed(config, renderer, page)
                else:
                    _render_listing(config, renderer, listings, page)
                if captured:  # a preview robots.txt is not templated
                    template, context = captured[0]
                    jobs.append((template, context, scratch / page.file))
            context_time += time.perf_counter() - started
            started = time.perf_counter()
            for template, context, path in jobs:  # the floor: nothing else in this loop
                html = env.get_template(template).render(context)
                path.write_text(html, encoding="utf-8")
            rendering += time.perf_counter() - started
            del jobs, entries
        return Floor(len(pages), rendering, context_time, skipped)
    finally:
        store.close()


# -- other figures ----------------------------------------------------------------------------


def request_lower_bound(site: SynthSite) -> tuple[int, str]:
    """Content types (1) + the sync walk (1 page: a full build only needs its token) + the
    taxonomy list (1; the synthetic stack has no taxonomies, else one terms page per taxonomy
    and locale) + asset pages + one page per 100 entries per content type and locale
    (fallback entries count in every locale: the CDA returns them there)."""
    entry_pages = sum(math.ceil(n / CDA_PAGE) for n in site.counts.values()) * len(site.locales)
    asset_pages = math.ceil(ASSET_COUNT / CDA_PAGE)
    total = 1 + 1 + 1 + asset_pages + entry_pages
    return total, (
        f"1 content types + 1 sync + 1 taxonomies + {asset_pages} assets + "
        f"{entry_pages} entry pages"
    )


def output_digest(folder: Path) -> tuple[int, str]:
    """(files, one hash over every file's path and bytes) of an output folder."""
    digest = hashlib.sha256()
    files = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
        files += 1
    return files, digest.hexdigest()


def help_time(runs: int = 5) -> list[float]:
    sitegen_cli = Path(sys.executable).with_name("sitegen")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(sitegen_cli), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def build_parameters() -> dict[str, inspect.Parameter]:
    from sitegen.build import build_site

    return dict(inspect.signature(build_site).parameters)


def executor_values(parameter: inspect.Parameter) -> list[str]:
    """The values of a ``Literal[...]`` annotation (as a string or a type), else []."""
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    if "Literal[" not in text:
        return []
    inside = text.split("Literal[", 1)[1].split("]", 1)[0]
    return [v.strip().strip("'\"") for v in inside.split(",") if v.strip()]


# -- the report -------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**not met**")


def mb(value: float) -> str:
    return f"{value:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_build"]:
        return child_build(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the master locale")
    parser.add_argument("--locales", type=int, default=2, help="number of locales (1-8)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--fanout", type=int, default=3, help="most categories per post (1-20)")
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
    parser.add_argument("--no-hugo", action="store_true", help="skip the Hugo comparison")
    parser.add_argument(
        "--no-in-process",
        action="store_true",
        help="skip the extra full build with the stack served in-process ([stack] local)",
    )
    args = parser.parse_args(argv)
    with site_folder(args.workdir, args.entries, args.locales, args.seed) as site_dir:
        return run(args, site_dir)


def run(args: argparse.Namespace, site_dir: Path) -> int:
    sitegen_at = sitegen_version()
    params = build_parameters()
    print(f"generating {args.entries:,} entries × {args.locales} locale(s) in {site_dir} …")
    site = generate_site(site_dir, args.entries, args.locales, seed=args.seed, fanout=args.fanout)
    generated = describe_site(site)
    print(f"  {generated}")
    scratch = site_dir.with_name(site_dir.name + "-scratch")
    notes: list[str] = []
    if compile_sitegen():
        notes.append(
            "sitegen's bytecode compiled first, as installing a wheel does (this machine sets "
            "PYTHONDONTWRITEBYTECODE=1, which makes every process compile every module: "
            "about 0.14 s a start)"
        )
    failures: list[str] = []

    with StackServer(site.stack, site_dir.with_name(site_dir.name + "-stack.log")) as server:
        use_served_stack(site, server.host)
        print(f"local stack served by a separate process at {server.host}; builds in children:")
        full = run_child(site.root, "full build", "--full")

        print("floor: the same pages through a bare render loop …", flush=True)
        floor = measure_floor(site.root, scratch / "floor")
        print(
            f"  floor: {floor.pages:,} pages in {floor.seconds:.2f} s "
            f"({floor.ms_per_page:.3f} ms/page; contexts built in {floor.context_seconds:.2f} s)"
        )
        shutil.rmtree(scratch, ignore_errors=True)

        post = site.pick_post(localized=False)
        title = site.edit_entry(post)
        one = run_child(site.root, "edit 1 post")
        one.check = pages_showing(load(site.root), site, [post], title)

        name = site.rename_author()
        author_posts = site.popular_author_post_uids
        five = run_child(site.root, f"rename author of {len(author_posts):,} posts (5%)")
        five.check = pages_showing(
            load(site.root), site, [site.popular_author, *author_posts], name
        )
        for build in (one, five):
            if build.check.startswith("STALE"):
                failures.append(f"{build.label}: {build.check}")

        # a template every page extends changes: the whole site again, incrementally
        base = site.root / "templates" / "base.html"
        base.write_text(base.read_text(encoding="utf-8") + "\n{# edited #}\n", encoding="utf-8")
        template = run_child(site.root, "edit base.html")

        parallel: list[Build] = []
        identical: bool | None = None
        if "jobs" in params:
            print("parallel rendering: full builds with jobs=1 and jobs=2 …", flush=True)
            output = load(site.root).output
            parallel.append(run_child(site.root, "full, jobs=1", "--full", "--jobs", "1"))
            digest_1 = output_digest(output)
            parallel.append(run_child(site.root, "full, jobs=2", "--full", "--jobs", "2"))
            digest_2 = output_digest(output)
            identical = digest_1 == digest_2
            if not identical:
                failures.append("jobs=2 output differs from jobs=1")
            if "executor" in params:
                for value in executor_values(params["executor"]):
                    label = f"full, jobs=2, executor={value}"
                    parallel.append(
                        run_child(site.root, label, "--full", "--jobs", "2", "--executor", value)
                    )
                    if output_digest(output) != digest_1:
                        failures.append(f"{label}: output differs from jobs=1")
                if not executor_values(params["executor"]):
                    notes.append("`build_site` has `executor` but no Literal values to try")
            else:
                notes.append("`build_site` has no `executor` parameter: skipped")
        else:
            print("parallel rendering not available (build_site has no `jobs` parameter)")
            notes.append("parallel rendering not available (`build_site` has no `jobs`)")

    in_process: Build | None = None
    if not args.no_in_process:
        other = in_process_site(site)
        in_process = run_child(other, "full build, stack in-process", "--full")
        shutil.rmtree(other, ignore_errors=True)

    print(f"one-post edit on a {SMALL:,}-entry site, process start included …", flush=True)
    small_edit = small_site_edit(site_dir, args)

    print("sitegen --help × 5 …", flush=True)
    helps = help_time()
    help_median = statistics.median(helps)

    hugo_run = None
    hugo_note = ""
    if args.no_hugo:
        hugo_note = "skipped (--no-hugo)"
    else:
        from hugo import hugo_version, run_hugo

        if hugo_version() is None:
            hugo_note = (
                "hugo not on PATH: skipped (Debian/Ubuntu: `apt-get install hugo`; "
                "elsewhere https://gohugo.io/installation/)"
            )
            print(hugo_note)
        else:
            print("hugo on the same posts …", flush=True)
            hugo_run = run_hugo(site.root, site_dir.with_name(site_dir.name + "-hugo"))
            shutil.rmtree(site_dir.with_name(site_dir.name + "-hugo"), ignore_errors=True)

    # -- figures ---------------------------------------------------------------------------
    lower, lower_how = request_lower_bound(site)
    render_phase = full.phase("rendering") or 0.0
    rendered = full.rendered
    big = args.entries >= 10_000
    rows: list[tuple[str, str, str, str]] = []

    def row(figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((figure, value, target or "—", verdict(ok) if target else "—"))

    row(
        "full build (separate stack process)",
        f"{full.seconds:.2f} s, {full.pages:,} pages ({rendered:,} files rendered): "
        f"{full.pages / full.seconds:,.0f} pages/s, {full.seconds * 1000 / full.pages:.2f} ms/page",
    )
    row("  of which rendering phase", f"{render_phase:.2f} s ({render_phase / full.seconds:.0%})")
    row(
        "  phases",
        ", ".join(f"{n.split()[0].lower()} {s:.2f}" for n, s in full.phases),
    )
    row(
        "floor (bare `template.render` + write)",
        f"{floor.seconds:.2f} s for {floor.pages:,} pages: {floor.ms_per_page:.3f} ms/page "
        f"(contexts built untimed in {floor.context_seconds:.2f} s)",
    )
    ratio_full = full.seconds / floor.seconds
    row(
        "full build / floor",
        f"{ratio_full:.2f}×",
        "≤ 1.2× at 10k",
        ratio_full <= 1.2 if big else None,
    )
    row("render phase / floor", f"{render_phase / floor.seconds:.2f}×")
    # The request target is judged on the in-process build: against a stack that is not
    # in-process, a full build starts its sync walk SYNC_MARGIN (10 min) early, and a stack
    # served for the first time dates everything "just published", so that walk pages
    # through every item. Against a real stack only the last 10 minutes' changes are walked.
    judged = in_process or full
    row(
        "CDA requests / lower bound" + (" (in-process build)" if in_process else ""),
        f"{judged.requests} / {lower} = {judged.requests / lower:.3f} ({lower_how})",
        "within 5%",
        judged.requests <= lower * 1.05,
    )
    if in_process is not None:
        row(
            "  the same, stack in a separate process",
            f"{full.requests} / {lower} = {full.requests / lower:.3f} (its sync walk starts "
            "10 min early and the freshly served stack dates every item now: "
            "+1 page per 100 items)",
        )
    one_share = one.seconds / full.seconds
    row(
        "incremental: edit 1 post",
        f"{one.seconds:.2f} s = {one_share:.1%} of full; {one.rendered} rendered; {one.check}",
        "≤ 1% of full at 10k × 2 locales",
        one_share <= 0.01 if big and args.locales == 2 else None,
    )
    five_share = five.seconds / full.seconds
    row(
        f"incremental: rename author of {len(site.popular_author_post_uids):,} posts (5%)",
        f"{five.seconds:.2f} s = {five_share:.1%} of full; "
        f"{five.rendered:,} rendered; {five.check}",
        "≤ 10% of full at 10k × 2 locales",
        five_share <= 0.10 if big and args.locales == 2 else None,
    )
    full_ms = full.seconds * 1000 / max(full.rendered, 1)
    five_ms = five.seconds * 1000 / max(five.rendered, 1)
    row(
        "  cost per re-rendered page, rename vs full build",
        f"{five_ms:.2f} ms vs {full_ms:.2f} ms: {five_ms / full_ms:.2f}×",
        "≤ 1×",
        five_ms <= full_ms,
    )
    row(
        "incremental: edit base.html (every page)",
        f"{template.seconds:.2f} s = {template.seconds / full.seconds:.1%} of full; "
        f"{template.rendered:,} rendered",
        "faster than Hugo's whole build",
        template.seconds < hugo_run.seconds if hugo_run is not None else None,
    )
    if len(parallel) >= 2:
        speedup = parallel[0].seconds / parallel[1].seconds
        row(
            "full build jobs=1 → jobs=2",
            f"{parallel[0].seconds:.2f} s → {parallel[1].seconds:.2f} s: {speedup:.2f}× "
            f"(outputs {'byte-identical' if identical else 'DIFFER'})",
            "≥ 1.8×",
            speedup >= 1.8,
        )
        one, two = parallel[0].phase("rendering"), parallel[1].phase("rendering")
        if one and two:
            row("  rendering phase jobs=1 → jobs=2", f"{one:.2f} s → {two:.2f} s: {one / two:.2f}×")
        for extra in parallel[2:]:
            row(extra.label, f"{extra.seconds:.2f} s: {parallel[0].seconds / extra.seconds:.2f}×")
        row(
            "peak RSS, jobs=2 (build process; largest worker)",
            f"{mb(parallel[1].maxrss_mib)}; {mb(parallel[1].workers_maxrss_mib)}",
        )
    else:
        row("full build jobs=1 → jobs=2", "parallel rendering not available", "≥ 1.6×", None)
    row(
        "peak RSS of the build process",
        mb(full.maxrss_mib),
        "≤ 300 MB at 50k",
        None if args.entries < 50_000 else full.maxrss_mib * 2**20 <= 300e6,
    )
    row(
        "peak RSS of the local stack (`sitegen stack serve`, every build above)",
        mb(server.stack_peak_mib)
        if server.stack_peak_mib is not None
        else "not measured (no /proc)",
    )
    if in_process is not None:
        row(
            "  same build with the stack in-process ([stack] local)",
            f"{mb(in_process.maxrss_mib)}, {in_process.seconds:.2f} s",
        )
    row(
        f"incremental: edit 1 post at {SMALL:,} entries × {args.locales}, `sitegen build` "
        "wall clock (process start included)",
        f"{small_edit:.2f} s",
        "≤ 0.5 s",
        small_edit <= 0.5,
    )
    row(
        "`sitegen --help` (median of 5)",
        f"{help_median:.3f} s (runs {', '.join(f'{t:.2f}' for t in helps)})",
        "< 0.3 s",
        help_median < 0.3,
    )
    if hugo_run is not None:
        row(
            "Hugo on the same posts",
            f"{hugo_run.pages:,} pages in {hugo_run.seconds:.2f} s: {hugo_run.ms_per_page:.3f} "
            f"ms/page ({hugo_run.version.split()[1]}; {hugo_run.posts:,} markdown files, "
            f"{hugo_run.content_mb:.1f} MB)",
        )
        sg_ms = full.seconds * 1000 / full.pages
        row(
            "sitegen full / Hugo (ms per page)",
            f"{sg_ms / hugo_run.ms_per_page:.2f}×",
            "≤ 1.5×",
            sg_ms / hugo_run.ms_per_page <= 1.5,
        )
        row(
            "sitegen floor / Hugo (ms per page)", f"{floor.ms_per_page / hugo_run.ms_per_page:.1f}×"
        )
    else:
        row("Hugo on the same posts", hugo_note)
    row("published anchors", ANCHORS)

    info = machine(sitegen_at)
    heading = (
        f"## {info['date']} · perf.py · {args.entries:,} entries × {args.locales} locale(s), "
        f"seed {args.seed}"
    )
    lines = [
        heading,
        "",
        f"- machine: {machine_line(info)}",
        f"- sitegen {info['sitegen']}",
        f"- site: {generated}; fan-out ≤ {args.fanout} categories a post; "
        "listing /posts/ (20 a page) and feed /posts/feed.xml",
        "- builds: each in a child process (`perf.py _build`), the local stack served by "
        "`sitegen stack serve` in another; figures are wall-clock on a shared machine",
    ]
    if floor.skipped:
        lines.append(f"- floor leaves out {', '.join(floor.skipped)} (not one template call)")
    lines += [f"- {note}" for note in notes]
    if args.note:
        lines.append(f"- note: {args.note}")
    lines += ["", "| figure | value | target | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    report = "\n".join(lines) + "\n"
    print()
    print(report)
    if not args.no_record:
        append_report(args.results, report)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def load(site_dir: Path):
    from sitegen.config import load_config

    return load_config(site_dir)


if __name__ == "__main__":
    sys.exit(main())
