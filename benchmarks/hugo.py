"""Render the synthetic site's posts with Hugo, for a same-machine comparison with sitegen.

    .venv/bin/python benchmarks/hugo.py SITE_DIR [WORK_DIR]      # SITE_DIR made by synth.py

perf.py calls :func:`run_hugo` when ``hugo`` is on PATH (Debian: ``apt-get install hugo``;
elsewhere see https://gohugo.io/installation/). Nothing in the test suite or CI needs Hugo.

What is exported, per locale of the synthetic site, is every post page (the bulk of sitegen's
pages): a markdown content file whose front matter has the title, date and url (with the
locale's prefix, as sitegen writes it) and whose body is the post's JSON-RTE body converted to
markdown (headings, paragraphs with bold/italic/code marks and links, lists, quotes; embedded
assets become images, embedded entries are dropped) followed by its markdown ``notes``. A post
not localized in a locale falls back to the master locale's text, as in sitegen. The Hugo site is
one language (the locale versions are separate content files under ``content/<locale>/``) with a
base layout, a single template (title, date, body) and a list template (home and the per-locale
sections: title and link of each page); taxonomies, RSS, sitemap and robots are off. Its
templates are simpler than the synthetic site's (no navigation from a singleton, no author or
category lookups), so Hugo's figure is for plainer pages, which favours Hugo.

Hugo renders on every core (GOMAXPROCS); sitegen's figures are one process unless --jobs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HUGO_CONFIG = """\
baseURL = "https://synth.example.com/"
title = "Synthetic Journal"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.goldmark.renderer]
unsafe = true
"""

LAYOUTS = {
    "_default/baseof.html": """\
<!doctype html>
<html lang="{{ .Site.LanguageCode | default "en" }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ .Title }} · {{ .Site.Title }}</title>
  <link rel="canonical" href="{{ .Permalink }}">
</head>
<body>
  <header class="site-header"><a class="brand" href="/">{{ .Site.Title }}</a></header>
  <main id="main">{{ block "main" . }}{{ end }}</main>
  <footer class="site-footer"><p>© Synthetic Journal</p></footer>
</body>
</html>
""",
    "_default/single.html": """\
{{ define "main" }}
<article class="post">
  <header>
    <h1>{{ .Title }}</h1>
    <p class="byline"><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2006-01-02" }}</time></p>
    {{ with .Params.excerpt }}<p class="lead">{{ . }}</p>{{ end }}
  </header>
  <div class="prose">{{ .Content }}</div>
</article>
{{ end }}
""",
    "_default/list.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ol class="post-list">
{{ range first 20 .Pages.ByDate.Reverse }}
  <li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="meta">{{ .Date.Format "2006-01-02" }}</span></li>
{{ end }}
</ol>
{{ end }}
""",
}


@dataclass
class HugoRun:
    version: str
    posts: int  # content files exported
    pages: int  # HTML files Hugo wrote
    seconds: float
    export_seconds: float
    content_mb: float

    @property
    def ms_per_page(self) -> float:
        return self.seconds * 1000 / max(1, self.pages)


def hugo_version(hugo: str = "hugo") -> str | None:
    path = shutil.which(hugo)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


# -- JSON-RTE to markdown --------------------------------------------------------------------


def _inline(node: dict[str, Any]) -> str:
    if "text" in node and "type" not in node:
        text = node["text"]
        if not text:
            return ""
        if node.get("code"):
            text = f"`{text}`"
        if node.get("italic"):
            text = f"_{text}_"
        if node.get("bold"):
            text = f"**{text}**"
        return text
    kind = node.get("type")
    inner = "".join(_inline(c) for c in node.get("children", []))
    if kind == "a":
        return f"[{inner}]({node.get('attrs', {}).get('url', '#')})"
    if kind == "reference":
        return _reference(node)
    return inner


def _reference(node: dict[str, Any]) -> str:
    attrs = node.get("attrs", {})
    if attrs.get("type") == "asset":
        return f"![{attrs.get('alt', '')}]({attrs.get('asset-link', '')})"
    return ""  # an embedded entry: Hugo has no counterpart here


