"""``sitegen hook``: receive Contentstack webhooks and turn them into builds and deploys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sitegen.cli.options import fail, listen_options
from sitegen.errors import SitegenError


@click.group()
def hook() -> None:
    """Receive Contentstack webhooks: build and deploy when content is published."""


@hook.command("serve")
@click.argument("site_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
@listen_options(port=8787)
def serve(site_dir: Path, host: str, port: int) -> None:
    """Serve POST /webhook and GET /status for the site in SITE_DIR.

    Each authenticated publish, unpublish or delete event for the site's environment queues an
    incremental build; events within [hook] debounce seconds of each other share one build.
    After a build that changed something, runs [hook] deploy_command (or POSTs build_hook_url).

    Authentication: [hook] public_key (Contentstack's public key, checked against its default
    signature, x-contentstack-request-signature), SITEGEN_HOOK_SECRET (the HMAC signing secret,
    x-contentstack-hmac-signature) and/or SITEGEN_HOOK_AUTH (user:password for Basic Auth).
    With none of them, the server does not start. Logs are JSON lines on stderr.
    """
    from sitegen.config import load_config
    from sitegen.server.hooks import HookAuth, HookServer

    try:
        config = load_config(site_dir)
        auth = HookAuth.from_env(os.environ, config.hook.public_key)
        server = HookServer(config, auth)
        server.run(host, port)
    except SitegenError as err:
        fail(err)
    except KeyboardInterrupt:
        sys.exit(130)
