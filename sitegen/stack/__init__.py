"""The bundled local stack: a folder served over Contentstack's Content Delivery API.

The folder layout: docs/stack/entries/doc/local-stack-format.en-us.md. `create_app` builds the
CDA v3 server (Sync API included) and `serve` runs it on a port; `load_stack` reads and
validates a folder.
"""

from sitegen.stack.app import create_app, serve
from sitegen.stack.folder import LocalStack, load_stack
from sitegen.stack.history import History, default_history_path

__all__ = ["History", "LocalStack", "create_app", "default_history_path", "load_stack", "serve"]
