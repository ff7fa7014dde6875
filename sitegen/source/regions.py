"""Contentstack's regional hosts (../shared/reference/api-facts.md, "Hosts and regions")."""

REGIONS: dict[str, str] = {
    "us": "cdn.contentstack.io",
    "eu": "eu-cdn.contentstack.com",
    "au": "au-cdn.contentstack.com",
    "azure-na": "azure-na-cdn.contentstack.com",
    "azure-eu": "azure-eu-cdn.contentstack.com",
    "gcp-na": "gcp-na-cdn.contentstack.com",
    "gcp-eu": "gcp-eu-cdn.contentstack.com",
}


def cda_base_url(region: str) -> str:
    """The Content Delivery API origin for a region (without the /v3 path)."""
    return f"https://{REGIONS[region]}"


PREVIEW_HOSTS: dict[str, str] = {
    "us": "rest-preview.contentstack.com",
    "eu": "eu-rest-preview.contentstack.com",
    "au": "au-rest-preview.contentstack.com",
    "azure-na": "azure-na-rest-preview.contentstack.com",
    "azure-eu": "azure-eu-rest-preview.contentstack.com",
    "gcp-na": "gcp-na-rest-preview.contentstack.com",
    "gcp-eu": "gcp-eu-rest-preview.contentstack.com",
}


def preview_base_url(region: str) -> str:
    """The preview (draft content) REST origin for a region (without the /v3 path)."""
    return f"https://{PREVIEW_HOSTS[region]}"


ANALYTICS_HOSTS: dict[str, str] = {
    "us": "app.contentstack.com",
    "eu": "eu-app.contentstack.com",
    "au": "au-app.contentstack.com",
    "azure-na": "azure-na-app.contentstack.com",
    "azure-eu": "azure-eu-app.contentstack.com",
    "gcp-na": "gcp-na-app.contentstack.com",
    "gcp-eu": "gcp-eu-app.contentstack.com",
}


def analytics_base_url(region: str) -> str:
    """The Analytics API (v2) origin for a region (without the /analytics path)."""
    return f"https://{ANALYTICS_HOSTS[region]}"
