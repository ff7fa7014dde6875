"""Load and validate ``sitegen.toml`` into one frozen, typed object (:mod:`.settings`).

This is the only module that reads the configuration file and the environment: every later
stage receives a :class:`SiteConfig`. Every mistake is reported with the file and the dotted
key at fault, because a build that silently ignores a misspelt key is worse than one that stops.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sitegen.config.regions import REGIONS, cda_base_url, preview_base_url
from sitegen.config.settings import (
    AnalyticsConfig,
    AssetsConfig,
    ContentTypeConfig,
    FeedConfig,
    HookConfig,
    LaunchConfig,
    LaunchRule,
    ListingConfig,
    LocaleConfig,
    PersonalizeConfig,
    PreviewConfig,
    Selection,
    SiteConfig,
    StackConfig,
)
from sitegen.content.order import parse_sort
from sitegen.content.query import QueryError, check_query
from sitegen.errors import ConfigError, shown_path

CONFIG_NAME = "sitegen.toml"
LOCALE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
CONTENT_TYPE_UID = re.compile(r"^[a-z][a-z0-9_]*$")
SECRET_KEYS = frozenset({"api_key", "delivery_token", "preview_token", "build_hook_url"})
ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# every top-level table of sitegen.toml, the arrays of tables ([[pages]]) apart
TABLES = (
    "stack",
    "site",
    "locales",
    "content_types",
    "extra",
    "sitemap",
    "search",
    "hook",
    "analytics",
    "assets",
    "rte",
    "personalize",
    "preview",
    "launch",
)
ARRAYS_OF_TABLES = ("pages", "taxonomies", "feeds")


class _Table:
    """A TOML table being validated: tracks the keys read so unknown ones can be reported."""

    def __init__(self, data: Mapping[str, Any], path: str, file: Path):
        self.data, self.path, self.file = data, path, file
        self.known: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> ConfigError:
        if name not in self.data:  # missing: perhaps because it is misspelt
            unknown = [k for k in self.data if k not in self.known and k != name]
            typo = _closest(name, unknown)
            if typo is not None:
                message = f"is not a known setting; did you mean {self.key(name)}?"
                name = typo
        return ConfigError(f"{shown_path(self.file)}: {self.key(name)} {message}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.known.add(name)
        if name not in self.data:
            return default
        value = self.data[name]
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float))
        if not ok:
            wanted = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            # a credential in the wrong shape is still a credential: name its type, not its value
            got = _toml_type(type(value).__name__) if name in SECRET_KEYS else repr(value)
            raise self.error(name, f"must be {_a(_toml_type(wanted))}, got {got}")
        return value

    def table(self, name: str) -> _Table:
        value = self.get(name, dict, {})
        return _Table(value, self.key(name), self.file)

    def check_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.known)
        if unknown:
            name = unknown[0]
            guess = _closest(name, self.known)
            if guess is not None:
                raise self.error(name, f"is not a known setting; did you mean {self.key(guess)}?")
            known = ", ".join(sorted(self.known))
            raise self.error(name, f"is not a known setting (known here: {known})")


def _closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` is most likely a misspelling of, if any is close enough."""
    by_lower = {k.lower(): k for k in known}
    found = difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def _check_tables(data: Mapping[str, Any], file: Path) -> None:
    """Every top-level name is a table sitegen reads: a misspelt one is said to be one before
    the table it was meant to be is found missing (``[stak]``: not "stack.environment is
    missing")."""
    for name in sorted(set(data) - {*TABLES, *ARRAYS_OF_TABLES}):
        value = data[name]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            what = f"table [[{name}]]"
        elif isinstance(value, dict):
            what = f"table [{name}]"
        else:  # a key = value above the first table
            raise ConfigError(
                f"{shown_path(file)}: {name} is not a known setting at the top of the file; "
                "settings go in tables such as [site] (title, base_url, …) or [stack] (host, "
                "environment, …): move it below the table it belongs to"
            )
        guess = _closest(name, (*TABLES, *ARRAYS_OF_TABLES))
        if guess is None:
            tables = ", ".join(
                [f"[{t}]" for t in sorted(TABLES)] + [f"[[{t}]]" for t in ARRAYS_OF_TABLES]
            )
            hint = f"the tables are {tables}"
        else:
            hint = (
                f"did you mean [[{guess}]]?"
                if guess in ARRAYS_OF_TABLES
                else f"did you mean [{guess}]?"
            )
        raise ConfigError(f"{shown_path(file)}: unknown {what}; {hint}")


def _toml_type(python_name: str) -> str:
    names = {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "dict": "table",
        "list": "array",
    }
    return " or ".join(names.get(n, n) for n in python_name.split(" or "))


