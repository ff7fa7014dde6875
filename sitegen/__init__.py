"""sitegen: a static-site generator for content that lives in Contentstack."""

__version__ = "0.1.0"
