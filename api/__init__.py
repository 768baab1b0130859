"""The JSON API and authentication (SPEC §6); also serves the web pages of ``web/``."""
