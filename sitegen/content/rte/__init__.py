"""Render Contentstack rich text (JSON-RTE documents and HTML-RTE strings) to HTML.

The default output matches, byte for byte, what Contentstack's JavaScript utils library
(@contentstack/utils 1.9.1, ``jsonToHTML`` and ``render``) produces with default options, so a
site moving to sitegen keeps its markup. The reference cases live in
``tests/data/contentstack-utils-rte-cases.json``.

Modules, each importing only those above it:

* ``jsformat`` -- JavaScript value semantics: truthiness, ``String()``, number formatting,
  key order, ``toFixed``, ``encodeURI``, style objects.
* ``errors`` -- :class:`RteError`, :data:`MAX_DEPTH` and descriptions of bad values.
* ``escape`` -- the reference's regex sanitizer, the "clean" fixed-point test, text escaping
  and URL neutralizing.
* ``embedded`` -- the index of ``_embedded_items``, what the embed hook sees
  (:class:`EmbedContext`), and the default HTML of an embedded entry or asset.
* ``context`` -- per-call render state: the items, the hook, and hook outputs awaiting insertion.
* ``json_rte`` -- JSON-RTE documents (:func:`render_json_rte`).
* ``html_rte`` -- HTML-RTE strings with embedded objects (:func:`render_html_rte`).
* ``dispatch`` -- :func:`render_rte`, which tells JSON-RTE from HTML-RTE.
"""

from sitegen.content.rte.dispatch import render_rte
from sitegen.content.rte.embedded import EmbedContext, EmbeddedItems
from sitegen.content.rte.errors import MAX_DEPTH, RteError
from sitegen.content.rte.html_rte import render_html_rte
from sitegen.content.rte.json_rte import render_json_rte

__all__ = [
    "MAX_DEPTH",
    "EmbedContext",
    "EmbeddedItems",
    "RteError",
    "render_html_rte",
    "render_json_rte",
    "render_rte",
]
