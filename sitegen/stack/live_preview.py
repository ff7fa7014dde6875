"""Live Preview sessions in a local stack: the unsaved edits of an editing session, by hash.

In Contentstack, the entry editor keeps what an editor types, before it is saved, under the
session's hash; the preview host answers requests carrying that hash (header ``live_preview``)
and a preview token with those edits in place of the saved entry (Contentstack's Live Preview
docs; live-preview-utils reloads the site with ``?live_preview=<hash>`` on each change). A
local stack keeps them as files a test or a person writes::

    live_preview/<hash>/<content_type_uid>/<entry_uid>.<locale>.json

each holding the whole entry as the editor has it, in the format of an entry file. A preview
request with that hash sees the drafts overlaid with them; without a hash, or with one that
has no folder, it sees the drafts alone (the saved state).
"""

from __future__ import annotations

import dataclasses
import re

from sitegen.errors import StackFolderError
from sitegen.stack.folder import EntryPath, Listing, LocalStack

SESSIONS_DIR = "live_preview"
HASH_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
HEADER = "live_preview"


def session_listing(stack: LocalStack, listing: Listing, live_preview: str) -> Listing | None:
    """The folder's listing with a session's files added as drafts, or None when the hash has
    no folder (or is not a hash at all)."""
    if not HASH_RE.match(live_preview):
        return None
    folder = stack.root / SESSIONS_DIR / live_preview
    if not folder.is_dir():
        return None
    drafts = dict(listing.drafts)
    draft_files = dict(listing.draft_files)
    for ct_folder in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if not ct_folder.is_dir() or ct_folder.name not in stack.content_types:
            raise StackFolderError(
                f"{ct_folder}: a Live Preview session holds one folder per content type uid; "
                "this is not one."
            )
        for file in sorted(p for p in ct_folder.iterdir() if not p.name.startswith(".")):
            parts = file.name.split(".")
            if len(parts) != 3 or parts[2] != "json" or stack.locale(parts[1]) is None:
                raise StackFolderError(
                    f"{file}: name it <entry_uid>.<locale>.json with a locale of stack.json."
                )
            rel = file.relative_to(stack.root).as_posix()
            st = file.stat()
            drafts[rel] = EntryPath(ct_folder.name, parts[0], parts[1], draft=True)
            draft_files[rel] = (st.st_size, st.st_mtime_ns)
    return dataclasses.replace(listing, drafts=drafts, draft_files=draft_files, _asset_uids=None)
