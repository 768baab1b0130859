"""HPKE key transport (docs/FORMATS.md) against the committed vectors and round trips."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cipherslip_crypto import hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.errors import CryptoError, InvalidInput
from tests.support.vector_files import load_json

CASES = load_json("hpke.json")


def _private_key(jwk: dict[str, str]) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64url_decode(jwk["d"]), "big"), ec.SECP256R1())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_vector(case: dict[str, Any]) -> None:
    key = _private_key(case["recipient_jwk"])
    sealed = b64url_decode(case["sealed"])
    if case["valid"]:
        opened = hpke.open_data_key(sealed, key, case["secret_id"], case["purpose"])
        assert b64url_encode(opened) == case["data_key"]
    else:
        with pytest.raises(CryptoError):
            hpke.open_data_key(sealed, key, case["secret_id"], case["purpose"])


def test_round_trip_and_sealed_size() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    data_key = os.urandom(32)
    sealed = hpke.seal_data_key(data_key, raw, "secret-1", "reveal")
    assert len(sealed) == 65 + 48
    assert hpke.open_data_key(sealed, key, "secret-1", "reveal") == data_key
    # Two seals of the same key differ: fresh ephemeral key each time.
    assert hpke.seal_data_key(data_key, raw, "secret-1", "reveal") != sealed


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x04" + bytes(64), b"\x02" + bytes(32), b"\x04" + b"\x01" * 64, os.urandom(65)],
    ids=["empty", "zero point", "compressed", "off curve", "random"],
)
def test_invalid_public_keys_are_refused_with_a_named_field(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as info:
        hpke.seal_data_key(os.urandom(32), raw, "s", "create")
    assert info.value.field == "public_key"
