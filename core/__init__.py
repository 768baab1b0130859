"""Shared core: settings, models, domain services, backends and crypto."""
