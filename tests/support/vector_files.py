"""Loading the committed vectors with their byte fields decoded."""

from __future__ import annotations

import json
from typing import Any

from cipherslip_crypto.encoding import b64url_decode

from tests.support.vectors import VECTOR_DIR

CSL1_BYTE_FIELDS = ("link_key", "data_key", "plaintext", "stream", "sealed_meta")


def load_csl1() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTOR_DIR / "csl1.json").read_text())
    for case in cases:
        for field in CSL1_BYTE_FIELDS:
            case[field] = b64url_decode(case[field])
    return cases


def load_json(name: str) -> Any:
    return json.loads((VECTOR_DIR / name).read_text())
