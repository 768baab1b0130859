"""HKDF-SHA256 derivations: the content and metadata keys, and the link key's check."""

from __future__ import annotations

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
CONTENT_INFO = b"cipherslip/v1/content"
META_INFO = b"cipherslip/v1/meta"
KEY_CHECK_SIZE = 16
KEY_CHECK_INFO_PREFIX = b"cipherslip/v1/key-check|"
_KEY_CHECK_SALT = bytes(32)


def derive_key(link_key: bytes, data_key: bytes, salt: bytes, info: bytes) -> bytes:
    """Both keys go in: neither the link (link key) nor the vault (data key) suffices alone."""
    if len(link_key) != KEY_SIZE or len(data_key) != KEY_SIZE:
        raise ValueError("link key and data key are 32 bytes each")
    return HKDF(algorithm=SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(
        link_key + data_key
    )


def derive_key_check(link_key: bytes, secret_id: str) -> bytes:
    """A 16-byte commitment to the link key, bound to the secret: a browser holding a damaged
    or cut-off link computes a different one, and learns so before it spends a view. The
    link key has 256 bits, so the check gives nothing usable away."""
    if len(link_key) != KEY_SIZE:
        raise ValueError("a link key is 32 bytes")
    return HKDF(algorithm=SHA256(), length=KEY_CHECK_SIZE, salt=_KEY_CHECK_SALT,
                info=KEY_CHECK_INFO_PREFIX + secret_id.encode()).derive(link_key)
