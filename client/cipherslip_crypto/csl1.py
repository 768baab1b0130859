"""The ``CSL1`` content stream: STREAM construction over AES-256-GCM, 64 KiB records.

::

    header  = "CSL1" | 01 version | 01 alg | 10 log2(record) | 00 | salt(16) | nonce_prefix(7) | 00
    CK      = HKDF-SHA256(ikm = link_key || data_key, salt, "cipherslip/v1/content")
    nonce_i = nonce_prefix | uint32_be(i) | 01 if final else 00
    record  = AES-256-GCM(CK, nonce_i, chunk_i, aad = header || utf8(secret_id))

Every record but the last holds exactly 64 KiB; the last holds 0..64 KiB and is flagged in
its nonce, so truncation at a record boundary and appended bytes are both detected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cipherslip_crypto.errors import (
    StreamAuthenticationError,
    StreamFormatError,
    StreamTruncatedError,
)
from cipherslip_crypto.kdf import CONTENT_INFO, derive_key
from cipherslip_crypto.randomness import RandomSource

MAGIC = b"CSL1"
VERSION = 0x01
ALG_AES256GCM_HKDF_SHA256 = 0x01
LOG2_RECORD_SIZE = 16
RECORD_SIZE = 1 << LOG2_RECORD_SIZE
TAG_SIZE = 16
SEALED_RECORD_SIZE = RECORD_SIZE + TAG_SIZE
HEADER_SIZE = 32
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 7
MAX_RECORDS = 1 << 32


@dataclass(frozen=True)
class StreamHeader:
    salt: bytes
    nonce_prefix: bytes

    def __post_init__(self) -> None:
        if len(self.salt) != SALT_SIZE or len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise StreamFormatError("header salt is 16 bytes and nonce prefix 7 bytes")

    @classmethod
    def generate(cls, random: RandomSource) -> StreamHeader:
        return cls(random.token_bytes(SALT_SIZE), random.token_bytes(NONCE_PREFIX_SIZE))

    @classmethod
    def parse(cls, raw: bytes) -> StreamHeader:
        """Parse the first 32 bytes of a stream, rejecting anything but CSL1 v1 / 64 KiB."""
        if len(raw) < HEADER_SIZE:
            raise StreamFormatError("the stream is shorter than its 32-byte header")
        if raw[:4] != MAGIC:
            raise StreamFormatError("not a CSL1 stream (bad magic)")
        if raw[4] != VERSION:
            raise StreamFormatError(f"unsupported CSL1 version {raw[4]}")
        if raw[5] != ALG_AES256GCM_HKDF_SHA256:
            raise StreamFormatError(f"unsupported CSL1 algorithm {raw[5]}")
        if raw[6] != LOG2_RECORD_SIZE:
            raise StreamFormatError(f"unsupported CSL1 record size 2^{raw[6]}")
        if raw[7] != 0 or raw[31] != 0:
            raise StreamFormatError("CSL1 header reserved bytes must be zero")
        return cls(bytes(raw[8:24]), bytes(raw[24:31]))

    def to_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes((VERSION, ALG_AES256GCM_HKDF_SHA256, LOG2_RECORD_SIZE, 0))
            + self.salt
            + self.nonce_prefix
            + b"\x00"
        )


def _nonce(prefix: bytes, index: int, *, final: bool) -> bytes:
    if index >= MAX_RECORDS:
        raise StreamFormatError("a CSL1 stream holds at most 2^32 records")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class _RecordCipher:
    def __init__(self, link_key: bytes, data_key: bytes, secret_id: str, header: StreamHeader,
                 *, first_record: int = 0):
        """``first_record``: where this cipher starts in the stream. Records depend only on
        their index, so separate ciphers can seal separate upload parts (and a failed part
        can be sealed again) without the records before them."""
        self.header = header
        self._aead = AESGCM(derive_key(link_key, data_key, header.salt, CONTENT_INFO))
        self._aad = header.to_bytes() + secret_id.encode("utf-8")
        self._index = first_record
        self._finished = False

    def _nonce(self, *, final: bool) -> bytes:
        if self._finished:
            raise StreamFormatError("the stream already has its final record")
        return _nonce(self.header.nonce_prefix, self._index, final=final)

    def _advance(self, *, final: bool) -> None:
        self._index += 1
        self._finished = final


class StreamEncryptor(_RecordCipher):
    """Seals records one at a time, so callers can stream without holding the whole input."""

    def seal_record(self, chunk: bytes, *, final: bool) -> bytes:
        if len(chunk) > RECORD_SIZE or (not final and len(chunk) != RECORD_SIZE):
            raise ValueError("non-final records hold exactly 64 KiB, the final one at most")
        sealed = self._aead.encrypt(self._nonce(final=final), chunk, self._aad)
        self._advance(final=final)
        return sealed


class StreamDecryptor(_RecordCipher):
    def open_record(self, sealed: bytes, *, final: bool) -> bytes:
        try:
            plain = self._aead.decrypt(self._nonce(final=final), sealed, self._aad)
        except InvalidTag as exc:
            raise StreamAuthenticationError(
                "the stream does not authenticate (wrong key, wrong secret, or altered)"
            ) from exc
        self._advance(final=final)
        return plain

    def probe_non_final(self, sealed: bytes) -> bool:
        """Whether ``sealed`` is a valid *non-final* record at the current position."""
        try:
            self._aead.decrypt(self._nonce(final=False), sealed, self._aad)
        except InvalidTag:
            return False
        return True


def iter_encrypt(
    chunks: Iterable[bytes],
    link_key: bytes,
    data_key: bytes,
    secret_id: str,
    header: StreamHeader,
) -> Iterator[bytes]:
    """Yield the header, then sealed records, for plaintext arriving in arbitrary chunks."""
    encryptor = StreamEncryptor(link_key, data_key, secret_id, header)
    yield header.to_bytes()
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        # Keep at least one byte back: only the end of input decides which record is final.
        while len(pending) > RECORD_SIZE:
            yield encryptor.seal_record(bytes(pending[:RECORD_SIZE]), final=False)
            del pending[:RECORD_SIZE]
    yield encryptor.seal_record(bytes(pending), final=True)


def encrypt(
    plaintext: bytes, link_key: bytes, data_key: bytes, secret_id: str, header: StreamHeader
) -> bytes:
    return b"".join(iter_encrypt([plaintext], link_key, data_key, secret_id, header))


def iter_decrypt(
    chunks: Iterable[bytes], link_key: bytes, data_key: bytes, secret_id: str
) -> Iterator[bytes]:
    """Yield plaintext record by record.

    Output is only trustworthy once the iterator finishes without raising: a truncated or
    extended stream is detected at its end.
    """
    pending = bytearray()
    decryptor: StreamDecryptor | None = None
    for chunk in chunks:
        pending += chunk
        if decryptor is None:
            if len(pending) < HEADER_SIZE:
                continue
            header = StreamHeader.parse(bytes(pending[:HEADER_SIZE]))
            decryptor = StreamDecryptor(link_key, data_key, secret_id, header)
            del pending[:HEADER_SIZE]
        # A record is known to be non-final only once bytes after it have arrived.
        while len(pending) > SEALED_RECORD_SIZE:
            yield decryptor.open_record(bytes(pending[:SEALED_RECORD_SIZE]), final=False)
            del pending[:SEALED_RECORD_SIZE]
    if decryptor is None:
        StreamHeader.parse(bytes(pending))  # raises: too short
        raise AssertionError("unreachable")
    last = bytes(pending)
    if len(last) < TAG_SIZE:
        raise StreamTruncatedError("the stream ends without a final record")
    try:
        yield decryptor.open_record(last, final=True)
    except StreamAuthenticationError:
        if len(last) == SEALED_RECORD_SIZE and decryptor.probe_non_final(last):
            raise StreamTruncatedError("the stream ends without a final record") from None
        raise


def decrypt(stream: bytes, link_key: bytes, data_key: bytes, secret_id: str) -> bytes:
    return b"".join(iter_decrypt([stream], link_key, data_key, secret_id))


def stream_size(plaintext_size: int) -> int:
    """Size of the canonical stream for a plaintext of ``plaintext_size`` bytes."""
    records = max(1, -(-plaintext_size // RECORD_SIZE))
    return HEADER_SIZE + plaintext_size + records * TAG_SIZE


def plaintext_size(stream_length: int) -> int:
    """Plaintext size implied by a stream's length; the server's check of upload framing."""
    body = stream_length - HEADER_SIZE
    if body < TAG_SIZE:
        raise StreamFormatError("the upload is too short to be a CSL1 stream")
    full_records, rest = divmod(body, SEALED_RECORD_SIZE)
    if rest == 0:
        return full_records * RECORD_SIZE
    if rest < TAG_SIZE:
        raise StreamFormatError("the upload's length does not fit CSL1 record framing")
    return full_records * RECORD_SIZE + rest - TAG_SIZE
