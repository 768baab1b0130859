"""Builds the committed test vectors in ``tests/vectors/`` (run this file to regenerate).

Randomness is derived from each vector's name, so regenerating yields identical CSL1 bytes and
the Python tests can check encryption against the committed streams, not only decryption.
HPKE sealing is randomized by design (ephemeral keys), so its vectors are checked by opening.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from cipherslip_crypto.meta import ContentMeta, seal_meta
from cipherslip_crypto.sharecode import share_code_from_bits
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"
SECRET_ID = "7f3c2a9e-4b1d-4c8e-9a6f-2d5e8b1c0f47"


class NamedRandom:
    """Deterministic byte source keyed by a label (only for vectors)."""

    def __init__(self, label: str) -> None:
        self._label = label.encode()
        self._counter = 0

    def token_bytes(self, length: int) -> bytes:
        out = b""
        while len(out) < length:
            out += hashlib.sha256(self._label + self._counter.to_bytes(4, "big")).digest()
            self._counter += 1
        return out[:length]


def _plaintext(size: int, label: str) -> bytes:
    return NamedRandom("plaintext/" + label).token_bytes(size)


def _case(
    name: str,
    plaintext: bytes,
    meta: ContentMeta,
    *,
    secret_id: str = SECRET_ID,
) -> dict[str, Any]:
    rng = NamedRandom(name)
    link_key, data_key = rng.token_bytes(32), rng.token_bytes(32)
    header = csl1.StreamHeader.generate(rng)
    stream = csl1.encrypt(plaintext, link_key, data_key, secret_id, header)
    sealed = seal_meta(meta, link_key, data_key, secret_id, header.salt)
    return {
        "name": name,
        "secret_id": secret_id,
        "link_key": link_key,
        "data_key": data_key,
        "plaintext": plaintext,
        "stream": stream,
        "sealed_meta": sealed,
        "meta": dict(meta),
        "valid": True,
        "meta_valid": True,
        "error": None,
    }


def _text_meta(size: int, fmt: str = "text") -> ContentMeta:
    return ContentMeta(format=fmt, name=None, type="text/plain; charset=utf-8", size=size)  # type: ignore[typeddict-item]


def _invalid(base: dict[str, Any], name: str, error: str, **changes: Any) -> dict[str, Any]:
    case = {**base, **changes, "name": name, "valid": False, "error": error}
    case.setdefault("meta_valid", True)
    return case


def csl1_vectors() -> list[dict[str, Any]]:
    cases = []
    for size, name in [
        (0, "empty plaintext"),
        (1, "1 byte"),
        (65_535, "65,535 bytes (one short final record)"),
        (65_536, "exactly 65,536 bytes (one full final record)"),
        (65_537, "65,537 bytes (full record + 1-byte final record)"),
        (200_000, "200,000 bytes (four records)"),
    ]:
        cases.append(_case(name, _plaintext(size, name), _text_meta(size)))
    unicode_text = "pässwörd: 🔑 ключ\n".encode()
    cases.append(_case("UTF-8 text", unicode_text, _text_meta(len(unicode_text))))
    env_text = b"DATABASE_URL=postgres://app@db/app\nexport API_KEY=abc123\n"
    cases.append(_case("env format", env_text, _text_meta(len(env_text), "env")))
    file_bytes = _plaintext(70_000, "file")
    cases.append(
        _case(
            "file with a non-ASCII name",
            file_bytes,
            ContentMeta(format="file", name="clé privée.pem", type="application/x-pem-file",
                        size=len(file_bytes)),
        )
    )
    # 65,536 bytes as a full non-final record plus an empty final record: not what an
    # encryptor produces, but allowed by the format (the final record holds 0..64 KiB).
    split = _case("full record then empty final record", _plaintext(65_536, "split"),
                  _text_meta(65_536))
    header = csl1.StreamHeader.parse(split["stream"])
    encryptor = csl1.StreamEncryptor(split["link_key"], split["data_key"], SECRET_ID, header)
    split["stream"] = (header.to_bytes() + encryptor.seal_record(split["plaintext"], final=False)
                       + encryptor.seal_record(b"", final=True))
    cases.append(split)

    one, two, four = cases[1], cases[4], cases[5]
    rng = NamedRandom("invalid")
    stream4 = four["stream"]
    rec = csl1.SEALED_RECORD_SIZE
    body = stream4[32:]
    cases += [
        _invalid(one, "wrong link key", "authentication",
                 link_key=rng.token_bytes(32), meta_valid=False),
        _invalid(one, "wrong data key", "authentication",
                 data_key=rng.token_bytes(32), meta_valid=False),
        _invalid(one, "wrong secret id", "authentication",
                 secret_id="7f3c2a9e-4b1d-4c8e-9a6f-2d5e8b1c0f48", meta_valid=False),
        _invalid(two, "truncated at a record boundary", "truncated",
                 stream=two["stream"][: 32 + rec]),
        _invalid(four, "header only", "truncated", stream=stream4[:32]),
        _invalid(four, "records swapped", "authentication",
                 stream=stream4[:32] + body[rec : 2 * rec] + body[:rec] + body[2 * rec :]),
        _invalid(four, "final record dropped after three records", "truncated",
                 stream=stream4[: 32 + 3 * rec]),
        _invalid(one, "a byte appended", "authentication", stream=one["stream"] + b"\x00"),
        _invalid(two, "a record appended after the final one", "authentication",
                 stream=two["stream"] + two["stream"][32 : 32 + rec]),
        _invalid(one, "a bit flipped in the header salt", "authentication",
                 stream=_flip(one["stream"], 10), meta_valid=False),
        _invalid(one, "a bit flipped in the header magic", "format",
                 stream=_flip(one["stream"], 0)),
        _invalid(one, "unknown version", "format", stream=_set(one["stream"], 4, 2)),
        _invalid(one, "unknown algorithm", "format", stream=_set(one["stream"], 5, 2)),
        _invalid(one, "unknown record size", "format", stream=_set(one["stream"], 6, 20)),
        _invalid(one, "a bit flipped in a record", "authentication",
                 stream=_flip(one["stream"], 33)),
        _invalid(one, "a bit flipped in a tag", "authentication",
                 stream=_flip(one["stream"], len(one["stream"]) - 1)),
        _invalid(one, "shorter than a tag after the header", "truncated",
                 stream=one["stream"][:40]),
    ]
    return cases


def _flip(raw: bytes, index: int) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]


def _set(raw: bytes, index: int, value: int) -> bytes:
    return raw[:index] + bytes([value]) + raw[index + 1 :]


def _encode(case: dict[str, Any]) -> dict[str, Any]:
    return {k: b64url_encode(v) if isinstance(v, bytes) else v for k, v in case.items()}


def share_code_vectors() -> dict[str, Any]:
    rng = NamedRandom("share codes")
    bit_cases = [0, 1, (1 << 60) - 1] + [
        int.from_bytes(rng.token_bytes(8), "big") >> 4 for _ in range(5)
    ]
    return {
        "encode": [{"bits": str(bits), "code": share_code_from_bits(bits)} for bits in bit_cases],
        "normalize": [
            {"input": "abcd-efgh-jkmn", "code": "ABCD-EFGH-JKMN"},
            {"input": "ABCDEFGHJKMN", "code": "ABCD-EFGH-JKMN"},
            {"input": " 0o1i-lL23-4567 ", "code": "0011-1123-4567"},
            {"input": "abcd efgh jkmn", "code": "ABCD-EFGH-JKMN"},
            {"input": "ABCD-EFGH-JKM", "code": None},
            {"input": "ABCD-EFGH-JKMNP", "code": None},
            {"input": "ABCD-EFGH-JKMU", "code": None},
            {"input": "ABCD-EFGH-JK*N", "code": None},
            {"input": "", "code": None},
        ],
    }


def hpke_vectors() -> list[dict[str, Any]]:
    private_key = ec.derive_private_key(
        int.from_bytes(NamedRandom("hpke recipient").token_bytes(32), "big") % (2**255),
        ec.SECP256R1(),
    )
    numbers = private_key.private_numbers()
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "d": b64url_encode(numbers.private_value.to_bytes(32, "big")),
        "x": b64url_encode(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.public_numbers.y.to_bytes(32, "big")),
    }
    data_key = NamedRandom("hpke data key").token_bytes(32)
    sealed_reveal = hpke.seal_data_key(data_key, public_raw, SECRET_ID, "reveal")
    sealed_create = hpke.seal_data_key(data_key, public_raw, SECRET_ID, "create")
    base = {"recipient_jwk": jwk, "public_key": b64url_encode(public_raw),
            "secret_id": SECRET_ID, "data_key": b64url_encode(data_key)}
    flipped = sealed_reveal[:70] + bytes([sealed_reveal[70] ^ 1]) + sealed_reveal[71:]
    enc_flipped = sealed_reveal[:5] + bytes([sealed_reveal[5] ^ 1]) + sealed_reveal[6:]
    rows = [
        ("reveal", "reveal", sealed_reveal, True, "sealed for reveal"),
        ("create", "create", sealed_create, True, "sealed for create"),
        ("wrong purpose", "create", sealed_reveal, False, "reveal seal opened as create"),
        ("wrong secret", "reveal", sealed_reveal, False, "opened under another secret id"),
        ("ciphertext bit flipped", "reveal", flipped, False, "altered ciphertext"),
        ("enc bit flipped", "reveal", enc_flipped, False, "altered encapsulated key"),
        ("truncated", "reveal", sealed_reveal[:-1], False, "one byte short"),
    ]
    return [
        {**base, "name": name, "purpose": purpose, "sealed": b64url_encode(sealed),
         "valid": valid, "description": description,
         **({"secret_id": SECRET_ID[:-1] + "8"} if name == "wrong secret" else {})}
        for name, purpose, sealed, valid, description in rows
    ]


def key_check_vectors() -> list[dict[str, Any]]:
    """``key_check`` is the secret's (what the creator's browser stored); ``matches`` says
    whether ``link_key`` derives it for ``secret_id``."""
    rng = NamedRandom("key checks")
    whole = rng.token_bytes(32)
    stored = derive_key_check(whole, SECRET_ID)
    other_id = "0b9d6f1e-2c4a-4e7b-8f3d-5a1c9e7b2d60"
    cases = [
        {"name": "the creator's link", "secret_id": SECRET_ID, "link_key": whole,
         "key_check": stored, "matches": True},
        {"name": "an all-zero link key", "secret_id": SECRET_ID, "link_key": bytes(32),
         "key_check": derive_key_check(bytes(32), SECRET_ID), "matches": True},
        {"name": "another secret's id", "secret_id": other_id, "link_key": whole,
         "key_check": derive_key_check(whole, other_id), "matches": True},
        {"name": "a non-ASCII secret id", "secret_id": "clé-🔑", "link_key": whole,
         "key_check": derive_key_check(whole, "clé-🔑"), "matches": True},
        {"name": "one character of the link changed (a bit of byte 10)", "secret_id": SECRET_ID,
         "link_key": _flip(whole, 10), "key_check": stored, "matches": False},
        {"name": "the last byte changed", "secret_id": SECRET_ID,
         "link_key": whole[:31] + bytes([whole[31] ^ 0x80]), "key_check": stored,
         "matches": False},
        {"name": "the right link for another secret", "secret_id": other_id, "link_key": whole,
         "key_check": stored, "matches": False},
    ]
    return [_encode(case) for case in cases]


def write_all() -> None:
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    files = {
        "csl1.json": [_encode(case) for case in csl1_vectors()],
        "share_codes.json": share_code_vectors(),
        "hpke.json": hpke_vectors(),
        "key_check.json": key_check_vectors(),
    }
    for name, content in files.items():
        (VECTOR_DIR / name).write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write_all()