def _a(noun: str) -> str:
    """``a string``, ``an integer``: the article a type's name takes in a message."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def interpolate(data: Any, file: Path, env: Mapping[str, str], path: str = "") -> Any:
    """Replace ``${VAR}`` in every string value; ``$$`` stands for a literal ``$``."""
    if isinstance(data, dict):
        return {k: interpolate(v, file, env, f"{path}.{k}" if path else k) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, file, env, f"{path}[{i}]") for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        if name not in env:
            raise ConfigError(
                f"{shown_path(file)}: {path} refers to ${{{name}}}, but the environment variable {name} "
                "is not set; set it or write the value in the file"
            )
        return env[name]

    return ENV_REF.sub(substitute, data)


def load_config(site_dir: Path | str, env: Mapping[str, str] | None = None) -> SiteConfig:
    """Read ``SITE_DIR/sitegen.toml`` and the CONTENTSTACK_* environment variables."""
    env = os.environ if env is None else env
    root = Path(site_dir).resolve()
    file = root / CONFIG_NAME
    if not file.is_file():
        raise ConfigError(_no_config(root))
    shown = shown_path(file)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown}: not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not UTF-8 text") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and tables
        raise ConfigError(f"{shown}: not valid TOML: arrays or tables nested too deeply") from None
    data = interpolate(raw, file, env)
    _check_tables(data, file)

    top = _Table(data, "", file)
    top.known.add("personalize")  # read only when present
    site = top.table("site")
    stack = _stack_config(top.table("stack"), root, env)
    locales = _locales(site, top.table("locales"))
    content_types = _content_types(top.table("content_types"))
    extra = top.get("extra", dict, {})
    listings = _listings(top, file)
    listings += _taxonomy_listings(top, file, listings)
    feeds = _feeds(top, file)
    sitemap_table = top.table("sitemap")
    sitemap = sitemap_table.get("enabled", bool, True)
    sitemap_table.check_unknown()
    search_table = top.table("search")
    pagefind = search_table.get("pagefind", bool, False)
    search_table.check_unknown()
    hook = _hook_config(top.table("hook"), root)
    analytics = _analytics_config(top.table("analytics"))
    assets = _assets_config(top.table("assets"))
    rte_html = _rte_html(top.table("rte"))
    personalize = _personalize(top, root) if "personalize" in data else None
    launch = _launch(top.table("launch"), stack.region) if "launch" in data else None
    preview_table = top.table("preview")

    base_url = site.get("base_url", str, "")
    if base_url and not re.match(r"^https?://[^/\s]+", base_url):
        raise site.error("base_url", f"must be an absolute http(s) URL, got {base_url!r}")
    output = _site_path(site, root, "output", "public")
    templates = _site_path(site, root, "templates", "templates")
    static = _site_path(site, root, "static", "static")
    state_dir = _site_path(site, root, "state_dir", ".sitegen")
    title = site.get("title", str, "")
    site.check_unknown()
    preview = _preview_config(preview_table, root, env, base_url)
    top.check_unknown()

    for name, value in (("output", output), ("state_dir", state_dir)):
        if value == root or value in root.parents:
            raise site.error(
                name, f"must be a folder inside or beside the site, not {shown_path(value)}"
            )
        if templates == value or templates.is_relative_to(value):
            raise site.error(
                name, f"must not contain the templates folder ({shown_path(templates)})"
            )
    if preview.output in (output, state_dir) or preview.state_dir in (output, state_dir):
        raise ConfigError(
            f"{shown_path(file)}: preview.output and preview.state_dir must differ from site.output and "
            "site.state_dir: a preview must never touch the production site or its state"
        )
    if not _is_dir(templates):
        raise site.error(
            "templates", f"names {shown_path(templates)}, which is not a folder; create it"
        )

    return SiteConfig(
        root=root,
        config_file=file,
        title=title,
        base_url=base_url.rstrip("/"),
        output=output,
        templates=templates,
        static=static if _is_dir(static) else None,
        state_dir=state_dir,
        locales=locales,
        content_types=MappingProxyType(content_types),
        extra=MappingProxyType(extra),
        stack=stack,
        hook=hook,
        preview=preview,
        analytics=analytics,
        listings=listings,
        feeds=feeds,
        sitemap=sitemap,
        pagefind=pagefind,
        assets=assets,
        rte_html=rte_html,
        personalize=personalize,
        launch=launch,
    )


LAUNCH_API_HOSTS = {  # Launch API docs, "Base URLs"
    "us": "https://launch-api.contentstack.com",
    "eu": "https://eu-launch-api.contentstack.com",
    "au": "https://au-launch-api.contentstack.com",
    "azure-na": "https://azure-na-launch-api.contentstack.com",
    "azure-eu": "https://azure-eu-launch-api.contentstack.com",
    "gcp-na": "https://gcp-na-launch-api.contentstack.com",
    "gcp-eu": "https://gcp-eu-launch-api.contentstack.com",
}
REDIRECT_STATUSES = (301, 302, 307, 308)  # Launch docs, "Edge URL Redirects"


def _launch(t: _Table, region: str) -> LaunchConfig:
    """``[launch]``: launch.json rules and CDN revalidation through the Launch API."""
    rules: dict[str, list[LaunchRule]] = {"redirects": [], "rewrites": []}
    for kind in rules:
        for i, item in enumerate(t.get(kind, list, [])):
            if not isinstance(item, dict):
                raise t.error(kind, "must be an array of tables: { source = …, destination = … }")
            rule = _Table(item, f"{t.key(kind)}[{i}]", t.file)
            source, destination = rule.get("source", str), rule.get("destination", str)
            status = rule.get("status", int) if kind == "redirects" else None
            rule.check_unknown()
            for name, value in (("source", source), ("destination", destination)):
                if not value or len(value) > 512:  # Launch: at most 512 characters each
                    raise rule.error(name, "must be a path of 1 to 512 characters")
            if source and not source.startswith("/"):
                raise rule.error("source", f'must be a path starting with "/", got {source!r}')
            if status is not None and status not in REDIRECT_STATUSES:
                raise rule.error("status", f"must be 301, 302, 307 or 308, got {status}")
            rules[kind].append(LaunchRule(source, destination, status))  # type: ignore[arg-type]
    project, environment = t.get("project_uid", str), t.get("environment_uid", str)
    organization = t.get("organization_uid", str)
    api_host = t.get("api_host", str, LAUNCH_API_HOSTS.get(region, LAUNCH_API_HOSTS["us"]))
    per_build = _limit(t, "max_revalidations", int, 10, 1, 100, "requests")
    per_day = _limit(t, "daily_revalidations", int, 500, 1, 100_000, "requests")
    t.check_unknown()
    if bool(project) != bool(environment):
        missing = "environment_uid" if project else "project_uid"
        raise t.error(
            missing, "is missing: CDN revalidation needs both project_uid and environment_uid"
        )
    if project and not organization:
        raise t.error("organization_uid", "is missing: the Launch API needs the organization")
    if not re.match(r"^https?://[^/\s]+$", api_host.rstrip("/")):
        raise t.error("api_host", f"must be an http(s) origin, got {api_host!r}")
    return LaunchConfig(
        redirects=tuple(rules["redirects"]),
        rewrites=tuple(rules["rewrites"]),
        project_uid=project,
        environment_uid=environment,
        organization_uid=organization,
        api_host=api_host.rstrip("/"),
        max_revalidations=int(per_build),
        daily_revalidations=int(per_day),
    )


def _no_config(root: Path) -> str:
    """What to do when SITE_DIR holds no sitegen.toml: start a site (``sitegen init``), or
    name the folder that holds one (those just below SITE_DIR are named)."""
    shown = shown_path(root)
    if not root.exists():
        return (
            f"{shown}: no such folder; create a site there with "
            f"`sitegen init {shlex.quote(shown)}`, or pass the folder that holds {CONFIG_NAME}"
        )
    try:
        empty = not any(root.iterdir())
        below = sorted(p.parent for p in root.glob(f"*/{CONFIG_NAME}") if p.is_file())
    except OSError:  # not a folder, or not readable
        empty, below = False, []
    where = "the current folder" if shown == "." else shown
    # sitegen init wants a new or empty folder
    new = shlex.quote(shown) if empty else "my-site"
    text = (
        f"no {CONFIG_NAME} in {where}: create a site with `sitegen init {new}`, "
        f"or pass the folder that holds {CONFIG_NAME}"
    )
    if below:
        text += ", such as " + " or ".join(shown_path(p) for p in below[:3])
    return text


RTE_HTML_MODES = ("sanitize", "trusted")


# Where each platform looks for edge functions, from the folder it builds in: Netlify's
# internal folder for build-generated functions (docs "Create an Edge Functions integration",
# Frameworks API v1) and Launch's one edge function (docs "Launch › Edge Functions").
EDGE_DEFAULTS = {
    "netlify": ".netlify/v1/edge-functions/sitegen-personalize.js",
    "launch": "functions/[proxy].edge.js",
}


def _personalize(top: _Table, root: Path) -> PersonalizeConfig:
    """``[personalize]``: which entry variants get pages, for which content types, and which
    edge functions pick them."""
    t = top.table("personalize")
    variants = t.get("variants", list)
    if not variants or not all(isinstance(v, str) and re.match(r"^[\w-]+$", v) for v in variants):
        raise t.error(
            "variants",
            "must list the variant uids or Personalize aliases to build, e.g. "
            '["cs_personalize_0_0"] (the CDA cannot list them)',
        )
    content_types = t.get("content_types", list)
    if not content_types or not all(isinstance(c, str) and c for c in content_types):
        raise t.error(
            "content_types",
            'must list the content types the variants\' groups are linked to, e.g. ["home"]',
        )
    path = t.get("path", str, "/_variants")
    if not re.match(r"^/[\w-]+(/[\w-]+)*$", path):
        raise t.error("path", f'must be a folder path such as "/_variants", got {path!r}')
    edge_table = t.table("edge")
    edge = []
    for target, default in EDGE_DEFAULTS.items():
        value = edge_table.get(target, (str, bool), default)
        if value is True:
            value = default
        if value is False:
            continue
        if not value.strip():
            raise edge_table.error(target, "is empty: give a file, or false for none")
        edge.append((target, (root / value).resolve()))
    edge_table.check_unknown()
    t.check_unknown()
    return PersonalizeConfig(
        variants=tuple(dict.fromkeys(variants)),
        content_types=tuple(dict.fromkeys(content_types)),
        path=path,
        edge=tuple(edge),
    )


def _rte_html(t: _Table) -> str:
    """``[rte] html``: HTML-RTE is untrusted (sanitized) unless the site says it trusts it."""
    mode = t.get("html", str, "sanitize")
    if mode not in RTE_HTML_MODES:
        raise t.error("html", f'must be "sanitize" or "trusted", got {mode!r}')
    t.check_unknown()
    return mode


def for_preview(config: SiteConfig, live_preview: str | None = None) -> SiteConfig:
    """The configuration of a preview build: drafts, its own output, state and base URL.

    A remote stack is read through its region's preview host (or ``[preview] host``) with the
    preview token; a local stack serves its drafts to any request carrying a preview token.
    """
    preview = config.preview
    assert preview is not None
    stack = config.stack
    if stack.local is None:
        if not preview.preview_token:
            raise ConfigError(
                f"{shown_path(config.config_file)}: a preview build needs a preview token: set "
                "CONTENTSTACK_PREVIEW_TOKEN or [preview] preview_token"
            )
        base_url = preview.host or preview_base_url(stack.region)
        token = preview.preview_token
    else:
        base_url, token = stack.base_url, preview.preview_token or "local-preview"
    stack = replace(
        stack, base_url=base_url, preview_token=token, live_preview=live_preview or None
    )
    return replace(
        config,
        output=preview.output,
        state_dir=preview.state_dir,
        base_url=preview.base_url,
        stack=stack,
        preview_mode=True,
    )


def _hook_config(t: _Table, root: Path) -> HookConfig:
    deploy_command = t.get("deploy_command", str)
    build_hook_url = t.get("build_hook_url", str)
    debounce = float(t.get("debounce", (int, float), 2.0))
    max_age = float(t.get("max_age", (int, float), 300))
    public_key = _public_key(t, root)
    default = HookConfig()
    limits = {
        "max_body": _limit(t, "max_body", int, default.max_body, 1024, 64 * 1024 * 1024, "bytes"),
        "body_timeout": _limit(t, "body_timeout", float, default.body_timeout, 1, 300, "seconds"),
        "max_pending": _limit(t, "max_pending", int, default.max_pending, 1, 1_000_000, "events"),
        "max_inflight": _limit(t, "max_inflight", int, default.max_inflight, 1, 1024, "requests"),
        "rate": _limit(t, "rate", float, default.rate, 0.1, 10_000, "requests a second"),
        "burst": _limit(t, "burst", int, default.burst, 1, 100_000, "requests"),
        "release_wait": _limit(t, "release_wait", float, default.release_wait, 0, 3600, "seconds"),
    }
    t.check_unknown()
    if deploy_command is not None and not deploy_command.strip():
        raise t.error("deploy_command", "is empty; remove it or give a command")
    if build_hook_url is not None and not re.match(r"^https?://[^/\s]+", build_hook_url):
        raise t.error("build_hook_url", "must be an http(s) URL")
    if deploy_command and build_hook_url:
        raise t.error("build_hook_url", "and hook.deploy_command are both set; keep one of them")
    if not 0 <= debounce <= 600:
        raise t.error("debounce", f"must be a number of seconds from 0 to 600, got {debounce}")
    if not 1 <= max_age <= 86400:
        raise t.error("max_age", f"must be a number of seconds from 1 to 86400, got {max_age}")
    return HookConfig(
        deploy_command,
        build_hook_url or None,
        debounce,
        max_age,
        public_key=public_key,
        **limits,
    )


def _public_key(t: _Table, root: Path) -> str | None:
    """``[hook] public_key``: the PEM text itself, or a file holding it (relative to the site)."""
    value = t.get("public_key", str)
    if value is None:
        return None
    if value.lstrip().startswith(("-----BEGIN", "{")):
        return value
    if not value.strip() or "\0" in value:
        raise t.error("public_key", "must be a PEM public key or the file that holds it")
    path = (root / value.strip()).resolve()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise t.error(
            "public_key",
            f"names {shown_path(path)}, which cannot be read ({reason}); save Contentstack's "
            "public key there (see the Webhooks guide)",
        ) from None


def _limit(
    t: _Table,
    key: str,
    kind: type[int] | type[float],
    default: float,
    low: float,
    high: float,
    unit: str,
) -> float:
    """A number in [low, high]: a whole one when ``kind`` is int."""
    value = t.get(key, (int,) if kind is int else (int, float), default)
    if not low <= value <= high:
        shown = [f"{n:,}" if float(n).is_integer() else f"{n:g}" for n in (low, high)]
        raise t.error(key, f"must be from {shown[0]} to {shown[1]} {unit}, got {value}")
    return kind(value)


def _analytics_config(t: _Table) -> AnalyticsConfig:
    org_uid = t.get("org_uid", str)
    host = t.get("host", str)
    timeout = float(t.get("timeout", (int, float), 300))
    t.check_unknown()
    if org_uid is not None and not org_uid.strip():
        raise t.error("org_uid", "is empty; remove it or give the organization uid")
    if host is not None and not re.match(r"^https?://[^/\s]+", host):
        raise t.error(
            "host", f"must be an http(s) URL such as https://app.contentstack.com, got {host!r}"
        )
    if not 0 < timeout <= 86400:
        raise t.error("timeout", f"must be a number of seconds from 0 to 86400, got {timeout}")
    return AnalyticsConfig(
        org_uid=org_uid.strip() if org_uid else None,
        host=re.sub(r"/analytics(/v2)?/?$", "", host.rstrip("/")) if host else None,
        timeout=timeout,
    )


def _preview_config(
    t: _Table, root: Path, env: Mapping[str, str], site_base_url: str
) -> PreviewConfig:
    output = _site_path(t, root, "output", "public-preview")
    state_dir = _site_path(t, root, "state_dir", ".sitegen-preview")
    base_url = t.get("base_url", str) or env.get("DEPLOY_PRIME_URL") or site_base_url
    host = t.get("host", str)
    token = env.get("CONTENTSTACK_PREVIEW_TOKEN") or t.get("preview_token", str)
    default = PreviewConfig(output, state_dir, "")
    live_script = t.get("live_script", str, default.live_script)
    app_host = t.get("app_host", str, default.app_host)
    mode = t.get("mode", str, default.mode)
    t.check_unknown()
    if mode not in ("preview", "builder"):
        raise t.error("mode", f'must be "preview" or "builder" (Visual Builder), got {mode!r}')
    if not re.match(r"^(https?://[^\s\"'<>]+|/[^\s\"'<>]*)$", live_script):
        raise t.error("live_script", f"must be an http(s) URL or a site path, got {live_script!r}")
    if not re.match(r"^[A-Za-z0-9.-]+(:\d+)?$", app_host):
        raise t.error(
            "app_host", f'must be a host name such as "app.contentstack.com", got {app_host!r}'
        )
    if base_url and not re.match(r"^https?://[^/\s]+", base_url):
        raise t.error("base_url", f"must be an absolute http(s) URL, got {base_url!r}")
    if host is not None and not re.match(r"^https?://[^/\s]+", host):
        raise t.error(
            "host",
            f"must be an http(s) URL such as https://rest-preview.contentstack.com, got {host!r}",
        )
    for name, value in (("output", output), ("state_dir", state_dir)):
        if value == root or value in root.parents:
            raise t.error(
                name, f"must be a folder inside or beside the site, not {shown_path(value)}"
            )
    return PreviewConfig(
        output=output,
        state_dir=state_dir,
        base_url=base_url.rstrip("/"),
        host=re.sub(r"/v3/?$", "", host.rstrip("/")) if host else None,
        preview_token=token or None,
        live_script=live_script,
        app_host=app_host,
        mode=mode,
    )


def _site_path(table: _Table, root: Path, name: str, default: str) -> Path:
    value = table.get(name, str, default)
    if not value.strip():
        raise table.error(name, "must not be empty")
    if "\0" in value:  # no file name can hold one; Path.resolve() would raise ValueError
        raise table.error(name, "must not contain a NUL character")
    return (root / value).resolve()


def _is_dir(path: Path) -> bool:
    """Path.is_dir(), but False where the OS refuses the name (too long) instead of raising."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _stack_config(t: _Table, root: Path, env: Mapping[str, str]) -> StackConfig:
    def setting(name: str, var: str | None, default: str | None = None) -> str | None:
        value = t.get(name, str, default)
        if var and env.get(var):
            value = env[var]
        return value

    local_value = t.get("local", str)
    host = setting("host", "CONTENTSTACK_HOST")
    region = setting("region", "CONTENTSTACK_REGION", "us") or "us"
    environment = setting("environment", "CONTENTSTACK_ENVIRONMENT")
    api_key = setting("api_key", "CONTENTSTACK_API_KEY")
    delivery_token = setting("delivery_token", "CONTENTSTACK_DELIVERY_TOKEN")
    branch = setting("branch", "CONTENTSTACK_BRANCH")
    depth = t.get("include_depth", int, 2)
    concurrency = t.get("concurrency", int, 8)
    timeout = t.get("timeout", (int, float), 30.0)
    max_tries = t.get("max_tries", int, 6)
    t.check_unknown()

    if region not in REGIONS:
        raise t.error(
            "region", f"is {region!r}, which is not a region; use one of {', '.join(REGIONS)}"
        )
    if not 1 <= depth <= 5:
        raise t.error("include_depth", f"must be from 1 to 5 (include_all_depth), got {depth}")
    if not 1 <= concurrency <= 64:
        raise t.error("concurrency", f"must be from 1 to 64, got {concurrency}")
    if not 0 < timeout <= 600:
        raise t.error("timeout", f"must be a number of seconds from 0 to 600, got {timeout}")
    if not 1 <= max_tries <= 20:
        raise t.error("max_tries", f"must be from 1 to 20, got {max_tries}")
    if not environment:
        raise t.error(
            "environment", 'is missing; set it (e.g. "production") or CONTENTSTACK_ENVIRONMENT'
        )

    local = None
    if local_value is not None:
        if host:
            raise t.error("local", "and stack.host are both set; keep one of them")
        if "\0" in local_value:  # no folder name can hold one; resolve() would raise ValueError
            raise t.error("local", "must not contain a NUL character")
        local = (root / local_value).resolve()
        if not _is_dir(local):
            raise t.error("local", f"names {shown_path(local)}, which is not a folder")
        base_url = "http://local-stack"
    elif host:
        if not re.match(r"^https?://[^/\s]+", host):
            raise t.error(
                "host", f"must be an http(s) URL such as https://cdn.contentstack.io, got {host!r}"
            )
        base_url = re.sub(r"/v3/?$", "", host.rstrip("/"))
    else:
        base_url = cda_base_url(region)

    if local is None:
        for name, var, value in (
            ("api_key", "CONTENTSTACK_API_KEY", api_key),
            ("delivery_token", "CONTENTSTACK_DELIVERY_TOKEN", delivery_token),
        ):
            if not value:
                raise t.error(
                    name,
                    f"is missing: set {var} in the environment or [stack] {name} in sitegen.toml "
                    "(or use [stack] local for a local stack)",
                )

    return StackConfig(
        environment=environment,
        base_url=base_url,
        include_depth=depth,
        api_key=api_key,
        delivery_token=delivery_token,
        region=region,
        branch=branch or None,
        local=local,
        concurrency=concurrency,
        timeout=float(timeout),
        max_tries=max_tries,
    )


