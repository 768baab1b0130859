"""How callers' keys become storage keys."""

from __future__ import annotations

import hashlib


def storage_key(raw: str) -> str:
    """Stores index by a hash, so a dump of the store yields no usable cookies or tokens,
    and no email addresses or IPs from rate-limit keys."""
    return hashlib.sha256(raw.encode()).hexdigest()


def require_positive_ttl(ttl_seconds: int) -> None:
    # Redis refuses EX 0; refusing it everywhere keeps the backends interchangeable.
    if ttl_seconds < 1:
        raise ValueError("ttl_seconds must be at least 1")
