"""Per-call render state shared by the JSON-RTE and HTML-RTE renderers.

An optional ``embed`` hook renders embedded entries and assets (e.g. through a template); its
output is inserted verbatim, never sanitized or pattern-expanded. To get there, each output is
parked behind a placeholder the sanitizer leaves alone and put in place once the field is
rendered (:meth:`_Context.finish`).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sitegen.content.rte.embedded import EmbedContext, EmbeddedItems, EmbedRenderer


class _Context:
    """Per-call state: embedded items, the hook, and verbatim hook outputs awaiting insertion."""

    __slots__ = ("depth", "embed", "embedded", "outputs", "token")

    def __init__(self, embedded: EmbeddedItems | None, embed: EmbedRenderer | None) -> None:
        self.embedded = embedded
        self.embed = embed
        self.depth = 0
        self.outputs: list[str] = []
        self.token = ""

    def lookup(self, kind: Any, uid: Any, content_type_uid: Any) -> dict | None:
        """The embedded item the reference would find, or None."""
        if self.embedded is None:
            return None
        return self.embedded.find(kind, uid, content_type_uid)

    def call_hook(self, item: dict | None, context: EmbedContext) -> str | None:
        """Run the embed hook; a string result is parked behind a placeholder (see finish)."""
        if self.embed is None:
            return None
        result = self.embed(item if item is not None else {}, context)
        if result is None:
            return None
        if not self.token:
            # Placeholders contain no "<", newline or quote, so the sanitizer leaves them alone
            # in text; it drops one from an attribute value, so none is filled there.
            self.token = "\x00" + secrets.token_hex(8) + ":"
        # Resolve placeholders of inner hook outputs the hook may have copied from ctx.text.
        self.outputs.append(self.finish(str(result)))
        return f"{self.token}{len(self.outputs) - 1}\x00"

    def finish(self, html: str) -> str:
        """Put the hook outputs in place of their placeholders."""
        if not self.outputs:
            return html
        pattern = re.compile(re.escape(self.token) + r"(\d+)\x00")
        return pattern.sub(lambda m: self.outputs[int(m.group(1))], html)