def _locales(site: _Table, locales_table: _Table) -> tuple[LocaleConfig, ...]:
    codes = site.get("locales", list, ["en-us"])
    if not codes:
        raise site.error("locales", 'must list at least one locale code, e.g. ["en-us"]')
    seen: set[str] = set()
    for code in codes:
        if not isinstance(code, str) or not LOCALE_CODE.match(code):
            raise site.error("locales", f'holds {code!r}, which is not a locale code like "en-us"')
        if code in seen:
            raise site.error("locales", f"lists {code!r} twice")
        seen.add(code)

    result = []
    prefixes: dict[str, str] = {}
    for i, code in enumerate(codes):
        t = locales_table.table(code)
        name = t.get("name", str, code)
        default_prefix = "" if i == 0 else f"/{code}"
        prefix = t.get("prefix", str, default_prefix).strip()
        t.check_unknown()
        prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        if prefix and not re.match(r"^(/[A-Za-z0-9._~-]+)+$", prefix):
            raise t.error("prefix", f'must be a path like "/fr", got {prefix!r}')
        if prefix in prefixes:
            raise t.error(
                "prefix", f"{prefix or '(none)'!r} is already used by locale {prefixes[prefix]}"
            )
        prefixes[prefix] = code
        result.append(LocaleConfig(code=code, name=name, prefix=prefix))
    for code in locales_table.data:
        if code not in seen:
            raise locales_table.error(
                code, "is not listed in site.locales; add it there or remove this table"
            )
    locales_table.known.update(seen)
    return tuple(result)