def _block(node: dict[str, Any]) -> str:
    kind = node.get("type", "")
    children = node.get("children", [])
    if kind in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return "#" * int(kind[1]) + " " + "".join(_inline(c) for c in children)
    if kind in ("ul", "ol"):
        lines = []
        for n, item in enumerate(children, 1):
            marker = f"{n}." if kind == "ol" else "-"
            lines.append(f"{marker} " + "".join(_inline(c) for c in item.get("children", [])))
        return "\n".join(lines)
    if kind == "blockquote":
        return "> " + "".join(_inline(c) for c in children)
    if kind == "reference":
        return _reference(node)
    return "".join(_inline(c) for c in children)


def rte_to_markdown(doc: dict[str, Any]) -> str:
    blocks = (_block(child) for child in doc.get("children", []))
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


# -- export and run --------------------------------------------------------------------------


def export_site(site_dir: Path, out: Path) -> tuple[int, float]:
    """Write a Hugo site for the posts of the synthetic site in ``site_dir``; returns
    (content files, megabytes of content)."""
    marker = json.loads((site_dir / ".synth-site.json").read_text(encoding="utf-8"))
    locales: list[str] = marker["locales"]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synth import LOCALES

    prefixes = {code: prefix for code, _, prefix in LOCALES}
    posts_dir = site_dir / "stack" / "entries" / "post"
    master = locales[0]
    uids = sorted(p.name.split(".", 1)[0] for p in posts_dir.glob(f"*.{master}.json"))
    if out.exists():
        shutil.rmtree(out)
    (out / "content").mkdir(parents=True)
    (out / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in LAYOUTS.items():
        (out / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (out / "layouts" / name).write_text(text, encoding="utf-8")
    written = size = 0
    for locale in locales:
        folder = out / "content" / locale
        folder.mkdir()
        (folder / "_index.md").write_text(f'---\ntitle: "Posts ({locale})"\n---\n')
        for uid in uids:
            file = posts_dir / f"{uid}.{locale}.json"
            if not file.is_file():
                file = posts_dir / f"{uid}.{master}.json"
            entry = json.loads(file.read_text(encoding="utf-8"))
            front = {
                "title": entry["title"],
                "date": entry["date"],
                "url": prefixes[locale] + entry["url"],
                "excerpt": entry.get("excerpt", ""),
            }
            body = rte_to_markdown(entry["body"]) + "\n" + (entry.get("notes") or "")
            # a JSON string is a valid YAML double-quoted scalar
            lines = [
                f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()
            ]
            text = "---\n" + "\n".join(lines)
            text += "\n---\n\n" + body
            raw = text.encode("utf-8")
            (folder / f"{uid}.md").write_bytes(raw)
            written += 1
            size += len(raw)
    return written, size / 1e6


def run_hugo(site_dir: Path, work: Path, hugo: str = "hugo") -> HugoRun | None:
    """Export, then time ``hugo --quiet`` (a cold build into an empty public/ folder)."""
    version = hugo_version(hugo)
    if version is None:
        return None
    started = time.perf_counter()
    posts, mb = export_site(site_dir, work)
    exported = time.perf_counter() - started
    public = work / "public"
    shutil.rmtree(public, ignore_errors=True)
    cache = work / "cache"
    command = [shutil.which(hugo) or hugo, "--quiet", "-s", str(work), "-d", str(public)]
    command += ["--cacheDir", str(cache)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    pages = sum(1 for _ in public.rglob("*.html"))
    return HugoRun(version, posts, pages, seconds, exported, mb)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python benchmarks/hugo.py SITE_DIR [WORK_DIR]")
    site = Path(sys.argv[1])
    work_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else site.parent / (site.name + "-hugo")
    result = run_hugo(site, work_dir)
    if result is None:
        sys.exit(
            "hugo is not on PATH: apt-get install hugo (or see https://gohugo.io/installation/)"
        )
    print(
        f"{result.version}\n{result.posts:,} posts exported ({result.content_mb:.1f} MB) in "
        f"{result.export_seconds:.2f} s; hugo wrote {result.pages:,} pages in "
        f"{result.seconds:.2f} s = {result.ms_per_page:.3f} ms/page"
    )
