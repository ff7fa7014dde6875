"""The system fields Contentstack adds to entries and assets on delivery.

The history records them with each publish event (sync items carry them) and the delivery code
adds them to every entry it serves, so both build the same shapes here.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from sitegen.stack.folder import AssetFile

JsonDict = dict[str, Any]

ASSET_CONTENT_TYPE_UID = "sys_assets"


def blt_uid(*parts: str) -> str:
    """A stable Contentstack-looking uid ("blt" + 16 hex) for things the folder does not name."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return "blt" + digest[:16]


@lru_cache(maxsize=64)
def user_uid(stack_name: str) -> str:
    """The uid reported as created_by / updated_by / publish_details.user."""
    return blt_uid("user", stack_name)


@lru_cache(maxsize=256)
def environment_uid(stack_name: str, environment: str) -> str:
    """The uid reported as publish_details.environment for an environment name."""
    return blt_uid("environment", stack_name, environment)


def local_asset_url(uid: str, filename: str) -> str:
    """Site-relative URL of an asset whose bytes live in the folder (sitegen copies them)."""
    return f"/assets/{uid}/{filename}"


# In answers serialized compactly: an asset object as asset_record writes it ("filename" just
# before "url"), whose url is a local one. Text in entry fields never has this shape.
LOCAL_ASSET_URL = re.compile(r'("filename":"(?:[^"\\]|\\.)*","url":")(/assets/)')


def absolute_asset_urls(body: str, origin: str) -> str:
    """A serialized answer with the URLs of local assets made absolute on ``origin``.

    Contentstack answers absolute asset URLs unless asked for ``relative_urls=true`` (the
    SDKs' ``relative_urls()`` / ``relativeUrls()``); the folder stores them site-relative, so
    the server adds its own origin as it answers. Works on the text, so no cached object is
    changed.
    """
    return LOCAL_ASSET_URL.sub(lambda m: m.group(1) + origin + m.group(2), body)


def entry_record(
    fields: JsonDict,
    *,
    uid: str,
    locale: str,
    version: int,
    created_at: str,
    updated_at: str,
    stack_name: str,
) -> JsonDict:
    """An entry as Contentstack delivers it, minus publish_details (which depend on the request)."""
    user = user_uid(stack_name)
    record: JsonDict = dict(fields)
    record.setdefault("tags", [])
    record.update(
        {
            "uid": uid,
            "locale": locale,
            "_version": version,
            "created_at": created_at,
            "updated_at": updated_at,
            "created_by": user,
            "updated_by": user,
            "ACL": {},
            "_in_progress": False,
        }
    )
    return record


def asset_record(
    asset: AssetFile, *, version: int, created_at: str, updated_at: str, stack_name: str
) -> JsonDict:
    """An asset as Contentstack delivers it, minus publish_details."""
    user = user_uid(stack_name)
    url = asset.url or local_asset_url(asset.uid, asset.filename)
    record: JsonDict = {
        "uid": asset.uid,
        "created_at": created_at,
        "updated_at": updated_at,
        "created_by": user,
        "updated_by": user,
        "content_type": asset.content_type,
        "file_size": str(asset.file_size if asset.file_size is not None else 0),
        "tags": list(asset.tags),
        "filename": asset.filename,
        "url": url,
        "ACL": {},
        "is_dir": False,
        "parent_uid": None,
        "_version": version,
        "title": asset.title,
    }
    if asset.description is not None:
        record["description"] = asset.description
    return record


def publish_details(stack_name: str, environment: str, locale: str, time: str) -> JsonDict:
    """The publish_details object of an item published to `environment` in `locale`."""
    return {
        "environment": environment_uid(stack_name, environment),
        "locale": locale,
        "time": time,
        "user": user_uid(stack_name),
    }