def _content_types(t: _Table) -> dict[str, ContentTypeConfig]:
    result = {}
    for uid in t.data:
        if not CONTENT_TYPE_UID.match(uid):
            raise t.error(uid, "is not a content type uid (lowercase letters, digits, underscores)")
        ct = t.table(uid)
        template = ct.get("template", str)
        ct.check_unknown()
        if template is not None and (not template.strip() or template.startswith(("/", ".."))):
            raise ct.error(
                "template", f"must be a file name inside the templates folder, got {template!r}"
            )
        result[uid] = ContentTypeConfig(uid=uid, template=template)
    return result


SITE_PATH = re.compile(r"^/([^\s?#\\]*)$")


def _listings(top: _Table, file: Path) -> tuple[ListingConfig, ...]:
    result = []
    names: dict[str, str] = {}
    for t in _array_of_tables(top, "pages", file):
        path = _page_path(t, "path")
        template = _template_name(t, "template", required=True)
        title = t.get("title", str)
        name = t.get("name", str)
        terms = t.get("terms", str)
        per_page = t.get("per_page", int, 10)
        selection = _selection(t, required=False, several=True)
        t.check_unknown()
        if not 0 <= per_page <= 10_000:
            raise t.error("per_page", f"must be from 0 (all on one page) to 10000, got {per_page}")
        if selection is None:
            for key in ("terms", "sort", "filter"):
                if key in t.data:
                    raise t.error(key, "needs content_type: say which entries this page lists")
        if terms is not None and not terms.strip():
            raise t.error("terms", "is empty; give the field whose values are the terms")
        if terms and path.count("{term}") != 1:
            raise t.error("path", f'must contain {{term}} once, since terms is set; got "{path}"')
        if not terms and "{" in path:
            raise t.error("path", f'has a placeholder but terms is not set; got "{path}"')
        if selection is not None and per_page and not path.endswith("/"):
            raise t.error(
                "path",
                f'of a paginated listing must end with "/" (page 2 is <path>page/2/), got "{path}"',
            )
        result.append(_listing(t, names, path, template, title, name, per_page, selection, terms))
    return tuple(result)


