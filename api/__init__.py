"""The JSON API and authentication (docs/ARCHITECTURE.md); also serves the web pages of ``web/``."""
