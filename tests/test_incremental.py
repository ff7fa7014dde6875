"""Incremental builds equal full builds, cost what changed, and survive being killed."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sitegen.build import BuildResult, build_site, pipeline
from sitegen.config import load_config
from sitegen.errors import BuildError
from tests.incremental_site import TOPIC_TAGS, TOPIC_TREES, TwinSites, ref, tags
from tests.sites import embed_entry, make_site, write_json
from tests.test_build import tree

SITE_FILES = 3  # robots.txt, 404.html and sitemap.xml are rendered with the pages


def build(site: Path, full: bool = False) -> BuildResult:
    return build_site(load_config(site, env={}), full=full)


def mtimes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


class IncrementalEqualsFull(RuleBasedStateMachine):
    """Random edits to content and templates; after each, incremental output == full output."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp: Path | None = None
        self.share = pipeline.STAGE_SHARE, pipeline.STAGE_MIN

    @initialize(seed=st.integers(0, 10**6), staged=st.booleans())
    def setup(self, seed: int, staged: bool) -> None:
        import tempfile

        # both ways an incremental build writes: a new site swapped in, or changed files moved
        # over the live ones (the site's size decides; here each example picks one)
        self.share = pipeline.STAGE_SHARE, pipeline.STAGE_MIN
        pipeline.STAGE_SHARE, pipeline.STAGE_MIN = (0.0, 0) if staged else (math.inf, 0)
        self.tmp = Path(tempfile.mkdtemp(prefix="sitegen-prop-"))
        self.sites = TwinSites(self.tmp, posts=5)
        self.next_post = 5
        self.topic_terms = {"eng", "web", "perf", "ops", "design"}
        result = build(self.sites.a)
        assert result.kind == "full"
        self.before = tree(self.sites.a / "public")
        self.before_mtimes = mtimes(self.sites.a / "public")
        self.changed_by_step = True

    def teardown(self) -> None:
        pipeline.STAGE_SHARE, pipeline.STAGE_MIN = self.share
        if self.tmp is not None:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)

    def _posts(self) -> list[str]:
        return sorted(
            p.name.split(".")[0] for p in (self.sites.stack / "entries/post").glob("*.en-us.json")
        )

    # -- content changes -----------------------------------------------------------------------

    @rule(data=st.data())
    def edit_post(self, data: st.DataObject) -> None:
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            fields = self.sites.read("post", uid, "en-us")
            fields["title"] = (
                data.draw(st.sampled_from(["Edited", "Changed title", "Zed"])) + f" {uid}"
            )
            self.sites.put("post", uid, "en-us", fields)

    @rule(data=st.data(), categories=st.sampled_from([[], ["news"], ["howto"], ["news", "howto"]]))
    def recategorize_post(self, data: st.DataObject, categories: list[str]) -> None:
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            fields = self.sites.read("post", uid, "en-us")
            fields["categories"] = [{"uid": c, "_content_type_uid": "category"} for c in categories]
            self.sites.put("post", uid, "en-us", fields)

    @rule(data=st.data(), terms=st.sampled_from(TOPIC_TAGS))
    def retag_post(self, data: st.DataObject, terms: list[str]) -> None:
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            fields = self.sites.read("post", uid, "en-us")
            fields["taxonomies"] = tags([t for t in terms if t in self.topic_terms])
            self.sites.put("post", uid, "en-us", fields)

    @rule(shape=st.integers(0, len(TOPIC_TREES) - 1))
    def reshape_topics(self, shape: int) -> None:
        """Move, rename or delete terms; a deleted term's tags go with it, as in Contentstack."""
        self.topic_terms = self.sites.put_topics(shape)
        for path in (self.sites.stack / "entries/post").glob("*.json"):
            fields = json.loads(path.read_text(encoding="utf-8"))
            kept = [t for t in fields.get("taxonomies", []) if t["term_uid"] in self.topic_terms]
            if kept != fields.get("taxonomies", []):
                fields["taxonomies"] = kept
                uid, locale = path.name.split(".")[:2]
                self.sites.put("post", uid, locale, fields)

    @rule(data=st.data(), title=st.sampled_from(["Welcome back", "Again"]))
    def vary_or_unvary_post(self, data: st.DataObject, title: str) -> None:
        """An entry variant (Personalize) changes a post's title, or stops changing it."""
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            # a variant changes an entry the locale has (fr-fr only when the post is localized)
            locales = [c for c in ("en-us", "fr-fr") if self.sites.path("post", uid, c).exists()]
            locale = data.draw(st.sampled_from(locales))
            path = self.sites.variant_path("post", uid, locale)
            if path.exists() and title == "Again":
                path.unlink()
            else:
                write_json(path, {"title": f"{title} {uid}"})

    @rule(title=st.sampled_from(["Hello again", "Welcome"]))
    def vary_home(self, title: str) -> None:
        write_json(self.sites.variant_path("home", "home", "en-us"), {"title": title})

    @rule(title=st.sampled_from(["News", "Latest news", "How-to"]))
    def rename_category(self, title: str) -> None:  # a term's label comes from the category
        self.sites.put("category", "news", "en-us", {"title": title, "url": "/c/news/"})

    @rule()
    def publish_new_post(self) -> None:
        i = self.next_post
        self.next_post += 1
        fields = TwinSites.post_fields(i, author="bob")
        fields["taxonomies"] = [
            t for t in fields["taxonomies"] if t["term_uid"] in self.topic_terms
        ]
        self.sites.put("post", f"p{i}", "en-us", fields)

    @rule(data=st.data())
    def unpublish_or_republish(self, data: st.DataObject) -> None:
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            fields = self.sites.read("post", uid, "en-us")
            if fields.get("_published") is False:
                fields.pop("_published")
            else:
                fields["_published"] = False
            self.sites.put("post", uid, "en-us", fields)

    @rule(data=st.data())
    def delete_post(self, data: st.DataObject) -> None:
        posts = self._posts()
        if len(posts) > 1:
            uid = data.draw(st.sampled_from(posts))
            for path in (self.sites.stack / "entries/post").glob(f"{uid}.*.json"):
                path.unlink()
            for path in (self.sites.stack / "variants/returning/post").glob(f"{uid}.*.json"):
                path.unlink()  # Contentstack deletes an entry's variants with it

    @rule(data=st.data(), locale=st.sampled_from(["fr-fr", "de-de"]))
    def localize_or_unlocalize(self, data: st.DataObject, locale: str) -> None:
        posts = self._posts()
        if posts:
            uid = data.draw(st.sampled_from(posts))
            path = self.sites.path("post", uid, locale)
            if path.exists():
                path.unlink()
                self.sites.variant_path("post", uid, locale).unlink(missing_ok=True)
            else:
                fields = self.sites.read("post", uid, "en-us")
                fields.pop("_published", None)
                fields["title"] = f"{locale} {fields['title']}"
                self.sites.put("post", uid, locale, fields)

    @rule(
        name=st.sampled_from(["Ada", "Ada Lovelace", "A."]), team=st.sampled_from(["core", "docs"])
    )
    def edit_author(self, name: str, team: str) -> None:
        fields = self.sites.read("author", "ada", "en-us")
        fields["title"] = name
        fields["team"] = ref(team, "team")
        self.sites.put("author", "ada", "en-us", fields)

    @rule(name=st.sampled_from(["Core", "Core team", "Platform"]))
    def edit_team(self, name: str) -> None:  # two reference levels away from posts
        self.sites.put("team", "core", "en-us", {"title": name})

    @rule(data=st.data())
    def embed_another_post(self, data: st.DataObject) -> None:
        posts = self._posts()
        if len(posts) > 1:
            host, guest = data.draw(st.permutations(posts))[:2]
            fields = self.sites.read("post", host, "en-us")
            fields["body"]["children"].append(embed_entry(guest))
            self.sites.put("post", host, "en-us", fields)

    @rule(
        title=st.sampled_from(["picture one", "a new picture"]),
        uid=st.sampled_from(["img0", "img1"]),
    )
    def change_asset(self, title: str, uid: str) -> None:
        self.sites.put_asset(uid, title)

    # -- template changes ----------------------------------------------------------------------

    @rule(text=st.sampled_from(["<nav>nav</nav>", "<nav>{{ locale }}</nav>"]))
    def change_partial(self, text: str) -> None:
        self.sites.write_template("nav.html", text)

    @rule(text=st.sampled_from(["<aside>{{ item.title }}</aside>", "<b>{{ item.uid }}</b>"]))
    def change_embed_template(self, text: str) -> None:
        self.sites.write_template("embedded/post.html", text)

    @rule(
        text=st.sampled_from(
            ["<p>{{ term.label }}</p>", "<p>{{ term.key }} {{ paginator.urls }}</p>"]
        )
    )
    def change_term_template(self, text: str) -> None:
        self.sites.write_template("term.html", text)

    # -- the invariant -------------------------------------------------------------------------

    @precondition(lambda self: self.tmp is not None)
    @invariant()
    def incremental_equals_full(self) -> None:
        public = self.sites.a / "public"
        result = build(self.sites.a)
        assert result.kind == "incremental", result.warnings
        after = tree(public)
        build(self.sites.b, full=True)
        assert after == tree(self.sites.b / "public")
        # exactly the files whose bytes changed were rewritten, and only those
        assert set(result.added) == after.keys() - self.before.keys()
        assert set(result.changed) == {
            f for f in after.keys() & self.before.keys() if after[f] != self.before[f]
        }
        assert set(result.removed) == self.before.keys() - after.keys()
        now = mtimes(public)
        untouched = set(after) - set(result.added) - set(result.changed)
        assert {f: now[f] for f in untouched} == {f: self.before_mtimes[f] for f in untouched}
        self.before, self.before_mtimes = after, now