def _listing(
    t: _Table,
    names: dict[str, str],
    path: str,
    template: str,
    title: str | None,
    name: str | None,
    per_page: int,
    selection: Selection | None,
    terms: str | None,
) -> ListingConfig:
    """One listing, its name (if any) unique among ``names`` (which it joins)."""
    if name is not None:
        if name in names:
            raise t.error("name", f"{name!r} is already the name of {names[name]}")
        names[name] = t.path
    return ListingConfig(
        id=t.path,
        path=path,
        template=template,
        title=title,
        name=name,
        selection=selection,
        per_page=per_page,
        terms=terms.strip() if terms else None,
    )


def _taxonomy_listings(
    top: _Table, file: Path, listings: tuple[ListingConfig, ...]
) -> tuple[ListingConfig, ...]:
    """``[[taxonomies]]``: term pages over a Contentstack taxonomy, the same as a ``[[pages]]``
    listing with ``terms = "taxonomies.<uid>"`` (its ``id`` is ``taxonomies[i]``)."""
    result = []
    names = {item.name: item.id for item in listings if item.name}
    for t in _array_of_tables(top, "taxonomies", file):
        uid = t.get("uid", str)
        if not uid or not re.match(r"^[A-Za-z0-9_-]+$", uid):
            raise t.error("uid", 'must be the uid of a taxonomy of the stack, e.g. "topics"')
        path = _page_path(t, "path") if "path" in t.data else f"/{uid}/{{term}}/"
        template = _template_name(t, "template", required=False) or "term.html"
        title = t.get("title", str)
        name = t.get("name", str, uid)
        per_page = t.get("per_page", int, 10)
        if "content_type" not in t.data:
            raise t.error("content_type", "is missing; say which entries the term pages list")
        selection = _selection(t, required=True, several=True)
        t.check_unknown()
        if not 0 <= per_page <= 10_000:
            raise t.error("per_page", f"must be from 0 (all on one page) to 10000, got {per_page}")
        if path.count("{term}") != 1 or (per_page and not path.endswith("/")):
            raise t.error("path", f'must contain {{term}} once and end with "/", got "{path}"')
        result.append(
            _listing(
                t, names, path, template, title, name, per_page, selection, f"taxonomies.{uid}"
            )
        )
    return tuple(result)


