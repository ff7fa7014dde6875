"""The bundled local stack: a folder served over Contentstack's Content Delivery API.

The folder layout: docs/stack/entries/doc/local-stack-format.en-us.md. `create_app` builds the
CDA v3 server (Sync API included) and `serve` runs it on a port; `load_stack` reads and
validates a folder.

The names below are imported when first used, not with the package: a build against
Contentstack imports `sitegen.stack.branches` (a few path rules) and should not pay for the
server (Starlette, the catalog, the history) it never starts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitegen.stack.app import create_app, serve
    from sitegen.stack.folder import LocalStack, load_stack
    from sitegen.stack.history import History, default_history_path

_WHERE = {
    "create_app": "sitegen.stack.app",
    "serve": "sitegen.stack.app",
    "LocalStack": "sitegen.stack.folder",
    "load_stack": "sitegen.stack.folder",
    "History": "sitegen.stack.history",
    "default_history_path": "sitegen.stack.history",
}

__all__ = ["History", "LocalStack", "create_app", "default_history_path", "load_stack", "serve"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'sitegen.stack' has no attribute {name!r}")
