"""HKDF-SHA256 key derivation shared by the content stream and the sealed metadata."""

from __future__ import annotations

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
CONTENT_INFO = b"cipherslip/v1/content"
META_INFO = b"cipherslip/v1/meta"


def derive_key(link_key: bytes, data_key: bytes, salt: bytes, info: bytes) -> bytes:
    """Both keys go in: neither the link (link key) nor the vault (data key) suffices alone."""
    if len(link_key) != KEY_SIZE or len(data_key) != KEY_SIZE:
        raise ValueError("link key and data key are 32 bytes each")
    return HKDF(algorithm=SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(
        link_key + data_key
    )