def _feeds(top: _Table, file: Path) -> tuple[FeedConfig, ...]:
    result = []
    for t in _array_of_tables(top, "feeds", file):
        path = _page_path(t, "path")
        selection = _selection(t, required=True)
        assert selection is not None
        title = t.get("title", str)
        limit = t.get("limit", int, 20)
        summary = t.get("summary", str)
        content = t.get("content", str)
        template = _template_name(t, "template", required=False) or "feed.xml"
        t.check_unknown()
        if "{" in path or path.endswith("/"):
            raise t.error("path", f'must name a file such as "/blog/feed.xml", got "{path}"')
        if not 1 <= limit <= 1000:
            raise t.error("limit", f"must be from 1 to 1000, got {limit}")
        result.append(
            FeedConfig(
                id=t.path,
                path=path,
                selection=selection,
                title=title,
                limit=limit,
                summary=summary,
                content=content,
                template=template,
            )
        )
    return tuple(result)


def _array_of_tables(top: _Table, name: str, file: Path) -> list[_Table]:
    items = top.get(name, list, [])
    tables = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(
                f"{shown_path(file)}: {name}[{i}] must be a table; write it as [[{name}]] with keys below"
            )
        tables.append(_Table(item, f"{name}[{i}]", file))
    return tables


def _page_path(t: _Table, name: str) -> str:
    value = t.get(name, str)
    if value is None:
        raise t.error(name, 'is missing; give the page\'s path, such as "/blog/"')
    if not SITE_PATH.match(value) or value.startswith("//") or "/../" in value + "/":
        raise t.error(name, f'must be a site path such as "/blog/", got {value!r}')
    return value


