"""The settings of a site, as one frozen, typed object per ``sitegen.toml`` table.

Everything after :mod:`sitegen.config.load` receives these: no later stage reads the file or
the environment, and none can change a setting while a build runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StackConfig:
    """Where content comes from and how to ask for it."""

    environment: str
    base_url: str
    include_depth: int
    api_key: str | None = field(default=None, repr=False)
    delivery_token: str | None = field(default=None, repr=False)
    region: str = "us"
    branch: str | None = None
    local: Path | None = None
    concurrency: int = 8
    timeout: float = 30.0
    max_tries: int = 6
    preview_token: str | None = field(default=None, repr=False)  # set: ask for drafts
    live_preview: str | None = None  # the live preview hash, when opened from the CMS

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in output, logs or messages."""
        return tuple(s for s in (self.api_key, self.delivery_token, self.preview_token) if s)


@dataclass(frozen=True)
class LocaleConfig:
    code: str
    name: str
    prefix: str  # "" for the default locale, else "/fr" style, never a trailing slash


@dataclass(frozen=True)
class ContentTypeConfig:
    uid: str
    template: str | None  # None: templates/<uid>.html


@dataclass(frozen=True)
class HookConfig:
    """``[hook]``: what ``sitegen hook serve`` does after a webhook-triggered build."""

    deploy_command: str | None = None
    build_hook_url: str | None = field(default=None, repr=False)
    debounce: float = 2.0
    max_age: float = 300.0
    # events of one Contentstack release share a build while they keep coming, up to this long
    release_wait: float = 300.0
    # Contentstack's public key (PEM text) for its default webhook signature, if configured
    public_key: str | None = field(default=None, repr=False)
    # what a request may cost before it is refused (413, 408, 429): see sitegen hook serve
    max_body: int = 1024 * 1024  # bytes; Contentstack sends whole entries, well below this
    body_timeout: float = 10.0  # seconds to receive a whole body: slow-drip senders get 408
    max_pending: int = 10_000  # events waiting for the next build
    max_inflight: int = 32  # requests being read at once
    rate: float = 20.0  # requests per second sustained, after a burst of `burst`
    burst: int = 200


@dataclass(frozen=True)
class AnalyticsConfig:
    """``[analytics]``: where ``sitegen analytics`` asks for usage reports."""

    org_uid: str | None = None
    host: str | None = None  # None: the stack's region (or the local stack in-process)
    timeout: float = 300.0  # how long to wait for a report job, in seconds


@dataclass(frozen=True)
class PreviewConfig:
    """``[preview]``: where draft builds go; never the production output or state."""

    output: Path
    state_dir: Path
    base_url: str
    host: str | None = None
    preview_token: str | None = field(default=None, repr=False)
    # Live Preview (sitegen preview serve): the live-preview-utils module pages load, and the
    # Contentstack app host it talks to (clientUrlParams.host; eu-app.contentstack.com etc.)
    live_script: str = "https://esm.sh/@contentstack/live-preview-utils@4.4.1"
    app_host: str = "app.contentstack.com"
    mode: str = "preview"  # live-preview-utils' mode: "preview", or "builder" (Visual Builder)


@dataclass(frozen=True)
class Selection:
    """Which entries a listing or feed shows, in what order (all of them is ``filter`` None)."""

    content_type: str  # the first of content_types
    sort: tuple[tuple[str, bool], ...]  # (dotted field, descending), most significant first
    filter: str | None = None  # a checked CDA query, as canonical JSON (hashable, comparable)
    content_types: tuple[str, ...] = ()  # [[pages]] may list several: their entries together

    @property
    def types(self) -> tuple[str, ...]:
        """Every content type the selection lists entries of."""
        return self.content_types or (self.content_type,)


@dataclass(frozen=True)
class ListingConfig:
    """``[[pages]]``: a page that is not an entry, in every locale; with a selection, paginated."""

    id: str  # "pages[0]": where it is declared, for messages and the build state
    path: str  # "/blog/", or "/tags/{term}/" with terms
    template: str
    title: str | None = None
    name: str | None = None
    selection: Selection | None = None
    per_page: int = 10  # 0: everything on one page
    terms: str | None = None  # one listing per term of this field


