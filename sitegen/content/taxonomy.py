"""A taxonomy's term tree and the CDA's hierarchy operators over it.

One implementation for both sides of the CDA: the local stack answers ``$eq_below`` & co. with
it, and the build uses it for term pages (an entry tagged with a term is listed on the pages of
that term and of its ancestors, the ``$eq_below`` meaning) and for templates' taxonomy queries,
so a query means the same in a template as it does on the stack.

CDA reference, "Taxonomy" under Queries: ``$eq_below`` is the term and the terms below it,
``$below`` only those below, ``$eq_above`` / ``$above`` likewise upwards; ``levels`` limits how
far (default 10, a taxonomy's greatest depth; 0 is the term alone).
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_LEVELS = 10


class TermTree:
    """Terms by uid with their parent, in tree order (each term before its children)."""

    def __init__(self, terms: Iterable[tuple[str, str | None]]):
        """``terms``: (uid, parent uid or None), parents listed before their children; a term
        whose parent is unknown becomes a root."""
        self.parent: dict[str, str | None] = {}
        self.children: dict[str | None, list[str]] = {None: []}
        for uid, parent in terms:
            if uid in self.parent:
                continue
            parent = parent if parent in self.parent else None
            self.parent[uid] = parent
            self.children.setdefault(parent, []).append(uid)
            self.children.setdefault(uid, [])

    def __contains__(self, uid: object) -> bool:
        return uid in self.parent

    def order(self) -> list[str]:
        """Every term in tree order: depth first, siblings in their order."""
        found: list[str] = []
        stack = list(reversed(self.children[None]))
        while stack:
            uid = stack.pop()
            found.append(uid)
            stack.extend(reversed(self.children[uid]))
        return found

    def depth(self, uid: str) -> int:
        """1 for a root term, as the CDA counts it."""
        return len(self.ancestors(uid)) + 1

    def descendants(self, uid: str, levels: int | None = None) -> list[str]:
        """The terms below ``uid``, at most ``levels`` down, in tree order."""
        found: list[str] = []
        stack = [(child, 1) for child in reversed(self.children.get(uid, []))]
        while stack:
            term, level = stack.pop()
            if levels is not None and level > levels:
                continue
            found.append(term)
            stack.extend((child, level + 1) for child in reversed(self.children[term]))
        return found

    def ancestors(self, uid: str, levels: int | None = None) -> list[str]:
        """The terms above ``uid``, nearest first, at most ``levels`` up."""
        found: list[str] = []
        parent = self.parent.get(uid)
        while parent is not None and (levels is None or len(found) < levels):
            if parent in found:  # a cycle can only come from a malformed answer: stop
                break
            found.append(parent)
            parent = self.parent.get(parent)
        return found

    def hierarchy(self, operator: str, uid: str, levels: int = DEFAULT_LEVELS) -> frozenset[str]:
        """The term uids a hierarchy operator names (none for an unknown term)."""
        if uid not in self.parent:
            return frozenset()
        if operator in ("$eq_below", "$below"):
            found = self.descendants(uid, levels)
        else:
            found = self.ancestors(uid, levels)
        if operator.startswith("$eq_"):
            found = [uid, *found]
        return frozenset(found)
