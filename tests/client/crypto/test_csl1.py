"""CSL1 stream and sealed metadata against the committed vectors (docs/FORMATS.md)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cipherslip_crypto import csl1
from cipherslip_crypto.meta import open_meta

from core.errors import (
    CryptoError,
    StreamAuthenticationError,
    StreamFormatError,
    StreamTruncatedError,
)
from tests.support import vectors
from tests.support.vector_files import load_csl1

CASES = load_csl1()
ZERO_HEADER = csl1.StreamHeader(bytes(16), bytes(7))
ERRORS: dict[str, type[CryptoError]] = {
    "authentication": StreamAuthenticationError,
    "truncated": StreamTruncatedError,
    "format": StreamFormatError,
}


def _id(case: dict[str, Any]) -> str:
    return str(case["name"])


def test_vectors_cover_what_the_format_promises() -> None:
    sizes = {len(c["plaintext"]) for c in CASES if c["valid"]}
    assert {0, 1, 65_536, 65_537, 200_000} <= sizes
    names = {c["name"] for c in CASES if not c["valid"]}
    assert {"wrong link key", "wrong secret id", "truncated at a record boundary",
            "records swapped", "a byte appended", "a bit flipped in the header salt"} <= names


@pytest.mark.parametrize("case", [c for c in CASES if c["valid"]], ids=_id)
def test_valid_vector_decrypts_to_plaintext(case: dict[str, Any]) -> None:
    plain = csl1.decrypt(case["stream"], case["link_key"], case["data_key"], case["secret_id"])
    assert plain == case["plaintext"]


@pytest.mark.parametrize("case", [c for c in CASES if c["valid"]], ids=_id)
def test_valid_vector_decrypts_in_odd_sized_chunks(case: dict[str, Any]) -> None:
    stream = case["stream"]
    chunks = [stream[i : i + 7919] for i in range(0, len(stream), 7919)] or [b""]
    plain = b"".join(csl1.iter_decrypt(chunks, case["link_key"], case["data_key"],
                                       case["secret_id"]))
    assert plain == case["plaintext"]


@pytest.mark.parametrize("case", [c for c in CASES if not c["valid"]], ids=_id)
def test_invalid_vector_is_rejected_with_its_reason(case: dict[str, Any]) -> None:
    with pytest.raises(ERRORS[case["error"]]):
        csl1.decrypt(case["stream"], case["link_key"], case["data_key"], case["secret_id"])


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_sealed_meta_opens_only_with_the_right_keys(case: dict[str, Any]) -> None:
    salt = case["stream"][8:24]
    args = (case["sealed_meta"], case["link_key"], case["data_key"], case["secret_id"], salt)
    if case["meta_valid"]:
        assert open_meta(*args) == case["meta"]
    else:
        with pytest.raises(StreamAuthenticationError):
            open_meta(*args)


def test_encryption_reproduces_the_committed_streams_byte_for_byte() -> None:
    regenerated = {c["name"]: c for c in vectors.csl1_vectors()}
    for case in CASES:
        assert regenerated[case["name"]]["stream"] == case["stream"], case["name"]
        assert regenerated[case["name"]]["sealed_meta"] == case["sealed_meta"], case["name"]


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 300_001])
def test_stream_size_and_plaintext_size_agree(size: int) -> None:
    header = csl1.StreamHeader(bytes(16), bytes(7))
    stream = csl1.encrypt(os.urandom(size), bytes(32), bytes(32), "s", header)
    assert len(stream) == csl1.stream_size(size)
    assert csl1.plaintext_size(len(stream)) == size


@pytest.mark.parametrize("length", [0, 31, 32, 47, 32 + 65_552 + 1, 32 + 65_552 + 15])
def test_plaintext_size_rejects_lengths_that_cannot_be_streams(length: int) -> None:
    with pytest.raises(StreamFormatError):
        csl1.plaintext_size(length)


def test_encryptor_refuses_records_after_the_final_one() -> None:
    encryptor = csl1.StreamEncryptor(bytes(32), bytes(32), "s", ZERO_HEADER)
    encryptor.seal_record(b"x", final=True)
    with pytest.raises(StreamFormatError):
        encryptor.seal_record(b"y", final=True)


def test_encryptor_refuses_short_non_final_record() -> None:
    encryptor = csl1.StreamEncryptor(bytes(32), bytes(32), "s", ZERO_HEADER)
    with pytest.raises(ValueError, match="64 KiB"):
        encryptor.seal_record(b"short", final=False)


def test_header_reserved_bytes_must_be_zero() -> None:
    header = bytearray(csl1.StreamHeader(bytes(16), bytes(7)).to_bytes())
    header[31] = 1
    with pytest.raises(StreamFormatError, match="reserved"):
        csl1.StreamHeader.parse(bytes(header))