IncrementalEqualsFull.TestCase.settings = settings(
    max_examples=int(os.environ.get("SITEGEN_PROPERTY_EXAMPLES", "12")),
    stateful_step_count=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestIncrementalEqualsFull = IncrementalEqualsFull.TestCase


# -- request accounting -------------------------------------------------------------------------


def test_one_entry_edit_costs_three_requests_and_one_fetch_per_locale(tmp_path: Path):
    site = make_site(tmp_path, posts=150)
    build(site)
    post = json.loads((site / "stack/entries/post/post7.en-us.json").read_text())
    post["title"] = "Edited"
    write_json(site / "stack/entries/post/post7.en-us.json", post)
    result = build(site)
    assert result.kind == "incremental"
    # the content type and taxonomy lists (the Sync API reports neither) + 1 sync request +
    # the edited post in each of the 2 locales; nothing references posts
    assert result.requests == 3 + 2
    assert result.changed == sorted(
        ["posts/post-7/index.html", "fr/posts/post-7/index.html", "index.html", "fr/index.html"]
    )
    assert "1 entry changed" in result.triggers


def test_a_referenced_entry_refetches_its_referrers_in_batches_of_100(tmp_path: Path):
    site = make_site(tmp_path, posts=150)
    build(site)
    write_json(
        site / "stack/entries/author/ada.en-us.json",
        {"title": "Ada L.", "team": [{"uid": "core", "_content_type_uid": "team"}]},
    )
    result = build(site)
    # affected: ada (2 locales) and the 150 posts that include her (2 locales)
    expected = 3 + 2 * math.ceil(1 / 100) + 2 * math.ceil(150 / 100)
    assert result.requests == expected
    assert len(result.changed) == 2 * 150  # every post page shows the author
    html = (site / "public/posts/post-99/index.html").read_text()
    assert "Ada L. of Core Team" in html


def test_many_changed_entries_are_fetched_and_listed_a_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Refetched referrers are stored, and re-evaluated for listings, a chunk at a time (an
    author rename at 50,000 posts must not hold 5,000 decoded entries at once): with chunks
    far smaller than the change, the site still equals a full build's."""
    from sitegen.build import changes, listings

    monkeypatch.setattr(changes, "FETCH_CHUNK", 40)
    monkeypatch.setattr(listings, "MEMBER_BATCH", 7)
    site = make_site(tmp_path / "a", posts=150)
    with (site / "sitegen.toml").open("a") as f:
        f.write(
            '\n[[pages]]\npath = "/all/"\ntemplate = "all.html"\ncontent_type = "post"\n'
            'sort = "title"\nper_page = 20\n'
        )
    (site / "templates/all.html").write_text(
        "{% for p in paginator.items %}<p>{{ p.title }}: {{ p.author[0].title }}</p>{% endfor %}\n"
    )
    build(site)
    author = site / "stack/entries/author/ada.en-us.json"
    write_json(author, {"title": "Ada L.", "team": [{"uid": "core", "_content_type_uid": "team"}]})
    result = build(site)
    assert result.kind == "incremental" and len(result.changed) >= 2 * 150
    twin = tmp_path / "b"
    shutil.copytree(site, twin, ignore=shutil.ignore_patterns("public", ".sitegen", ".public.*"))
    build(twin, full=True)
    assert tree(site / "public") == tree(twin / "public")


def test_no_change_costs_three_requests_and_writes_nothing(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    before = mtimes(site / "public")
    result = build(site)
    assert (result.kind, result.requests, result.rendered, result.written) == (
        "incremental",
        3,  # the content type and taxonomy lists and the sync walk
        0,
        0,
    )
    assert mtimes(site / "public") == before
    report = json.loads((site / ".sitegen/last-build.json").read_text())
    assert report["kind"] == "incremental" and report["counts"]["rendered"] == 0


def test_template_change_rerenders_only_pages_that_used_it(tmp_path: Path):
    sites = TwinSites(tmp_path, posts=4)
    build(sites.a)
    sites.write_template(
        "category.html", "{% extends 'base.html' %}{% block main %}C{% endblock %}"
    )
    result = build(sites.a)
    assert result.rendered == 2 * 3  # two categories in three locales
    assert all("/c/" in f or f.startswith("c/") for f in result.changed)
    assert "1 template changed" in result.triggers


def test_configuration_change_rerenders_everything_without_downloading(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    toml = (site / "sitegen.toml").read_text().replace('title = "Fixture"', 'title = "Renamed"')
    (site / "sitegen.toml").write_text(toml)
    result = build(site)
    assert result.kind == "incremental" and result.rendered == 8 + SITE_FILES
    assert result.requests == 3  # the content type and taxonomy lists and the sync walk


def test_invalid_sync_token_falls_back_to_a_full_build(tmp_path: Path):
    import sqlite3

    site = make_site(tmp_path)
    build(site)
    db = sqlite3.connect(site / ".sitegen/store.sqlite")
    db.execute("UPDATE meta SET value = 'forged-token' WHERE key = 'sync_token'")
    db.commit()
    db.close()
    result = build(site)
    assert result.kind == "full"
    assert any("sync token is no longer valid" in w for w in result.warnings)


def test_full_flag_forces_a_full_build(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    before = mtimes(site / "public")
    result = build(site, full=True)
    assert result.kind == "full" and result.rendered == 8 + SITE_FILES
    assert result.written == 0 and mtimes(site / "public") == before  # same bytes: files kept


def test_content_type_deleted_removes_its_pages(tmp_path: Path):
    site = make_site(tmp_path)
    build(site)
    for path in (site / "stack/entries/post").glob("*.json"):
        path.unlink()
    (site / "stack/entries/post").rmdir()
    (site / "stack/content_types/post.json").unlink()
    result = build(site)
    assert result.kind == "incremental"
    assert not (site / "public/posts").exists()
    assert "posts/post-0/index.html" in result.removed


def test_a_clash_in_the_live_site_fails_before_any_file_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(pipeline, "STAGE_SHARE", math.inf)  # changed files move over live ones
    site = make_site(tmp_path / "site")
    build(site)
    for uid in ("post0", "post2"):  # two pages change, far apart in path order
        post = site / f"stack/entries/post/{uid}.en-us.json"
        write_json(post, {**json.loads(post.read_text()), "title": f"Changed {uid}"})
    blocked = site / "public/posts/post-2/index.html"  # someone left a folder in its place
    blocked.unlink()
    blocked.mkdir()
    before = tree(site / "public")
    with pytest.raises(BuildError) as caught:
        build(site)
    assert "'posts/post-2/index.html' clashes with a file or folder" in str(caught.value)
    assert tree(site / "public") == before  # no page of this build went in
    blocked.rmdir()
    assert build(site).kind == "incremental"  # nothing was committed: the change is still due
    assert "Changed post0" in (site / "public/posts/post-0/index.html").read_text()
    assert "Changed post2" in (site / "public/posts/post-2/index.html").read_text()


# -- crash injection ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_killed_incremental_build_converges(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    print(f"crash test seed {seed}")
    sites = TwinSites(tmp_path, posts=120)
    build(sites.a)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "sitegen", "build", "-q", str(sites.a)]

    def change(step: int) -> None:
        sites.write_template("nav.html", f"<nav>step {seed}-{step}</nav>")  # every page
        fields = sites.read("author", "ada", "en-us")
        fields["title"] = f"Ada {seed}-{step}"
        sites.put("author", "ada", "en-us", fields)

    change(0)
    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True)
    duration = time.monotonic() - started
    for step in range(1, 4):
        change(step)
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    result = build(sites.a)
    assert result.kind == "incremental"
    build(sites.b, full=True)
    assert tree(sites.a / "public") == tree(sites.b / "public")
    leftovers = [p.name for p in sites.a.iterdir() if p.name.startswith(".public.")]
    assert leftovers == []


@pytest.mark.parametrize("share", [0.0, math.inf], ids=["staged", "overlay"])
def test_two_changed_pages_that_clash_fail_before_any_file_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
):
    monkeypatch.setattr(pipeline, "STAGE_SHARE", share)
    monkeypatch.setattr(pipeline, "STAGE_MIN", 0)
    site = make_site(tmp_path / "site")
    build(site)
    # one page becomes a file where the other's folder must be: neither is in the live site
    for uid, url in (("post0", "/posts/a.html"), ("post2", "/posts/a.html/b/")):
        post = site / f"stack/entries/post/{uid}.en-us.json"
        write_json(post, {**json.loads(post.read_text()), "url": url})
    before = tree(site / "public")
    with pytest.raises(BuildError) as caught:
        build(site)
    assert "posts/a.html/b/index.html' clashes with" in str(caught.value)
    assert tree(site / "public") == before  # no page of this build went in
    post = site / "stack/entries/post/post2.en-us.json"
    write_json(post, {**json.loads(post.read_text()), "url": "/posts/b/"})
    assert build(site).kind == "incremental"
    assert (site / "public/posts/a.html").is_file()
    assert (site / "public/posts/b/index.html").is_file()


def test_a_build_that_rerenders_most_pages_swaps_in_a_new_site_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(pipeline, "STAGE_MIN", 0)  # a site this small is not staged otherwise
    sites = TwinSites(tmp_path, posts=4)
    build(sites.a)
    public = sites.a / "public"
    (public / "google-site-verification.html").write_text("kept")  # a file sitegen did not write
    (public / "latest").symlink_to("index.html")  # and a link
    before = tree(public)
    before_mtimes = mtimes(public)
    inode = public.stat().st_ino
    assert pipeline.STAGE_SHARE <= 0.5
    base = (sites.a / "templates/base.html").read_text(encoding="utf-8")
    sites.write_template("base.html", base + "<!-- every page -->")
    for entry in (sites.stack / "entries/post").glob("p3.*.json"):
        entry.unlink()  # and a post's pages go
    result = build(sites.a)
    assert result.kind == "incremental"
    assert public.stat().st_ino != inode  # a new folder went in
    after = tree(public)
    assert after["google-site-verification.html"] == before["google-site-verification.html"]
    assert os.readlink(public / "latest") == "index.html"
    assert result.removed and set(result.removed) == before.keys() - after.keys()
    changed = {f for f in after.keys() & before.keys() if after[f] != before[f]}
    assert set(result.changed) == changed - {"latest"}  # the link's target changed, not it
    untouched = set(after) - set(result.added) - set(result.changed) - {"latest"}
    now = mtimes(public)
    assert untouched and {f: now[f] for f in untouched} == {f: before_mtimes[f] for f in untouched}
    build(sites.b, full=True)
    theirs = tree(sites.b / "public")
    ours = {f: v for f, v in after.items() if f not in ("google-site-verification.html", "latest")}
    assert ours == theirs
    assert not list(tmp_path.glob("a/.public.*staging*"))  # nothing half-made left beside it
