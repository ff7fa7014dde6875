"""Contentstack's Analytics API: the client (:mod:`.client`), report formatting
(:mod:`.report`) and the CDN usage line of a build summary (:mod:`.usage`)."""
