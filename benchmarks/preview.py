"""Live Preview benchmark: time from request to rendered page of ``sitegen preview serve``.

    .venv/bin/python benchmarks/preview.py --entries 10000 --locales 2

Generates a site with benchmarks/synth.py, starts the preview server over it (a full preview
build of the drafts, timed) on a loopback port, then for ``--requests`` posts spread over the
site and its locales writes a Live Preview session (the post retitled, under a fresh hash in
the local stack's ``live_preview/<hash>/`` folder) and asks for the post's page with that
hash, one request at a time, as the entry editor's iframe does; the same posts are then asked
for without a hash (their latest drafts). Every answer must be 200 and show the change. The
local stack is wrapped so that the Preview API requests each page costs are counted.

Targets (issue 17): median ≤ 300 ms and worst ≤ 1 s; Preview API requests per page: only what
the page reads that the preview could change (its entry: 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
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
from synth import LOCALES, generate_site

from sitegen.config import load_config
from sitegen.server.preview import PreviewSite, create_app
from sitegen.stack import create_app as stack_app

PREFIXES = {code: prefix for code, _, prefix in LOCALES}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(times: list[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times]
    return {
        "median": statistics.median(ms),
        "p90": percentile(ms, 0.90),
        "p99": percentile(ms, 0.99),
        "worst": max(ms),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--locales", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    with site_folder(args.workdir, args.entries, args.locales, args.seed) as site_dir:
        site = generate_site(site_dir, args.entries, args.locales, seed=args.seed)
        return run(args, site)


def run(args: argparse.Namespace, site) -> int:
    counted = {"requests": 0}
    stack = stack_app(site.stack)

    async def counting(scope, receive, send):  # the local stack, its requests counted
        if scope["type"] == "http":
            counted["requests"] += 1
        await stack(scope, receive, send)

    config = load_config(site.root, env={})
    preview = PreviewSite(config, transport=httpx.ASGITransport(app=counting))
    started = time.perf_counter()
    preview.start()
    start_seconds = time.perf_counter() - started

    server = uvicorn.Server(uvicorn.Config(create_app(preview), log_level="warning", port=0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    posts = site.posts
    step = max(1, len(posts) // args.requests)
    chosen = [posts[(i * step) % len(posts)] for i in range(args.requests)]
    locales = site.locales
    live: list[float] = []
    saved: list[float] = []
    per_page: list[int] = []
    failures = 0
    with httpx.Client(timeout=30) as client:
        for i, uid in enumerate(chosen):
            locale = locales[i % len(locales)]
            entry = site.entry(uid)
            title = f"Live edit {i}"
            session = site.stack / "live_preview" / f"h{i}" / "post" / f"{uid}.{locale}.json"
            session.parent.mkdir(parents=True, exist_ok=True)
            localized = site.entry_file(uid, locale).is_file()
            fields = site.entry(uid, locale) if localized else entry
            session.write_text(json.dumps({**fields, "title": title}), encoding="utf-8")
            path = PREFIXES[locale] + entry["url"]
            before = counted["requests"]
            t = time.perf_counter()
            answer = client.get(url + path, params={"live_preview": f"h{i}"})
            live.append(time.perf_counter() - t)
            per_page.append(counted["requests"] - before)
            if answer.status_code != 200 or title not in answer.text:
                failures += 1
            t = time.perf_counter()
            answer = client.get(url + path)
            saved.append(time.perf_counter() - t)
            if answer.status_code != 200:
                failures += 1
    server.should_exit = True
    thread.join(10)
    preview.close()
    stack.state.service.close()

    with_hash, without = figures(live), figures(saved)
    met = with_hash["median"] <= 300 and with_hash["worst"] <= 1000
    lines = [
        f"## {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC · preview.py · "
        f"{args.entries:,} entries × {args.locales} locale(s), seed {args.seed}",
        "",
        f"- {machine_line(machine(sitegen_version()))}",
        f"- site: {describe_site(site)}",
        f"- preview server start (a full preview build of the drafts): {start_seconds:.1f} s",
        f"- {len(chosen)} posts over {len(locales)} locales, one request at a time, client side",
        "",
        "| request | median ms | p90 ms | p99 ms | worst ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| with a Live Preview hash (a session's unsaved title) | "
        + " | ".join(f"{with_hash[k]:.0f}" for k in ("median", "p90", "p99", "worst"))
        + " |",
        "| without a hash (the latest draft) | "
        + " | ".join(f"{without[k]:.0f}" for k in ("median", "p90", "p99", "worst"))
        + " |",
        "",
        f"- Preview API requests per page: {statistics.mean(per_page):.2f} "
        f"(min {min(per_page)}, max {max(per_page)}); target 1",
        f"- targets: median ≤ 300 ms and worst ≤ 1 s with a hash: {'met' if met else 'not met'}",
        f"- failures: {failures}",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        append_report(RESULTS, report)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
