"""Shared fixtures; service fixtures live in ``tests/support``."""
