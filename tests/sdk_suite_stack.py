"""The stack that Contentstack's Python SDK test suite (``contentstack`` 2.8.0's sdist) expects.

Those tests read their stack from a root module ``config.py`` (API key, token, environment and
the uids of a few items) and assume a Contentstack stack holding what they name: a ``faq``
entry with an entry variant, empty ``room`` and ``track`` types, an ``en-gb`` locale, at least
eight assets one of which is a 50×50 PNG with a fixed title, a ``gadgets`` taxonomy with a
parent → child → grandchild chain partly translated into fr-fr, a ``category`` taxonomy never
translated, and a branch. :func:`write_sdk_suite_stack` writes that stack in the local stack
format (README, "The local stack format"), with the images generated here so that no binary
file is committed, and returns the values ``config.py`` needs (all but ``HOST``, which is the
port the stack is served on).
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

API_KEY = "sdk_suite_api_key"
DELIVERY_TOKEN = "sdk_suite_delivery_token"
PREVIEW_TOKEN = "sdk_suite_preview_token"
# several tests compare entry_param with a literal {'environment': 'development', ...}
ENVIRONMENT = "development"
FAQ_UID = "what-is-a-local-stack"
VARIANT_UID = "returning_visitors"
LIVE_PREVIEW_ENTRY_UID = "live-preview-product"
TAXONOMY_UID = "gadgets"
TAXONOMY_LOCALE = "fr-fr"
TAXONOMY_MASTER_LOCALE = "en-us"
BRANCH = "develop"
# the title test_assets.test_01 looks for; its uid is then fetched with include_dimension
LIGHTNING_TITLE = "if_icon-72-lightning_316154_(1).png"


def write_sdk_suite_stack(dest: Path) -> dict[str, str]:
    """Write the stack folder at ``dest`` (which must not exist yet) and return the values of
    ``config.py`` but ``HOST``: APIKEY, DELIVERYTOKEN, ENVIRONMENT, FAQ_UID, VARIANT_UID,
    LIVE_PREVIEW_ENTRY_UID, PREVIEW_TOKEN, MANAGEMENT_TOKEN, TAXONOMY_UID, TAXONOMY_LOCALE,
    TAXONOMY_MASTER_LOCALE and BRANCH."""
    dest.mkdir(parents=True)
    _write_settings(dest)
    _write_content_types(dest)
    _write_taxonomies(dest)
    _write_entries(dest)
    _write_variants(dest)
    _write_assets(dest)
    _write_branch(dest)
    return {
        "APIKEY": API_KEY,
        "DELIVERYTOKEN": DELIVERY_TOKEN,
        "ENVIRONMENT": ENVIRONMENT,
        "FAQ_UID": FAQ_UID,
        "VARIANT_UID": VARIANT_UID,
        "LIVE_PREVIEW_ENTRY_UID": LIVE_PREVIEW_ENTRY_UID,
        "PREVIEW_TOKEN": PREVIEW_TOKEN,
        # only stored in a live-preview configuration by test_live_preview, never sent here
        "MANAGEMENT_TOKEN": "sdk_suite_management_token",
        "TAXONOMY_UID": TAXONOMY_UID,
        "TAXONOMY_LOCALE": TAXONOMY_LOCALE,
        "TAXONOMY_MASTER_LOCALE": TAXONOMY_MASTER_LOCALE,
        "BRANCH": BRANCH,
    }


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_settings(dest: Path) -> None:
    """The ``development`` environment the tests name; ``en-gb`` because test_query 19–21 ask
    for ``room`` entries in it (an unknown locale would be refused); ``fr-fr`` for the
    taxonomy localisation tests. Both fall back to en-us, as test_taxonomies expects of
    ``include_fallback()``."""
    _write(
        dest / "stack.json",
        {
            "name": "contentstack-python 2.8.0 test suite",
            "api_key": API_KEY,
            "delivery_token": DELIVERY_TOKEN,
            "preview_token": PREVIEW_TOKEN,
            "environments": [ENVIRONMENT],
            "locales": [
                {"code": "en-us", "name": "English - United States"},
                {"code": "en-gb", "name": "English - United Kingdom", "fallback_locale": "en-us"},
                {"code": "fr-fr", "name": "French - France", "fallback_locale": "en-us"},
            ],
        },
    )


TITLE = {
    "uid": "title",
    "data_type": "text",
    "display_name": "Title",
    "mandatory": True,
    "unique": True,
    "field_metadata": {"_default": True},
}


def _write_content_types(dest: Path) -> None:
    """``faq`` (test_entry: queries, fetches by FAQ_UID, variants); ``product`` (test_query,
    test_live_preview; its taxonomy field gives test_taxonomies' entry filters something to
    find); ``room`` and ``track`` stay empty, because test_stack 18–20 want a sync of them to
    count 0 and test_query 19–21 want ``{'entries': []}``; ``application_theme`` is fetched
    by test_stack 21; ``app_theme`` is only named in test_query's parameter checks."""
    schemas: dict[str, list[dict[str, Any]]] = {
        "faq": [TITLE, {"uid": "answer", "data_type": "text", "display_name": "Answer"}],
        "product": [
            TITLE,
            {"uid": "price", "data_type": "number", "display_name": "Price"},
            {"uid": "discount", "data_type": "number", "display_name": "Discount"},
            {
                "uid": "taxonomies",
                "data_type": "taxonomy",
                "display_name": "Taxonomy",
                "multiple": True,
                "taxonomies": [{"taxonomy_uid": TAXONOMY_UID}, {"taxonomy_uid": "category"}],
            },
        ],
        "room": [TITLE],
        "track": [TITLE],
        "application_theme": [TITLE],
        "app_theme": [TITLE],
    }
    for uid, schema in schemas.items():
        _write(
            dest / "content_types" / f"{uid}.json",
            {
                "uid": uid,
                "title": uid.replace("_", " ").title(),
                "schema": schema,
                "options": {"is_page": False, "singleton": False, "title": "title"},
            },
        )


