"""The build state (:mod:`.database`): content, the page graph, listings, sitemap and orders,
each a part of one SQLite database, so a stage uses the part it needs within one transaction."""

from sitegen.store.content import EntryKey, LazyEntry, dumps, entry_hash, references
from sitegen.store.database import DamagedState, StateError, Store
from sitegen.store.members import Member
from sitegen.store.pages import Page
from sitegen.store.sitemap import PageGroup, SitemapUrl

__all__ = [
    "DamagedState",
    "EntryKey",
    "LazyEntry",
    "Member",
    "Page",
    "PageGroup",
    "SitemapUrl",
    "StateError",
    "Store",
    "dumps",
    "entry_hash",
    "references",
]
