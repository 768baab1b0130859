"""The link key's check (docs/FORMATS.md) against the committed vectors, and the formula by hand."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from cipherslip_crypto.encoding import b64url_decode
from cipherslip_crypto.kdf import derive_key_check

from core.services.policy import key_check_holds
from tests.support.vector_files import load_json

CASES = load_json("key_check.json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_vector(case: dict[str, Any]) -> None:
    derived = derive_key_check(b64url_decode(case["link_key"]), case["secret_id"])
    assert (derived == b64url_decode(case["key_check"])) is case["matches"]
    assert key_check_holds(b64url_decode(case["key_check"]), derived) is case["matches"]


def test_the_check_is_hkdf_sha256_of_the_link_key_alone_written_out() -> None:
    # RFC 5869 by hand: extract with 32 zero bytes of salt, one block of expand, 16 bytes.
    link_key, secret_id = bytes(range(32)), "7f3c2a9e-4b1d-4c8e-9a6f-2d5e8b1c0f47"
    prk = hmac.new(bytes(32), link_key, hashlib.sha256).digest()
    info = b"cipherslip/v1/key-check|" + secret_id.encode()
    expected = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:16]
    assert derive_key_check(link_key, secret_id) == expected


def test_a_cut_off_link_key_is_refused_rather_than_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        derive_key_check(bytes(16), "any")


def test_secrets_shared_before_key_checks_are_not_checked_but_others_need_one() -> None:
    assert key_check_holds(None, None)
    assert key_check_holds(None, bytes(16))
    assert not key_check_holds(bytes(16), None)
