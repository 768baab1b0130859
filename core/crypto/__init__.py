"""Cipherslip's cryptography (docs/FORMATS.md), byte-compatible with ``web/js/lib``."""
