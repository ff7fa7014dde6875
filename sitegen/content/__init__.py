"""Content formats, with no I/O: rich text (:mod:`.rte`, :mod:`.sanitize`), Markdown, image URLs,
page paths (:mod:`.urls`), the CDA query language (:mod:`.query`), sort keys (:mod:`.order`),
canonical JSON (:mod:`.codec`) and timestamps. Everything above builds on these."""