def _write_taxonomies(dest: Path) -> None:
    """``gadgets`` (config.TAXONOMY_UID): test_taxonomies walks the first term's descendants
    for a parent → child → grandchild chain (electronics → phones → smartphones) and checks
    ``depth`` against it; only some terms have fr-fr names, so ``locale('fr-fr')`` leaves the
    others out and ``include_fallback()`` answers them in en-us, term by term. ``category`` has
    no fr-fr name at all: TestTaxonomyLocalisation 20 and 21 expect a 404 for the taxonomy in
    fr-fr and an empty term list."""
    _write(
        dest / "taxonomies" / f"{TAXONOMY_UID}.json",
        {
            "name": "Gadgets",
            "description": "Things a product can be",
            "names": {"fr-fr": "Gadgets (fr)"},
            "terms": [
                {
                    "uid": "electronics",
                    "name": "Electronics",
                    "names": {"fr-fr": "Électronique"},
                    "terms": [
                        {
                            "uid": "phones",
                            "name": "Phones",
                            "terms": [
                                {
                                    "uid": "smartphones",
                                    "name": "Smartphones",
                                    "names": {"fr-fr": "Ordiphones"},
                                }
                            ],
                        },
                        {"uid": "laptops", "name": "Laptops"},
                    ],
                },
                {"uid": "accessories", "name": "Accessories", "names": {"fr-fr": "Accessoires"}},
            ],
        },
    )
    _write(
        dest / "taxonomies" / "category.json",
        {
            "name": "Category",
            "terms": [
                {"uid": "test", "name": "Test"},
                {"uid": "category1", "name": "Category 1"},
                {"uid": "category2", "name": "Category 2"},
            ],
        },
    )


def _write_entries(dest: Path) -> None:
    """FAQ_UID is the ``faq`` entry test_entry fetches (and the first one its queries find);
    the products are what test_taxonomies' entry filters (``taxonomies.category`` ``test``,
    ``$eq_below`` …) can match, one of them named by LIVE_PREVIEW_ENTRY_UID."""
    _write(
        dest / "entries" / "faq" / f"{FAQ_UID}.en-us.json",
        {"title": "What is a local stack?", "answer": "A folder served as a CDA."},
    )
    _write(
        dest / "entries" / "product" / "phone-one.en-us.json",
        {
            "title": "Phone one",
            "price": 80,
            "discount": 20,
            "taxonomies": [
                {"taxonomy_uid": TAXONOMY_UID, "term_uid": "smartphones"},
                {"taxonomy_uid": "category", "term_uid": "test"},
            ],
        },
    )
    _write(
        dest / "entries" / "product" / f"{LIVE_PREVIEW_ENTRY_UID}.en-us.json",
        {
            "title": "Charger",
            "price": 15,
            "discount": 0,
            "taxonomies": [{"taxonomy_uid": TAXONOMY_UID, "term_uid": "accessories"}],
        },
    )


def _write_variants(dest: Path) -> None:
    """VARIANT_UID changes the FAQ_UID entry: test_entry 23–25, 40, 41 (and 41a–f on BRANCH)
    ask for it through ``variants()`` (the ``x-cs-variant-uid`` header) and expect
    ``publish_details.variants`` in the entry."""
    _write(
        dest / "variant_groups" / "visitors.json",
        {
            "name": "Visitors",
            "content_types": ["faq"],
            "personalize_metadata": {"experience_short_uid": "0"},
            "variants": [
                {
                    "uid": VARIANT_UID,
                    "name": "Returning visitors",
                    "personalize_metadata": {"variant_short_uid": "0"},
                }
            ],
        },
    )
    _write(
        dest / "variants" / VARIANT_UID / "faq" / f"{FAQ_UID}.en-us.json",
        {"answer": "The same folder you met last time."},
    )


def _write_assets(dest: Path) -> None:
    """test_assets 01 and 09 want at least eight assets on the first page; 01 looks up the one
    titled LIGHTNING_TITLE and 02–04 fetch it, expecting ``image/png`` and, with
    ``include_dimension``, ``{'height': 50, 'width': 50}``. The others are 20×20 PNGs."""
    assets = [("lightning_icon", LIGHTNING_TITLE, "lightning.png", 50)]
    assets += [(f"image_{n}", f"images_({n}).png", f"images-{n}.png", 20) for n in range(1, 9)]
    for uid, title, filename, size in assets:
        _write(
            dest / "assets" / f"{uid}.json",
            {"title": title, "filename": filename, "content_type": "image/png"},
        )
        (dest / "assets" / uid).mkdir()
        (dest / "assets" / uid / filename).write_bytes(png(size, size))


def _write_branch(dest: Path) -> None:
    """BRANCH, a full copy of main with the FAQ retitled: test_entry 41a–41f send it in the
    ``branch`` header with ``variants()`` and expect the variant there too."""
    branch = dest / "branches" / BRANCH
    for item in ("content_types", "taxonomies", "entries", "variant_groups", "variants"):
        shutil.copytree(dest / item, branch / item)
    _write(
        branch / "entries" / "faq" / f"{FAQ_UID}.en-us.json",
        {"title": "What is a local stack? (develop)", "answer": "A folder served as a CDA."},
    )


def png(width: int, height: int, rgb: tuple[int, int, int] = (230, 160, 20)) -> bytes:
    """A valid single-colour RGB PNG, so the server has real dimensions to read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
