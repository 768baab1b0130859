"""Key transport between the vault and a browser: HPKE (RFC 9180) base mode,
DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM.

The browser makes a fresh P-256 key pair per operation and sends its raw public key; the
vault seals the 32-byte data key to it. ``info`` binds the seal to one secret and one
purpose, so a key sealed for ``create`` cannot be replayed as a ``reveal`` or elsewhere.
"""

from __future__ import annotations

from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cipherslip_crypto.errors import CryptoError, InvalidInput

Purpose = Literal["create", "reveal"]
PUBLIC_KEY_SIZE = 65
ENC_SIZE = 65
SEALED_KEY_SIZE = ENC_SIZE + 32 + 16

_SUITE = Suite(KEM.P256, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def seal_info(secret_id: str, purpose: Purpose) -> bytes:
    return f"cipherslip/v1/seal|{secret_id}|{purpose}".encode()


def parse_public_key(raw: bytes) -> ec.EllipticCurvePublicKey:
    """Validate a browser's raw (uncompressed, 65-byte) P-256 public key."""
    if len(raw) != PUBLIC_KEY_SIZE or raw[0] != 0x04:
        raise InvalidInput(
            "public_key must be an uncompressed P-256 point (65 bytes)", field="public_key"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise InvalidInput("public_key is not a point on P-256", field="public_key") from exc


def generate_key_pair() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """A fresh one-time P-256 key pair for one create or reveal, and its raw public key (what
    the api relays to the vault), as a browser makes with WebCrypto."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    raw = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return private_key, raw


def seal_data_key(
    data_key: bytes | bytearray, recipient_public_key: bytes | ec.EllipticCurvePublicKey,
    secret_id: str, purpose: Purpose,
) -> bytes:
    """``enc (65) | ct (48)``. The key raw, or as ``parse_public_key`` gave it (a caller that
    checked it first need not have it parsed twice)."""
    public_key = (recipient_public_key
                  if isinstance(recipient_public_key, ec.EllipticCurvePublicKey)
                  else parse_public_key(recipient_public_key))
    return _SUITE.encrypt(data_key, public_key, info=seal_info(secret_id, purpose))


def open_data_key(
    sealed: bytes,
    recipient_private_key: ec.EllipticCurvePrivateKey,
    secret_id: str,
    purpose: Purpose,
) -> bytes:
    if len(sealed) != SEALED_KEY_SIZE:
        raise CryptoError(f"a sealed data key is {SEALED_KEY_SIZE} bytes")
    try:
        return _SUITE.decrypt(sealed, recipient_private_key, info=seal_info(secret_id, purpose))
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("the sealed data key does not open with this key and context") from exc
