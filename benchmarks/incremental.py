"""Incremental-build benchmark: a full build of a synthetic site, then small changes.

    .venv/bin/python benchmarks/incremental.py --entries 10000 --locales 2

Generates a site with benchmarks/synth.py, then runs in this process, through
``sitegen.build.build_site``:

1. a full build (the reference: the state folder and the stack's history are new);
2. a build with no change;
3. a build after one post was edited (title and body, master locale, not localized elsewhere,
   so its page changes in every locale);
4. with ``--taxonomy`` (the site gets the ``topics`` taxonomy, tags on every post and a page
   per term at /topics/{term}/, see synth.py): a build after one post was re-tagged (its terms
   replaced by leaf terms under other root terms, in every locale file of the post), checked
   on the term pages: the post is listed on its new terms' pages and their ancestors', and on
   none of its old terms' pages or their ancestors';
5. a build after the popular author (5% of the posts) was renamed;
6. a forced full build of the same content (``--no-full-rebuild`` skips it).

For each: wall time, build kind, pages rendered and files written, CDA requests, the time
relative to the first full build, and a check that the output shows the change. The full
build's CDA requests are set against their lower bound (perf.py's, plus with ``--taxonomy`` the
terms pages: ⌈terms / 100⌉ per taxonomy and locale). The table is printed and appended, with a
description of the machine, to benchmarks/RESULTS.md.

Written against the incremental interface: ``build_site(config, full=False, progress=None)``
and ``BuildResult.kind`` / ``rendered`` / ``written`` / ``removed``. Where they are missing
(sitegen before incremental builds) every build is a full one and the figures say so.
"""

from __future__ import annotations

import argparse
import html
import inspect
import math
import resource
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
    page_file,
    pages_showing,
    site_folder,
    sitegen_version,
)
from perf import CDA_PAGE, request_lower_bound
from synth import SynthSite, generate_site

from sitegen.build import build_site
from sitegen.config import load_config


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
        rendered=pages if rendered is None else count(rendered),
        written=getattr(result, "files", 0) if written is None else count(written),
        removed=0 if removed is None else count(removed),
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


TERM_PATH = "/topics/{term}/"  # the synthetic site's term listing (synth.TERMS_TOML)


def term_pages(config, term: str, locale: str) -> list[Path]:
    """The files of a term's listing pages in a locale: /topics/<term>/, …/page/2/, …"""
    base = TERM_PATH.replace("{term}", term)
    files = []
    number = 1
    while True:
        file = page_file(config, base if number == 1 else f"{base}page/{number}/", locale)
        if not file.is_file():
            return files
        files.append(file)
        number += 1


def retag_check(config, site: SynthSite, post: str, old: list[str], new: list[str]) -> str:
    """'ok' when, in every locale, the post is listed on the pages of its new terms and their
    ancestors and on none of the pages of its old terms and their ancestors."""
    url = site.entry(post)["url"]
    gained = {t for term in new for t in [term, *site.term_ancestors(term)]}
    lost = {t for term in old for t in [term, *site.term_ancestors(term)]} - gained
    wrong: list[str] = []
    scanned = 0
    for locale in site.locales:
        prefix = next(loc.prefix for loc in config.locales if loc.code == locale)
        needle = f'href="{html.escape(prefix + url, quote=True)}"'
        for term in sorted(gained | lost):
            files = term_pages(config, term, locale)
            scanned += len(files)
            listed = any(needle in file.read_text(encoding="utf-8") for file in files)
            if not files:
                wrong.append(f"{locale} {term}: no page")
            elif listed != (term in gained):
                wrong.append(f"{locale} {term}: {'listed' if listed else 'not listed'}")
    terms = f"{len(gained)} terms gained, {len(lost)} lost, {scanned} term pages read"
    if wrong:
        return f"STALE: {'; '.join(wrong[:6])} ({terms})"
    return f"ok ({terms})"


def lower_bound(site: SynthSite) -> tuple[int, str]:
    """perf.py's request lower bound plus the terms pages of the taxonomy (⌈terms / 100⌉ per
    locale; perf.py's already counts the one taxonomy list request)."""
    total, how = request_lower_bound(site)
    if site.taxonomy:
        pages = math.ceil(len(site.terms) / CDA_PAGE) * len(site.locales)
        total += pages
        how = how.replace(
            "1 taxonomies",
            f"1 taxonomies + {pages} terms pages (⌈{len(site.terms)} terms / {CDA_PAGE}⌉ "
            f"× {len(site.locales)} locales)",
        )
    return total, how


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
    parser.add_argument(
        "--taxonomy",
        action="store_true",
        help="give the site the topics taxonomy and term pages, and re-tag one post",
    )
    args = parser.parse_args(argv)

    with site_folder(args.workdir, args.entries, args.locales, args.seed) as site_dir:
        return run(args, site_dir)


def run(args: argparse.Namespace, site_dir: Path) -> int:
    sitegen_at = sitegen_version()  # now: the code is imported; the tree may change during the run
    print(f"generating {args.entries:,} entries × {args.locales} locale(s) in {site_dir} …")
    site = generate_site(
        site_dir, args.entries, args.locales, seed=args.seed, taxonomy=args.taxonomy
    )
    generated = describe_site(site)
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

    if site.taxonomy:
        tagged = site.pick_post(localized=len(site.locales) > 1, position=0.4)
        old_terms = site.post_terms(tagged)
        new_terms = site.retag_post(tagged)
        print(f"  re-tagging {tagged}: {', '.join(old_terms)} → {', '.join(new_terms)}")
        rows.append(
            run_build(
                site,
                "re-tag 1 post",
                check=lambda config: retag_check(config, site, tagged, old_terms, new_terms),
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

    lower, lower_how = lower_bound(site)
    full = rows[0]
    requests_line = (
        f"- CDA requests, full build: {full.requests:,} / lower bound {lower:,} = "
        f"{full.requests / lower:.3f} ({lower_how})"
    )
    print(requests_line)

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    info = machine(sitegen_at)
    heading = (
        f"## {info['date']} · {args.entries:,} entries × {args.locales} locale(s), seed {args.seed}"
        + (" · taxonomy" if site.taxonomy else "")
    )
    notes = [
        f"- machine: {machine_line(info)}",
        f"- sitegen {info['sitegen']}; "
        + (
            "incremental builds available"
            if incremental
            else "no incremental builds (`build_site` has no `full` parameter): every build is full"
        ),
        f"- site: {generated}",
        *(
            [
                f"- taxonomy: `topics`, {len(site.terms)} terms ({len(site.leaf_terms)} leaves), "
                f"1-2 a post; term pages at {TERM_PATH} (20 a page); re-tagged post "
                f"{tagged} (40% of the way from the oldest post"
                f"{', localized in every locale' if len(site.locales) > 1 else ''}): "
                f"{', '.join(old_terms)} → {', '.join(new_terms)}"
            ]
            if site.taxonomy
            else []
        ),
        requests_line,
        f"- peak RSS of the benchmark process: {peak_rss:,.0f} MiB",
    ]
    if args.note:
        notes.append(f"- note: {args.note}")
    report = "\n".join([heading, "", *notes, "", table(rows), ""])
    print()
    print(report)
    if not args.no_record:
        append_report(args.results, report)
    stale = [row for row in rows if row.check.startswith("STALE")]
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
