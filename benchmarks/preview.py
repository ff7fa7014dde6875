"""Live Preview benchmark: time from request to rendered page of ``sitegen preview serve``.

    .venv/bin/python benchmarks/preview.py --entries 10000 --locales 2

Generates a site with benchmarks/synth.py, starts the preview server over it
(``PreviewSite(load_config(site))``: ``start()`` is a full preview build of the drafts, timed)
and serves ``create_app(site)`` with uvicorn on a loopback port. Then, for ``--requests``
posts spread evenly over the archive, the locales taken in turn:

1. with a hash: a Live Preview session is written for the post (the post as its entry file
   has it in that locale, or the master locale's where it is not localized, retitled; under
   a fresh hash in the local stack's ``live_preview/<hash>/post/<uid>.<locale>.json``) and
   the post's page is asked for as the entry editor's iframe asks for it
   (``?live_preview=<hash>&content_type_uid=post&entry_uid=<uid>&locale=<code>``); the answer
   must be 200 and show the session's title;
2. without a hash, afterwards, the same posts in the same order (their latest drafts): the
   answer must be 200, show the saved title and not the session's.

One request at a time, from one keep-alive httpx client, wall clock on the client side. The
local stack (the Preview API's stand-in, in-process through ``httpx.ASGITransport``) is
wrapped so that the requests each page costs are counted, and the time spent inside it.

Targets (issue 17): median ≤ 300 ms and worst ≤ 1 s with a hash; Preview API requests per
page: only what the page reads that the preview could change (its entry: 1). Exits 1 when an
answer is wrong.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import uvicorn
from common import (
    RESULTS,
    append_report,
    describe_site,
    machine,
    machine_line,
    site_folder,
    sitegen_version,
)
from markupsafe import escape
from synth import LOCALES, SynthSite, generate_site

from sitegen.config import load_config
from sitegen.server.preview import PreviewSite, create_app
from sitegen.stack import create_app as stack_app

PREFIXES = {code: prefix for code, _, prefix in LOCALES}
MEDIAN_TARGET_MS = 300
WORST_TARGET_MS = 1000
REQUESTS_TARGET = 1


class CountingStack:
    """An ASGI wrapper around the local stack: the HTTP requests it receives (method and path,
    the entry uid folded into ``{uid}``) and the seconds spent answering them."""

    def __init__(self, stack_dir: Path):
        self.app = stack_app(stack_dir)
        self.requests = 0
        self.seconds = 0.0
        self.paths: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            spent = time.perf_counter() - started
            parts = scope["path"].split("/")
            if len(parts) == 6 and parts[4] == "entries":  # /v3/content_types/<ct>/entries/<uid>
                parts[5] = "{uid}"
            with self.lock:
                self.requests += 1
                self.seconds += spent
                self.paths[f"{scope['method']} {'/'.join(parts)}"] += 1

    def mark(self) -> tuple[int, float]:
        with self.lock:
            return self.requests, self.seconds

    def close(self) -> None:
        self.app.state.service.close()


@contextmanager
def running(app: object) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread; yields its URL.

    The socket is made as ``uvicorn.run(host=..., port=...)`` (``sitegen preview serve``)
    makes it, with ``IPPROTO_TCP``: asyncio sets ``TCP_NODELAY`` on the connections only then.
    From a bare ``socket.socket()`` (protocol 0) every keep-alive answer waits ~40 ms for the
    client's delayed ACK (Nagle: the response's headers and body are two writes)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the preview server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Pass:
    """One pass over the chosen posts: client-side seconds, Preview API requests and seconds
    inside the local stack per page, wrong answers."""

    label: str
    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    stack_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        ms = [t * 1000 for t in self.seconds]
        return {
            "median": statistics.median(ms),
            "p90": percentile(ms, 0.90),
            "p99": percentile(ms, 0.99),
            "worst": max(ms),
        }

    def met(self) -> bool:
        f = self.figures()
        return f["median"] <= MEDIAN_TARGET_MS and f["worst"] <= WORST_TARGET_MS


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with ``share`` of the values at or
    below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil(n × share), at least 1
    return ordered[int(rank) - 1]


@dataclass
class Target:
    uid: str
    locale: str
    url: str  # with the locale's prefix
    saved_title: str  # what the latest draft shows in that locale
    localized: bool  # the post has an entry file in that locale (else it falls back)
    hash: str = ""
    title: str = ""  # the session's


def choose(site: SynthSite, n: int) -> list[Target]:
    """``n`` posts spread evenly from the oldest to the newest, the locales taken in turn."""
    posts = site.posts
    n = max(1, min(n, len(posts) * len(site.locales)))
    chosen = []
    for i in range(n):
        uid = posts[round(i * (len(posts) - 1) / max(1, n - 1))]
        locale = site.locales[i % len(site.locales)]
        localized = site.entry_file(uid, locale).is_file()
        entry = site.entry(uid, locale if localized else site.locales[0])
        url = PREFIXES[locale] + entry["url"]
        chosen.append(Target(uid, locale, url, entry["title"], localized))
    return chosen


def write_session(site: SynthSite, target: Target, i: int) -> None:
    """A Live Preview session under a fresh hash: the whole post as the editor has it in the
    target's locale (its entry file there, or the master locale's), retitled."""
    target.hash = f"bench-{uuid.uuid4().hex}"
    target.title = f"Live preview edit #{i:05d} of {target.saved_title}"
    source = site.entry_file(target.uid, target.locale if target.localized else site.locales[0])
    entry = json.loads(source.read_text(encoding="utf-8"))
    entry["title"] = target.title
    file = site.stack / "live_preview" / target.hash / "post" / f"{target.uid}.{target.locale}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(entry), encoding="utf-8")


def ask(
    client: httpx.Client, url: str, params: dict[str, str], stack: CountingStack, into: Pass
) -> httpx.Response | None:
    requests, stack_seconds = stack.mark()
    started = time.perf_counter()
    try:
        answer = client.get(url, params=params)
    except httpx.HTTPError as err:
        answer = None
        into.failures.append(f"{url}: {type(err).__name__}: {err}")
    into.seconds.append(time.perf_counter() - started)
    after, after_seconds = stack.mark()
    into.requests.append(after - requests)
    into.stack_seconds.append(after_seconds - stack_seconds)
    return answer


def check(into: Pass, target: Target, answer: httpx.Response | None, shows: str, not_: str = ""):
    if answer is None:
        return
    where = f"{target.url} ({target.uid}, {target.locale})"
    if answer.status_code != 200:
        into.failures.append(f"{where}: {answer.status_code}")
    elif str(escape(shows)) not in answer.text:
        into.failures.append(f"{where}: the title {shows!r} is not on the page")
    elif not_ and str(escape(not_)) in answer.text:
        into.failures.append(f"{where}: the session's title {not_!r} is on the page")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="entries in the master locale")
    parser.add_argument("--locales", type=int, default=2, help="number of locales (1-8)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--requests", type=int, default=200, help="posts asked for (with a hash, then without)"
    )
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
    args = parser.parse_args(argv)
    with site_folder(args.workdir, args.entries, args.locales, args.seed) as site_dir:
        return run(args, site_dir)


def run(args: argparse.Namespace, site_dir: Path) -> int:
    sitegen_at = sitegen_version()
    print(f"generating {args.entries:,} entries × {args.locales} locale(s) in {site_dir} …")
    site = generate_site(site_dir, args.entries, args.locales, seed=args.seed)
    generated = describe_site(site)
    print(f"  {generated}", flush=True)
    targets = choose(site, args.requests)

    stack = CountingStack(site.stack)
    live, saved = Pass("with a hash"), Pass("without a hash")
    preview = PreviewSite(load_config(site.root), transport=httpx.ASGITransport(app=stack))
    try:
        print("starting the preview server (a full preview build of the drafts) …", flush=True)
        started = time.perf_counter()
        preview.start()
        start_seconds = time.perf_counter() - started
        build_requests = stack.requests
        print(f"  {start_seconds:.1f} s, {build_requests:,} Preview API requests", flush=True)
        stack.paths.clear()
        with running(create_app(preview)) as url, httpx.Client(timeout=60) as client:
            print(f"asking for {len(targets)} pages with a hash, then without …", flush=True)
            for i, target in enumerate(targets):
                write_session(site, target, i)
                params = {
                    "live_preview": target.hash,
                    "content_type_uid": "post",
                    "entry_uid": target.uid,
                    "locale": target.locale,
                }
                answer = ask(client, url + target.url, params, stack, live)
                check(live, target, answer, target.title)
            live_paths = Counter(stack.paths)
            stack.paths.clear()
            for target in targets:
                answer = ask(client, url + target.url, {}, stack, saved)
                check(saved, target, answer, target.saved_title, not_=target.title)
            saved_paths = Counter(stack.paths)
    finally:
        preview.close()
        stack.close()

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    info = machine(sitegen_at)
    localized = sum(t.localized for t in targets if t.locale != site.locales[0])
    others = sum(t.locale != site.locales[0] for t in targets)
    spread = (
        f"{len(targets)} posts ({len({t.uid for t in targets}):,} distinct, spread evenly from the "
        f"oldest to the newest), locales in turn ({', '.join(site.locales)})"
        + (f"; {localized} of the {others} in other locales localized there" if others else "")
    )

    def row(p: Pass) -> str:
        f = p.figures()
        stack_ms = statistics.median(p.stack_seconds) * 1000
        return (
            f"| {p.label} | "
            + " | ".join(f"{f[k]:.0f}" for k in ("median", "p90", "p99", "worst"))
            + f" | {stack_ms:.0f} | {statistics.mean(p.requests):.2f} "
            f"(min {min(p.requests)}, max {max(p.requests)}) "
            f"| {'met' if p.met() else 'not met'} | {len(p.failures)} |"
        )

    def paths(found: Counter[str]) -> str:
        return ", ".join(f"{path} ×{n}" for path, n in found.most_common()) or "none"

    def slowest(p: Pass) -> str:
        k = max(range(len(p.seconds)), key=p.seconds.__getitem__)
        return (
            f"request {k + 1} of {len(p.seconds)} ({targets[k].url}, {targets[k].locale}), "
            f"{p.seconds[k] * 1000:.0f} ms, {p.stack_seconds[k] * 1000:.0f} ms of it in the stack"
        )

    per_page = statistics.mean(live.requests)
    heading = (
        f"## {info['date']} · preview.py · {args.entries:,} entries × {args.locales} locale(s), "
        f"seed {args.seed}"
    )
    notes = [
        f"- machine: {machine_line(info)}",
        f"- sitegen {info['sitegen']}",
        f"- site: {generated}",
        f"- preview server start (`PreviewSite.start()`: a full preview build of the drafts): "
        f"{start_seconds:.1f} s, {build_requests:,} Preview API requests",
        f"- requests: {spread}; one at a time from one keep-alive client, wall clock on the "
        "client side; the local stack in-process (its time per page in the stack column)",
        f"- Preview API requests with a hash: {paths(live_paths)}; without: {paths(saved_paths)}",
        f"- requests per page with a hash: {per_page:.2f}, target {REQUESTS_TARGET} "
        f"({'met' if max(live.requests) <= REQUESTS_TARGET else 'not met'})",
        f"- slowest with a hash: {slowest(live)}; without: {slowest(saved)}",
        f"- peak RSS of the benchmark process (site, preview, local stack): {peak_rss:,.0f} MiB",
    ]
    if args.note:
        notes.append(f"- note: {args.note}")
    table = [
        f"| request | median ms | p90 ms | p99 ms | worst ms | of which stack (median ms) "
        f"| Preview API requests a page | median ≤ {MEDIAN_TARGET_MS} ms, worst ≤ "
        f"{WORST_TARGET_MS / 1000:g} s | failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        row(live),
        row(saved),
    ]
    failures = live.failures + saved.failures
    report = "\n".join([heading, "", *notes, "", *table, ""])
    print()
    print(report)
    for failure in failures[:20]:
        print(f"FAILED: {failure}")
    if not args.no_record:
        append_report(args.results, report)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