@dataclass(frozen=True)
class FeedConfig:
    """``[[feeds]]``: an Atom feed of the newest entries of a selection, in every locale."""

    id: str  # "feeds[0]"
    path: str  # "/blog/feed.xml"
    selection: Selection
    title: str | None = None
    limit: int = 20
    summary: str | None = None  # a text field for <summary>
    content: str | None = None  # a rich text or markdown field for <content>
    template: str = "feed.xml"


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    config_file: Path
    title: str
    base_url: str
    output: Path
    templates: Path
    static: Path | None
    state_dir: Path
    locales: tuple[LocaleConfig, ...]
    content_types: Mapping[str, ContentTypeConfig]
    extra: Mapping[str, Any]
    stack: StackConfig
    hook: HookConfig = HookConfig()
    preview: PreviewConfig | None = None
    preview_mode: bool = False  # this config builds drafts (see for_preview)
    analytics: AnalyticsConfig = AnalyticsConfig()
    listings: tuple[ListingConfig, ...] = ()
    feeds: tuple[FeedConfig, ...] = ()
    sitemap: bool = True
    pagefind: bool = False  # [search] pagefind: index the built site for full-text search
    assets: AssetsConfig = field(default_factory=lambda: AssetsConfig())
    rte_html: str = "sanitize"  # [rte] html: "sanitize" (allowlist) or "trusted" (as stored)
    personalize: PersonalizeConfig | None = None
    launch: LaunchConfig | None = None

    @property
    def default_locale(self) -> LocaleConfig:
        return self.locales[0]

    @property
    def report_file(self) -> Path:
        """``last-build.json``: what the last build did, for deploy commands and ``/status``."""
        return self.state_dir / "last-build.json"

    def template_for(self, content_type: str) -> str:
        ct = self.content_types.get(content_type)
        return (ct.template if ct and ct.template else None) or f"{content_type}.html"


@dataclass(frozen=True)
class LaunchRule:
    """One redirect or rewrite of ``launch.json`` (Contentstack Launch's edge rules)."""

    source: str
    destination: str
    status: int | None = None  # redirects: 301, 302, 307 or 308


@dataclass(frozen=True)
class LaunchConfig:
    """``[launch]``: hosting on Contentstack Launch.

    ``redirects`` and ``rewrites`` go into a ``launch.json`` at the top of the output (the
    folder deployed as the Launch project). With ``project_uid`` and ``environment_uid``,
    ``sitegen hook serve`` revalidates the Launch CDN cache of the pages a build changed,
    through the Launch API, within ``max_revalidations`` requests a build and
    ``daily_revalidations`` a day (Launch's daily quota).
    """

    redirects: tuple[LaunchRule, ...] = ()
    rewrites: tuple[LaunchRule, ...] = ()
    project_uid: str | None = None
    environment_uid: str | None = None
    organization_uid: str | None = None
    api_host: str = "https://launch-api.contentstack.com"
    max_revalidations: int = 10
    daily_revalidations: int = 500

    @property
    def revalidates(self) -> bool:
        return bool(self.project_uid and self.environment_uid)


@dataclass(frozen=True)
class PersonalizeConfig:
    """``[personalize]``: the entry variants (Contentstack Personalize) to write pages for.

    The CDA lists neither variants nor the content types their groups are linked to, so both
    are named; each variant page is written under ``path`` and edge functions pick it.
    """

    variants: tuple[str, ...]  # variant uids or Personalize aliases (cs_personalize_<e>_<v>)
    content_types: tuple[str, ...]
    path: str = "/_variants"
    # the edge functions to write: (platform, file), "netlify" and/or "launch"
    edge: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class AssetsConfig:
    """``[assets]``: whether asset files are downloaded into the output, and where.

    Downloaded files get content-hashed paths, so they can be cached forever and a site never
    depends on the CMS's asset hosts at run time.
    """

    download: bool = False
    path: str = "assets"  # folder inside the output, as a relative POSIX path