def _template_name(t: _Table, name: str, *, required: bool) -> str | None:
    value = t.get(name, str)
    if value is None:
        if required:
            raise t.error(name, "is missing; name a file in the templates folder")
        return None
    if not value.strip() or value.startswith(("/", "..")):
        raise t.error(name, f"must be a file name inside the templates folder, got {value!r}")
    return value


def _selection(t: _Table, *, required: bool, several: bool = False) -> Selection | None:
    """Which entries a listing (``several``: of one or more content types) or feed shows."""
    content_type = t.get("content_type", (str, list) if several else str)
    sort = t.get("sort", (str, list), "-updated_at")
    query = t.get("filter", dict)
    if content_type is None:
        if required:
            raise t.error("content_type", "is missing; say which entries to list")
        return None
    types = [content_type] if isinstance(content_type, str) else content_type
    if not types:
        raise t.error("content_type", "is an empty list; name at least one content type")
    for uid in types:
        if not isinstance(uid, str) or not CONTENT_TYPE_UID.match(uid):
            raise t.error("content_type", f"is not a content type uid, got {uid!r}")
    if len(set(types)) != len(types):
        raise t.error("content_type", "lists a content type twice")
    order = parse_sort(sort)
    if order is None:
        raise t.error("sort", f'must be a field or a list of fields like "-date", got {sort!r}')
    text = None
    if query is not None:
        try:
            check_query(query, "filter")
        except QueryError as err:
            raise t.error("filter", f"is not a valid CDA query: {err}") from None
        except RecursionError:  # check_query recurses once per level of nesting
            raise t.error("filter", "is nested too deeply to be a CDA query") from None
        text = json.dumps(query, sort_keys=True, ensure_ascii=False, default=str)
    return Selection(
        content_type=types[0],
        sort=order,
        filter=text,
        content_types=tuple(types) if len(types) > 1 else (),
    )


ASSETS_PATH = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


def _assets_config(t: _Table) -> AssetsConfig:
    download = t.get("download", bool, False)
    path = t.get("path", str, "assets").strip().strip("/")
    t.check_unknown()
    if not ASSETS_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise t.error(
            "path",
            f'must be a folder inside the output such as "assets" or "media/cms" (letters, '
            f"digits, . _ ~ -), got {path!r}",
        )
    return AssetsConfig(download=download, path=path)
