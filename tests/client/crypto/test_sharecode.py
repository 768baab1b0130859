"""Share codes: 60 bits, Crockford base32, forgiving input (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import Any

import pytest
from cipherslip_crypto.sharecode import (
    ALPHABET,
    generate_share_code,
    normalize_share_code,
    share_code_bits,
    share_code_from_bits,
)

from core.errors import InvalidShareCode
from tests.support.vector_files import load_json
from tests.support.vectors import NamedRandom

VECTORS = load_json("share_codes.json")


@pytest.mark.parametrize("case", VECTORS["encode"], ids=lambda c: c["code"])
def test_encode_vectors(case: dict[str, str]) -> None:
    assert share_code_from_bits(int(case["bits"])) == case["code"]
    assert share_code_bits(case["code"]) == int(case["bits"])


@pytest.mark.parametrize("case", VECTORS["normalize"], ids=lambda c: repr(c["input"]))
def test_normalize_vectors(case: dict[str, Any]) -> None:
    if case["code"] is None:
        with pytest.raises(InvalidShareCode):
            normalize_share_code(case["input"])
    else:
        assert normalize_share_code(case["input"]) == case["code"]


def test_generated_codes_are_canonical_and_use_all_60_bits() -> None:
    rng = NamedRandom("generate")
    codes = {generate_share_code(rng) for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert normalize_share_code(code.lower()) == code
        assert all(ch in ALPHABET for ch in code.replace("-", ""))
    # Every symbol position takes many values: no bit is stuck.
    for position in (0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13):
        assert len({code[position] for code in codes}) == 32
