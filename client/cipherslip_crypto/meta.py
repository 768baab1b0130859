"""Sealed metadata: format, file name, media type and size, hidden from the server.

``MK`` is derived with the stream header's salt and used exactly once, which is why a
constant all-zero nonce is safe here.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cipherslip_crypto.errors import StreamAuthenticationError, StreamFormatError
from cipherslip_crypto.kdf import META_INFO, derive_key

Format = Literal["text", "json", "yaml", "env", "file"]
FORMATS: tuple[Format, ...] = ("text", "json", "yaml", "env", "file")
ZERO_NONCE = bytes(12)
TAG_SIZE = 16


class ContentMeta(TypedDict):
    format: Format
    name: str | None
    type: str
    size: int


def encode_meta(meta: ContentMeta) -> bytes:
    """Canonical JSON: keys in the documented order, compact, UTF-8 (as JS ``JSON.stringify``)."""
    ordered = {key: meta[key] for key in ("format", "name", "type", "size")}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_meta(value: Any) -> ContentMeta:
    if not isinstance(value, dict) or set(value) != {"format", "name", "type", "size"}:
        raise StreamFormatError("sealed metadata must hold format, name, type and size")
    if value["format"] not in FORMATS:
        raise StreamFormatError(f"unknown content format {value['format']!r}")
    if value["name"] is not None and not isinstance(value["name"], str):
        raise StreamFormatError("metadata name must be a string or null")
    if not isinstance(value["type"], str):
        raise StreamFormatError("metadata type must be a string")
    size = value["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise StreamFormatError("metadata size must be a non-negative integer")
    return ContentMeta(format=value["format"], name=value["name"], type=value["type"], size=size)


def seal_meta(
    meta: ContentMeta, link_key: bytes, data_key: bytes, secret_id: str, salt: bytes
) -> bytes:
    key = derive_key(link_key, data_key, salt, META_INFO)
    return AESGCM(key).encrypt(ZERO_NONCE, encode_meta(_check_meta(meta)), secret_id.encode())


def open_meta(
    sealed: bytes, link_key: bytes, data_key: bytes, secret_id: str, salt: bytes
) -> ContentMeta:
    key = derive_key(link_key, data_key, salt, META_INFO)
    try:
        plain = AESGCM(key).decrypt(ZERO_NONCE, sealed, secret_id.encode())
    except InvalidTag as exc:
        raise StreamAuthenticationError("the sealed metadata does not authenticate") from exc
    try:
        return _check_meta(json.loads(plain.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StreamFormatError("the sealed metadata is not UTF-8 JSON") from exc
