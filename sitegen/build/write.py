"""Writing the site without ever leaving a half-written one where a good one was.

A full build writes a complete new site into a staging folder beside the output and swaps it
in at the end. An incremental build renders changed pages into an overlay folder first and only
then moves them over the live files (and deletes the removed ones), so a failure before that
point leaves the site untouched. Both leave files whose bytes did not change alone: their
mtime stays, and ``added``/``changed``/``removed`` say exactly what a deploy must upload.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from sitegen.errors import BuildError


class _Output:
    """What both kinds of output share: safe relative paths and the change lists."""

    def __init__(self, output: Path, scratch_kind: str):
        self.output = output
        self.scratch = output.parent / f".{output.name}.{scratch_kind}-{os.getpid()}"
        self.added: list[str] = []
        self.changed: list[str] = []
        self.removed: list[str] = []
        self.unchanged = 0
        self._kept: set[str] = set()  # unchanged files, by relative path
        self._bases: dict[Path, str] = {}

    def __enter__(self):
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.scratch.exists():
            shutil.rmtree(self.scratch)
        self.scratch.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.scratch.exists():
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _target(self, root: Path, relative: str, *, resolve: bool = False) -> Path:
        """``root/relative``, refused if it would leave ``root``.

        The path is checked as text ('..', absolute paths); ``resolve`` also follows symlinks,
        for files written or removed in the live site, where a link could point anywhere.
        A staging folder is ours and new, so text is enough there (and a stat per folder
        level per page less, which counts at a million pages).
        """
        target = self._text_target(root, relative)
        if resolve:
            real = Path(target).resolve()
            if not real.is_relative_to(Path(self._base(root)).resolve()):
                raise BuildError(f"output path {relative!r} would leave the output folder")
        return Path(target)

    def _text_target(self, root: Path, relative: str) -> str:
        base = self._base(root)
        target = os.path.normpath(os.path.join(base, relative))
        if not target.startswith(base + os.sep):
            raise BuildError(f"output path {relative!r} would leave the output folder")
        return target

    def _base(self, root: Path) -> str:
        base = self._bases.get(root)
        if base is None:
            base = self._bases[root] = os.path.abspath(root)
        return base

    def _same_as_live(self, relative: str, payload: bytes) -> tuple[str, bool | None]:
        """The live file and whether it holds ``payload`` (None: there is no such file)."""
        live = self._text_target(self.output, relative)
        try:
            if os.stat(live).st_size != len(payload):
                return live, False
            with open(live, "rb") as file:
                return live, file.read() == payload
        except (FileNotFoundError, NotADirectoryError):
            return live, None
        except IsADirectoryError:
            return live, False

    def _same_file_as_live(self, relative: str, source: Path) -> tuple[Path, bool | None]:
        """Like :meth:`_same_as_live` for a file on disk, compared without loading it whole."""
        live = self._target(self.output, relative)
        try:
            return live, filecmp.cmp(live, source, shallow=False)
        except (FileNotFoundError, NotADirectoryError):
            return live, None
        except IsADirectoryError:
            return live, False

    def _note(self, relative: str, same: bool | None) -> None:
        if same is None:
            self.added.append(relative)
        elif same:
            self.unchanged += 1
            self._kept.add(relative)
        else:
            self.changed.append(relative)


class StagedOutput(_Output):
    """A complete new site in a staging folder, committed by :meth:`swap`."""

    def __init__(self, output: Path):
        super().__init__(output, "staging")
        self._dropped: set[str] = set()  # live files an incremental build removes
        self._live = _LiveListing(output)
        self._folder = ""  # the folder the last file went to: pages come sorted by path

    def __enter__(self):
        super().__enter__()
        self._live.start()  # nothing changes the live site until the swap
        return self

    def write(self, relative: str, data: str | bytes) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = self._text_target(self.scratch, relative)
        live, same = self._same_as_live(relative, payload)
        self._note(relative, same)
        try:
            self._folder_for(target)
            if same and not os.path.islink(live):  # never carry a link into the site
                try:
                    os.link(live, target)  # keeps the old file, mtime and all
                    return
                except FileExistsError:
                    raise
                except OSError:
                    pass
            # O_EXCL: a file some other page already wrote is an error, not overwritten
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise BuildError(f"output path {relative!r} is written twice") from None
        except (NotADirectoryError, IsADirectoryError):
            raise BuildError(
                f"output path {relative!r} clashes with another page's file or folder; "
                "check the url fields of the entries that write there"
            ) from None
        with open(fd, "wb") as file:
            file.write(payload)

    def _folder_for(self, target: str) -> None:
        """Create the target's folder (one mkdir for a new folder, none for the last one)."""
        folder = os.path.dirname(target)
        if folder == self._folder:
            return
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        self._folder = folder

    def place(self, relative: str, source: Path) -> None:
        """Move a finished file (e.g. a download) into the new site; ``source`` is consumed.

        Large files are never read into memory, and an unchanged one keeps the live file.
        """
        target = self._target(self.scratch, relative)
        if target.exists():
            raise BuildError(f"output path {relative!r} is written twice")
        live, same = self._same_file_as_live(relative, source)
        self._note(relative, same)
        target.parent.mkdir(parents=True, exist_ok=True)
        if same:
            try:
                os.link(live, target)
                source.unlink()
                return
            except OSError:
                pass
        try:
            os.replace(source, target)
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            raise BuildError(
                f"output path {relative!r} clashes with another file or folder"
            ) from None

    def keep(self, relative: str) -> None:
        """Carry a live file into the new site unchanged (hard link, else a copy)."""
        live = self._target(self.output, relative, resolve=True)
        target = self._target(self.scratch, relative)
        if target.exists():
            raise BuildError(f"output path {relative!r} is written twice")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(live, target)
        except OSError:
            shutil.copy2(live, target)
        self.unchanged += 1
        self._kept.add(relative)

    def remove(self, relative: str) -> None:
        """Leave a live file out of the new site (see :meth:`carry_over`)."""
        self._target(self.output, relative, resolve=True)  # refuses paths outside the output
        self._dropped.add(relative)

    def carry_over(self) -> None:
        """Link every live file this build neither wrote, kept nor removed into the new site.

        This makes a staged site of an incremental build: when most pages change, writing a
        new site and swapping it in costs less than moving each changed file over the live
        one (the moves wait for the last page; the staging overlaps the rendering). A link
        in the live site stays a link.
        """
        done = set(self.added) | set(self.changed) | self._kept | self._dropped
        base = self._base(self.output)
        for relative in self._live.files():
            if relative in done:
                continue
            live = os.path.join(base, relative)
            target = self._text_target(self.scratch, relative)
            try:
                self._folder_for(target)
                if os.path.islink(live):
                    os.symlink(os.readlink(live), target)
                else:
                    try:
                        os.link(live, target)
                    except OSError:
                        shutil.copy2(live, target)
            except (NotADirectoryError, IsADirectoryError, FileExistsError):
                raise BuildError(
                    f"output path {relative!r} of the live site clashes with a page of this "
                    "build; run `sitegen build --full`"
                ) from None
            self._kept.add(relative)
            self.unchanged += 1

    def swap(self) -> None:
        """Replace the output folder by the staging folder (old one removed afterwards)."""
        if self.output.exists() and not self.output.is_dir():
            raise BuildError(
                f"{self.output}: the output path exists and is not a folder; move it away"
            )
        if self.output.is_dir():
            written = set(self.added) | set(self.changed) | self._kept
            self.removed += (
                relative
                for relative in self._live.files()
                if relative not in written and relative not in self._live.linked_folders
            )
        # a name of its own: the last build's old folder may still be being removed
        old = self.output.parent / f".{self.output.name}.{uuid.uuid4().hex[:8]}.old-{os.getpid()}"
        if self.output.exists():
            os.replace(self.output, old)
        os.replace(self.scratch, self.output)
        if old.exists():
            remove_later(old)


