"""Contentstack's regional hosts (../shared/reference/api-facts.md, "Hosts and regions")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """The hosts of one region: delivery, images, preview (drafts) and analytics."""

    cda: str
    images: str
    preview: str
    analytics: str


def _regional(prefix: str) -> Region:
    """Every region but the US one prefixes the same names, on contentstack.com."""
    return Region(
        cda=f"{prefix}-cdn.contentstack.com",
        images=f"{prefix}-images.contentstack.com",
        preview=f"{prefix}-rest-preview.contentstack.com",
        analytics=f"{prefix}-app.contentstack.com",
    )


REGIONS: dict[str, Region] = {
    "us": Region(
        cda="cdn.contentstack.io",
        images="images.contentstack.io",
        preview="rest-preview.contentstack.com",
        analytics="app.contentstack.com",
    ),
    **{name: _regional(name) for name in ("eu", "au", "azure-na", "azure-eu", "gcp-na", "gcp-eu")},
}


def cda_base_url(region: str) -> str:
    """The Content Delivery API origin for a region (without the /v3 path)."""
    return f"https://{REGIONS[region].cda}"


def preview_base_url(region: str) -> str:
    """The preview (draft content) REST origin for a region (without the /v3 path)."""
    return f"https://{REGIONS[region].preview}"


def analytics_base_url(region: str) -> str:
    """The Analytics API (v2) origin for a region (without the /analytics path)."""
    return f"https://{REGIONS[region].analytics}"
