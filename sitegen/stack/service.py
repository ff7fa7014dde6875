"""The state behind the local stack server: the folder, its history and the current catalogs.

The HTTP layer decides *when* to rescan (content type lists and sync starts); this module does
the rescan. A rescan is a stat pass (plus reading the files whose stat moved). When entries or
assets changed (here or in another process sharing the history) the catalog forgets just those
and what was derived from them; only a change of stack.json or a content type replaces it.

Each branch of the stack (branches.py) is a service of its own, with its own history, made on
first use by the main folder's service.

Preview requests are answered from a separate draft catalog (drafts.py), built on first use
after a rescan and dropped whenever the recorded state or a draft file changed: it shares no
cache with the delivery catalog.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from sitegen.stack import branches
from sitegen.stack.dimensions import image_size
from sitegen.stack.drafts import DraftCatalog
from sitegen.stack.folder import (
    ASSETS_DIR,
    CONFIG_DIRS,
    STACK_FILE,
    FileStat,
    Listing,
    LocalStack,
    load_stack,
)
from sitegen.stack.history import History, default_history_path
from sitegen.stack.live_preview import session_listing
from sitegen.stack.resolve import Catalog


def _config_stats(root: Path) -> dict[str, FileStat]:
    """Stats of the files load_stack reads, to tell whether it must run again."""
    stats: dict[str, FileStat] = {}
    try:
        st = (root / STACK_FILE).stat()
        stats[STACK_FILE] = (st.st_size, st.st_mtime_ns)
    except FileNotFoundError:
        pass
    for folder in CONFIG_DIRS:
        try:
            with os.scandir(root / folder) as it:
                for item in it:
                    if item.name.startswith("."):
                        continue
                    st = item.stat()
                    stats[f"{folder}/{item.name}"] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass
    return stats


class StackService:
    """One branch of a local stack folder served over the CDA; all access goes through `lock`.

    The service of the main folder (``main`` None) owns the services of the other branches.
    """

    def __init__(
        self,
        stack_dir: Path | str,
        history_path: Path | str | None = None,
        *,
        main: StackService | None = None,
    ):
        self.stack_dir = Path(stack_dir)
        self.main = main
        self._main_stack: LocalStack | None = None  # what a branch was loaded with
        self.stack: LocalStack = self._load()
        self.history = History(history_path or default_history_path(self.stack_dir))
        self.lock = threading.RLock()
        self._catalog: Catalog | None = None
        self._listing: Listing | None = None  # of the last rescan, for the draft catalog
        self._drafts: DraftCatalog | None = None
        # the last Live Preview session asked for: (hash, its files' stats) and its view
        self._session: tuple[tuple[Any, ...], DraftCatalog] | None = None
        self._dimensions: dict[tuple[str, int, int], tuple[int, int] | None] = {}
        self._branches: dict[str, StackService] = {}
        self._scans_begun = 0  # rescans begun, numbered in order (see refresh)
        self._scan_done = 0  # the number of the last rescan that completed

    def _load(self) -> LocalStack:
        if self.main is None:
            return load_stack(self.stack_dir)
        self._main_stack = self.main.settings()
        return load_stack(self.stack_dir, main=self._main_stack)

    def settings(self) -> LocalStack:
        """The stack's settings as its stack.json now says (reloaded if it changed)."""
        with self.lock:
            self._reload_if_changed()
            return self.stack

    def _reload_if_changed(self) -> bool:
        """Reload the settings and definitions if a file of them (or main's) changed."""
        main_moved = self.main is not None and self.main.settings() is not self._main_stack
        if not main_moved and _config_stats(self.stack_dir) == self.stack.config_stats:
            return False
        self.stack = self._load()
        return True

    def branch(self, name: str | None) -> StackService | None:
        """The service of the branch a ``branch`` header names (a uid or an alias; this one
        without a header), or None when the stack has no such branch."""
        if self.main is not None:
            return self.main.branch(name)
        with self.lock:
            uid = branches.resolve(name, self.stack_dir, self.settings().branch_aliases)
            if uid is None:
                return None
            if uid == branches.MAIN_BRANCH:
                return self
            found = self._branches.get(uid)
            if found is None:
                history = self.history.path
                found = StackService(
                    branches.branch_folder(self.stack_dir, uid),
                    history.with_name(f"{history.stem}.branch-{uid}{history.suffix}"),
                    main=self,
                )
                self._branches[uid] = found
            return found

    def dimension(self, uid: str, filename: str | None) -> tuple[int, int] | None:
        """(width, height) of an asset's image file in the folder, or None (no file there, or
        not an image); kept per file size and modification time."""
        if not filename:
            return None
        path = self.stack_dir / ASSETS_DIR / uid / filename
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._dimensions:
            self._dimensions[key] = image_size(path)
        return self._dimensions[key]

    def close(self) -> None:
        """Release the history databases (of every branch served)."""
        with self.lock:
            opened = list(self._branches.values())
            self._branches.clear()
        for service in opened:
            service.close()
        with self.lock:
            self.history.close()

    def refresh(self, *, preview: bool = False, live_preview: str | None = None) -> Catalog:
        """Rescan the folder and return the catalog to answer from (the draft view's for a
        preview request).

        Requests that arrive together (a build asks for the sync and the taxonomies at once)
        share a scan: one that began after a request arrived has seen every file as it was
        when the request was made, so that request is answered from it without another.
        """
        arrived = self._scans_begun  # scans begun before this request (an int: read whole)
        with self.lock:
            if self._scan_done > arrived:
                return self.catalog(preview=preview, live_preview=live_preview)
            self._scans_begun += 1
            number = self._scans_begun
            reloaded = self._reload_if_changed()
            listing = self.stack.list_files()
            changed = self.history.scan(self.stack, listing)
            if reloaded or self._catalog is None:
                # New settings or content types can change how anything is delivered.
                self._catalog = Catalog(self.stack, self.history)
            elif changed:
                self._catalog.catch_up()
            # The draft view also shows unpublished entries, whose edits make no events, so any
            # recorded change (or a changed draft file) replaces it.
            if (
                reloaded
                or changed
                or self._listing is None
                or listing.draft_files != self._listing.draft_files
            ):
                self._drafts = None
                self._session = None
            self._listing = listing
            self._scan_done = number
            return self.catalog(preview=preview, live_preview=live_preview)

    def catalog(self, *, preview: bool = False, live_preview: str | None = None) -> Catalog:
        """The catalog of the last scan (scanning first if there was none): the delivery view,
        or the draft view for a preview request, overlaid with the unsaved edits of a Live
        Preview session when ``live_preview`` names one (live_preview.py)."""
        with self.lock:
            if self._catalog is None or self._listing is None:
                self.refresh()
            assert self._catalog is not None and self._listing is not None
            if not preview:
                return self._catalog
            if live_preview:
                session = session_listing(self.stack, self._listing, live_preview)
                if session is not None:
                    key = (live_preview, tuple(sorted(session.draft_files.items())))
                    if self._session is None or self._session[0] != key:
                        self._session = (key, DraftCatalog(self.stack, self.history, session))
                    return self._session[1]
            if self._drafts is None:
                self._drafts = DraftCatalog(self.stack, self.history, self._listing)
            return self._drafts
