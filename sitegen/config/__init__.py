"""``sitegen.toml``: the settings (:mod:`.settings`), how they are read and checked
(:mod:`.load`), and Contentstack's regional hosts they resolve to (:mod:`.regions`)."""

from sitegen.config.load import CONFIG_NAME, for_preview, load_config
from sitegen.config.settings import (
    AnalyticsConfig,
    AssetsConfig,
    ContentTypeConfig,
    FeedConfig,
    HookConfig,
    ListingConfig,
    LocaleConfig,
    PersonalizeConfig,
    PreviewConfig,
    Selection,
    SiteConfig,
    StackConfig,
)

__all__ = [
    "CONFIG_NAME",
    "AnalyticsConfig",
    "AssetsConfig",
    "ContentTypeConfig",
    "FeedConfig",
    "HookConfig",
    "ListingConfig",
    "LocaleConfig",
    "PersonalizeConfig",
    "PreviewConfig",
    "Selection",
    "SiteConfig",
    "StackConfig",
    "for_preview",
    "load_config",
]
