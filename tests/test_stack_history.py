"""The folder's history: events, versions and dates, cheap rescans, concurrent scanners."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from sitegen.errors import StackFolderError
from sitegen.stack import History, default_history_path, load_stack
from sitegen.stack import history as history_module
from tests.stack_fixtures import copy_stack, read_json, write_json


def scan(root: Path, history: History) -> bool:
    return history.scan(load_stack(root))


def types(history: History, since: int = 0) -> Counter:
    return Counter((e.type, e.uid, e.locale) for e in history.events() if e.seq > since)


def rows(history: History, kind: str, ct: str | None = None) -> dict:
    return {(r.uid, r.locale): r for r in history.items(kind, ct)}


@pytest.fixture
def stack_dir(tmp_path):
    return copy_stack(tmp_path)


@pytest.fixture
def history(stack_dir):
    h = History(default_history_path(stack_dir))
    yield h
    h.close()


def test_history_lives_beside_the_folder(tmp_path, stack_dir, history):
    assert default_history_path(stack_dir) == tmp_path / ".stack.history.sqlite"
    scan(stack_dir, history)
    assert (tmp_path / ".stack.history.sqlite").is_file()
    assert not any(p.name.endswith(".sqlite") for p in stack_dir.rglob("*"))


def test_first_scan_publishes_everything_published(stack_dir, history):
    assert scan(stack_dir, history) is True
    found = types(history)
    assert found[("asset_published", "hero_img", "")] == 1
    assert sum(n for (t, _, _), n in found.items() if t == "asset_published") == 3
    published = {(u, loc) for (t, u, loc) in found if t == "entry_published"}
    assert published == {
        ("jane", "en-us"), ("jane", "fr-fr"), ("john", "en-us"), ("post_a", "en-us"),
        ("post_a", "fr-fr"), ("post_b", "en-us"), ("post_c", "en-us"),
    }  # fmt: skip
    assert not any(u == "post_d" for (_, u, _) in found)  # never published: no event
    seqs = [e.seq for e in history.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    post_c = rows(history, "entry", "blog_post")[("post_c", "en-us")]
    assert (post_c.created_at, post_c.updated_at) == (
        "2020-01-01T00:00:00.000Z",
        "2020-02-01T00:00:00.000Z",
    )
    assert rows(history, "entry", "blog_post")[("post_a", "en-us")].version == 1


def test_unchanged_rescan_only_stats(stack_dir, history, monkeypatch):
    scan(stack_dir, history)
    before = history.max_seq()

    def no_hashing(path):
        raise AssertionError(f"hashed {path} although nothing changed")

    monkeypatch.setattr(history_module, "_sha256", no_hashing)
    assert scan(stack_dir, history) is False
    assert history.max_seq() == before


def test_touched_but_identical_file_records_nothing(stack_dir, history):
    scan(stack_dir, history)
    before = history.max_seq()
    path = stack_dir / "entries/author/john.en-us.json"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    scan(stack_dir, history)
    assert history.max_seq() == before
    assert rows(history, "entry", "author")[("john", "en-us")].version == 1


def test_edit_unpublish_republish_and_delete(stack_dir, history):
    scan(stack_dir, history)
    john = stack_dir / "entries/author/john.en-us.json"
    first = rows(history, "entry", "author")[("john", "en-us")]

    mark = history.max_seq()
    write_json(john, {"title": "John Roe", "name": "Johnny"})
    scan(stack_dir, history)
    assert types(history, mark) == Counter({("entry_published", "john", "en-us"): 1})
    edited = rows(history, "entry", "author")[("john", "en-us")]
    assert edited.version == 2
    assert edited.created_at == first.created_at
    assert edited.updated_at >= first.updated_at
    assert history.events()[-1].data["name"] == "Johnny"
    assert history.events()[-1].data["_version"] == 2

    mark = history.max_seq()
    write_json(john, {"title": "John Roe", "name": "Johnny", "_published": False})
    scan(stack_dir, history)
    assert types(history, mark) == Counter({("entry_unpublished", "john", "en-us"): 1})
    assert history.events()[-1].data == {"uid": "john", "locale": "en-us"}
    assert rows(history, "entry", "author")[("john", "en-us")].published is False

    mark = history.max_seq()
    write_json(john, {"title": "John Roe", "name": "Jon", "_published": False})
    scan(stack_dir, history)
    assert history.max_seq() == mark  # edits to an unpublished entry are not events

    write_json(john, {"title": "John Roe", "name": "Jon"})
    scan(stack_dir, history)
    assert types(history, mark) == Counter({("entry_published", "john", "en-us"): 1})
    assert rows(history, "entry", "author")[("john", "en-us")].version == 5

    mark = history.max_seq()
    john.unlink()
    (stack_dir / "entries/blog_post/post_d.en-us.json").unlink()  # unpublished: no event
    scan(stack_dir, history)
    assert types(history, mark) == Counter({("entry_deleted", "john", "en-us"): 1})
    assert ("john", "en-us") not in rows(history, "entry", "author")


def test_assets_and_content_types(stack_dir, history):
    scan(stack_dir, history)
    mark = history.max_seq()
    (stack_dir / "assets/hero_img/hero.png").write_bytes(b"new bytes, new size")
    scan(stack_dir, history)
    assert types(history, mark) == Counter({("asset_published", "hero_img", ""): 1})
    asset = rows(history, "asset")[("hero_img", "")]
    assert asset.version == 2 and asset.data["file_size"] == "19"

    mark = history.max_seq()
    for path in (stack_dir / "entries/author").iterdir():
        path.unlink()
    (stack_dir / "content_types/author.json").unlink()
    blog = read_json(stack_dir / "content_types/blog_post.json")
    blog["schema"] = [f for f in blog["schema"] if f["uid"] != "author"]
    write_json(stack_dir / "content_types/blog_post.json", blog)
    for name in ("post_a.en-us.json", "post_a.fr-fr.json", "post_b.en-us.json"):
        post = read_json(stack_dir / "entries/blog_post" / name)
        post.pop("author", None)
        write_json(stack_dir / "entries/blog_post" / name, post)
    scan(stack_dir, history)
    found = types(history, mark)
    assert found[("content_type_deleted", "author", "")] == 1
    assert {u for (t, u, _) in found if t == "entry_deleted"} == {"jane", "john"}
    assert "author" not in {r.uid for r in history.items("content_type")}


def test_removing_an_asset_still_in_use_is_an_error_and_records_nothing(stack_dir, history):
    scan(stack_dir, history)
    mark = history.max_seq()
    (stack_dir / "assets/jane_photo/jane.jpg").unlink()
    (stack_dir / "assets/jane_photo").rmdir()
    (stack_dir / "assets/jane_photo.json").unlink()
    with pytest.raises(StackFolderError) as info:
        scan(stack_dir, history)
    assert "jane_photo" in str(info.value)
    assert "entries/" in str(info.value)
    assert history.max_seq() == mark
    assert ("jane_photo", "") in rows(history, "asset")


def test_invalid_changed_file_aborts_the_scan(stack_dir, history):
    scan(stack_dir, history)
    mark = history.max_seq()
    write_json(stack_dir / "entries/author/john.en-us.json", {"title": "J", "name": "ok"})
    (stack_dir / "entries/author/jane.en-us.json").write_text("{oops")
    with pytest.raises(StackFolderError, match=r"jane\.en-us\.json"):
        scan(stack_dir, history)
    assert history.max_seq() == mark  # the valid edit is not half-recorded either


def test_concurrent_scanners_record_each_change_once(stack_dir):
    path = default_history_path(stack_dir)
    histories = [History(path) for _ in range(4)]
    stack = load_stack(stack_dir)
    barrier = threading.Barrier(len(histories))
    errors: list[BaseException] = []

    def run(h: History) -> None:
        try:
            barrier.wait()
            h.scan(stack)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(h,)) for h in histories]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    events = histories[0].events()
    assert len(events) == 10
    assert len({(e.type, e.uid, e.locale) for e in events}) == 10
    for h in histories:
        h.close()


SCAN_SCRIPT = """
import sys
from sitegen.stack import History, load_stack
h = History(sys.argv[2])
h.scan(load_stack(sys.argv[1]))
h.close()
"""


def test_concurrent_processes_share_the_history(stack_dir):
    path = default_history_path(stack_dir)
    first = History(path)
    first.scan(load_stack(stack_dir))
    mark = first.max_seq()
    for i in range(20):
        write_json(stack_dir / f"entries/author/extra_{i}.en-us.json", {"title": f"Extra {i}"})
    procs = [
        subprocess.Popen([sys.executable, "-c", SCAN_SCRIPT, str(stack_dir), str(path)])
        for _ in range(3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    added = [e for e in first.events() if e.seq > mark]
    assert len(added) == 20
    assert {e.uid for e in added} == {f"extra_{i}" for i in range(20)}
    # The first connection notices the other processes' changes on its next scan.
    assert first.scan(load_stack(stack_dir)) is True
    assert first.scan(load_stack(stack_dir)) is False
    first.close()


def test_many_entries_rescan_without_reading_files(tmp_path, monkeypatch):
    root = copy_stack(tmp_path)
    for i in range(2000):
        write_json(root / f"entries/author/bulk_{i:05d}.en-us.json", {"title": f"Author {i}"})
    h = History(default_history_path(root))
    stack = load_stack(root)
    h.scan(stack)
    assert h.max_seq() == 2010
    reopened = History(default_history_path(root))  # a new process starts from the file
    monkeypatch.setattr(history_module, "_sha256", lambda p: pytest.fail(f"hashed {p}"))
    monkeypatch.setattr(
        type(stack), "read_entry", lambda *a: pytest.fail("read an entry although none changed")
    )
    reopened.scan(stack)
    assert reopened.max_seq() == 2010
    h.close()
    reopened.close()
