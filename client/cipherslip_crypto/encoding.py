"""base64url without padding: how bytes travel as text everywhere in Cipherslip."""

from __future__ import annotations

import base64
import binascii
import re

from cipherslip_crypto.errors import InvalidInput

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, field: str = "value") -> bytes:
    """Strict decode: rejects padding, whitespace and characters outside the alphabet."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidInput(f"{field} must be base64url without padding", field=field)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} must be base64url without padding", field=field) from exc