class _LiveListing:
    """The live site's files (and links to folders), listed by a thread while the new site is
    made: walking a site of 100,000 folders takes seconds, which the rendering hides."""

    def __init__(self, output: Path):
        self.output = output
        self._files: list[str] = []
        self.linked_folders: set[str] = set()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._walk, name="sitegen-live-listing", daemon=True)
        self._thread.start()

    def files(self) -> list[str]:
        """Every file of the live site (and link to a folder), by relative path, in order."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._files

    def _walk(self) -> None:
        try:
            base = os.path.abspath(self.output)
            found: list[str] = []
            for folder, dirs, files in os.walk(base):
                dirs.sort()
                rel = os.path.relpath(folder, base)
                prefix = "" if rel == "." else f"{rel}/"
                links = {d for d in dirs if os.path.islink(os.path.join(folder, d))}
                for name in sorted([*files, *links]):
                    found.append(prefix + name)
                self.linked_folders.update(prefix + name for name in links)
            self._files = found
        except BaseException as err:  # raised again where the listing is read
            self._error = err


DEFER_REMOVAL = 1000  # staged files from which removing the scratch is left to another process


class OverlayOutput(_Output):
    """Changed files gathered beside the live site, moved over it by :meth:`apply`."""

    def __init__(self, output: Path, scratch_kind: str = "overlay"):
        super().__init__(output, scratch_kind)
        self._staged: list[str] = []

    def __exit__(self, *exc: object) -> None:
        # tens of thousands of emptied folders take seconds to unlink: not the build's wait
        if len(self._staged) < DEFER_REMOVAL:  # about a folder per staged page
            super().__exit__(*exc)
        elif self.scratch.exists():
            old = self.scratch.with_name(
                f"{self.scratch.name}.{uuid.uuid4().hex[:8]}.old-{os.getpid()}"
            )
            try:
                os.replace(self.scratch, old)
            except OSError:
                shutil.rmtree(self.scratch, ignore_errors=True)
            else:
                remove_later(old)

    def write(self, relative: str, data: str | bytes) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        _, same = self._same_as_live(relative, payload)  # refuses paths outside the output
        self._note(relative, same)
        if not same:
            with open(self._staged_file(len(self._staged)), "wb") as file:
                file.write(payload)
            self._staged.append(relative)

    def place(self, relative: str, source: Path) -> None:
        """Stage a finished file (e.g. a download) without reading it; ``source`` is consumed."""
        _, same = self._same_file_as_live(relative, source)
        self._note(relative, same)
        if same:
            source.unlink()
            return
        os.replace(source, self._staged_file(len(self._staged)))
        self._staged.append(relative)

    def _staged_file(self, index: int) -> str:
        """The scratch file of the index-th staged file.

        The scratch folder is flat (files named by number, not mirroring the site's folders):
        a new folder costs a mkdir as dear as the file itself, and a page is usually alone
        in its folder.
        """
        return os.path.join(self._base(self.scratch), str(index))

    def keep(self, relative: str) -> None:
        """The live file stays as it is."""
        self.unchanged += 1

    def remove(self, relative: str) -> None:
        self._target(self.output, relative, resolve=True)  # refuses paths outside the output
        self.removed.append(relative)

    def apply(self) -> None:
        """Delete the removed files, then move the changed ones over the live ones.

        Every target is checked before anything moves, so a clash (a folder where a file goes,
        a file where a folder must be) fails the build with the live site untouched. Folders
        are looked at once each (a changed site of 100,000 pages has about as many), not once
        per file and folder level.
        """
        removals = [self._target(self.output, relative, resolve=True) for relative in self.removed]
        removed = {self._text_target(self.output, relative) for relative in self.removed}
        moves = [self._text_target(self.output, relative) for relative in self._staged]
        folders = _LiveFolders(self._base(self.output), removed, moves)
        for relative, live in zip(self._staged, moves, strict=True):
            if not folders.fits(os.path.dirname(live)) or os.path.isdir(live):
                raise BuildError(
                    f"output path {relative!r} clashes with a file or folder of the live site "
                    "or of another changed page; check the url fields of the entries that "
                    "write there, or run `sitegen build --full`"
                )
        for live in removals:
            live.unlink(missing_ok=True)
            _prune_empty_parents(live.parent, self.output)
        made: set[str] = set()
        for index, live in enumerate(moves):
            folder = os.path.dirname(live)
            if folder not in made:
                if removals or not folders.seen_as_folder(folder):  # a removal may prune it
                    os.makedirs(folder, exist_ok=True)
                made.add(folder)
            os.replace(self._staged_file(index), live)


class _LiveFolders:
    """Whether a file may go into a folder of the live site: the folder is inside the output
    once links are followed, and no file (other than one being removed) is where it or a
    parent must be. Each folder is looked at once, after its parent."""

    def __init__(self, root: str, removed: set[str], staged: Iterable[str] = ()):
        self.root = root
        self.real_root = os.path.realpath(root)
        self.removed = removed
        self.known: dict[str, str] = {root: "dir"}  # folder → "dir", "absent" or "clash"
        # a file going in is no folder for another one
        self.known.update((file, "clash") for file in staged)

    def fits(self, folder: str) -> bool:
        return self._state(folder) != "clash"

    def seen_as_folder(self, folder: str) -> bool:
        """Whether :meth:`fits` found ``folder`` to be a folder of the live site already."""
        return self.known.get(folder) == "dir"

    def _state(self, folder: str) -> str:
        known = self.known.get(folder)
        if known is None:
            known = self.known[folder] = self._look(folder)
        return known

    def _look(self, folder: str) -> str:
        parent = os.path.dirname(folder)
        if parent == folder or not folder.startswith(self.root + os.sep):
            return "clash"
        above = self._state(parent)
        if above != "dir":
            return above  # under a folder to be made (or a clash), nothing is in the way
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            return "absent"
        if stat.S_ISLNK(mode):
            real = os.path.realpath(folder)
            inside = (real + os.sep).startswith(self.real_root + os.sep)
            return "dir" if inside and os.path.isdir(real) else "clash"
        if stat.S_ISDIR(mode):
            return "dir"
        return "absent" if folder in self.removed else "clash"


def _prune_empty_parents(folder: Path, root: Path) -> None:
    """Remove folders left empty by deleted pages, up to (not including) the output root."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


_REMOVER = """
import os, shutil, sys
folder = sys.argv[1]
mine = folder.rpartition("-")[0] + "-" + str(os.getpid())
try:
    os.rename(folder, mine)
except OSError:
    mine = folder
shutil.rmtree(mine, ignore_errors=True)
"""


def remove_later(folder: Path) -> None:
    """Delete a replaced site in a process of its own, so the build does not wait for it.

    Unlinking a site of tens of thousands of folders takes seconds; the new site is already
    in place. That process first renames the folder after itself, so the next build's
    :func:`remove_leftovers` leaves it alone while it runs, and deletes it if it did not finish.
    """
    try:
        subprocess.Popen(
            [sys.executable, "-c", _REMOVER, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not stopped with the build by a Ctrl-C
        )
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)


def remove_leftovers(output: Path) -> list[Path]:
    """Delete scratch folders of builds that were killed (their process no longer exists).

    A build's scratch folders carry its process id, so a running build's are never touched.
    """
    removed = []
    for path in output.parent.glob(f".{output.name}.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if not pid.isdigit() or not kind.endswith((".staging", ".overlay", ".old")):
            continue
        if not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (ours counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
