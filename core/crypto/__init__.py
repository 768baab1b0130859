"""Cipherslip's cryptography (SPEC §5), byte-compatible with ``web/js/lib``."""
