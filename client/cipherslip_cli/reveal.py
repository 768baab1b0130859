"""``slip reveal URL``: check the link against the secret's key check (a damaged link costs no
view), reveal, open the data key with a one-time key pair, decrypt here, write the exact bytes.

A file is decrypted as it downloads, record by record, into a temporary file beside the
target that takes the target's name only once the whole stream has authenticated.
"""

from __future__ import annotations

import hmac
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.errors import CipherslipError, CryptoError
from cipherslip_crypto.kdf import KEY_SIZE, derive_key_check
from cipherslip_crypto.meta import ContentMeta, open_meta
from cipherslip_crypto.sharecode import normalize_share_code

from cipherslip_cli.api import Api, Gone, LinkDamaged, Refused, SlipError, UsageError
from cipherslip_cli.progress import Progress

_SHARE_PATH = re.compile(r"/s/([0-9A-Za-z-]+)/?")
ENDED = {"burned": "this secret has ended: all its views are used, its content is destroyed",
         "expired": "this secret has ended: it expired, its content is destroyed",
         "revoked": "this secret has ended: its sender revoked it, its content is destroyed"}
DAMAGED = ("the link is damaged: its key does not fit this secret (cut off or altered on its "
           "way?); ask the sender for the link again. No view was used.")


@dataclass(frozen=True)
class ShareLink:
    server: str
    share_code: str
    link_key: bytes


def parse_link(url: str) -> ShareLink:
    parts = urlsplit(url.strip())
    match = _SHARE_PATH.fullmatch(parts.path)
    if not parts.scheme or not parts.netloc or match is None:
        raise UsageError("that is not a share link: expected https://…/s/XXXX-XXXX-XXXX#key")
    try:
        code = normalize_share_code(match.group(1))
    except CipherslipError as error:
        raise UsageError(f"that is not a share link: {error.message}") from None
    if not parts.fragment:
        raise LinkDamaged("the link has no key after its # (cut off on its way?); ask the "
                          "sender for the whole link. No view was used.")
    try:
        link_key = b64url_decode(parts.fragment, field="link key")
    except CipherslipError:
        link_key = b""
    if len(link_key) != KEY_SIZE:
        raise LinkDamaged(DAMAGED)
    return ShareLink(f"{parts.scheme}://{parts.netloc}", code, link_key)


def refuse_existing(output: Path | None, *, force: bool) -> None:
    if output is not None and output.exists() and not force:
        raise UsageError(f"{output} exists; add --force to replace it (nothing was revealed)")


@dataclass(frozen=True)
class Revealed:
    meta: ContentMeta
    views_left: int | None
    burned: bool
    written_to: Path | None


def reveal(api: Api, link: ShareLink, *, output: Path | None, force: bool) -> Revealed:
    if link.server.rstrip("/") != api.server.rstrip("/"):
        raise UsageError(f"this link is for {link.server}, but slip is signed in to "
                         f"{api.server}")
    refuse_existing(output, force=force)
    preview = api.json("GET", f"/api/v1/shares/{link.share_code}")
    if preview["status"] != "active":
        raise Gone(ENDED.get(preview["status"], f"this secret is {preview['status']}"))
    secret_id = str(preview["secret_id"])
    key_check = derive_key_check(link.link_key, secret_id)
    stored = preview.get("key_check")
    if stored is not None and not hmac.compare_digest(
            key_check, b64url_decode(stored, field="key_check")):
        raise LinkDamaged(DAMAGED)
    private_key, public_key = hpke.generate_key_pair()
    revealed = api.json("POST", f"/api/v1/shares/{link.share_code}/reveal", json={
        "public_key": b64url_encode(public_key), "key_check": b64url_encode(key_check)})
    try:
        data_key = hpke.open_data_key(b64url_decode(revealed["sealed_key"]), private_key,
                                      secret_id, "reveal")
    except CryptoError as error:
        raise Refused(f"the key from the server does not open here: {error.message}") from None
    sealed_meta = b64url_decode(revealed["sealed_meta"], field="sealed_meta")
    if revealed.get("content") is not None:
        stream = b64url_decode(revealed["content"], field="content")
        meta = _meta(sealed_meta, link, data_key, secret_id, stream[:csl1.HEADER_SIZE])
        written = _write(_plaintext([stream], link, data_key, secret_id), output, force)
    else:
        written, meta = _download(api, revealed, link, data_key, secret_id=secret_id,
                                  sealed_meta=sealed_meta, output=output, force=force)
    return Revealed(meta=meta, views_left=revealed.get("views_left"),
                    burned=bool(revealed.get("burned")), written_to=written)


def _meta(sealed_meta: bytes, link: ShareLink, data_key: bytes, secret_id: str,
          head: bytes) -> ContentMeta:
    try:
        header = csl1.StreamHeader.parse(head)
        return open_meta(sealed_meta, link.link_key, data_key, secret_id, header.salt)
    except CryptoError:
        raise LinkDamaged("the content does not open with this link's key (altered?)") from None


def _plaintext(chunks: Any, link: ShareLink, data_key: bytes,
               secret_id: str) -> Iterator[bytes]:
    try:
        yield from csl1.iter_decrypt(chunks, link.link_key, data_key, secret_id)
    except CryptoError as error:
        raise SlipError(f"the content does not authenticate: {error.message}; nothing "
                        "trustworthy was written") from None


def _download(api: Api, revealed: dict[str, Any], link: ShareLink, data_key: bytes, *,
              secret_id: str, sealed_meta: bytes, output: Path | None,
              force: bool) -> tuple[Path | None, ContentMeta]:
    with api.stream(str(revealed["download_url"])) as response:
        received = response.iter_bytes(1 << 20)
        head = b""
        for chunk in received:
            head += chunk
            if len(head) >= csl1.HEADER_SIZE:
                break
        meta = _meta(sealed_meta, link, data_key, secret_id, head[:csl1.HEADER_SIZE])
        if output is None and sys.stdout.isatty():
            output = _free_name(Path.cwd() / _safe_name(meta["name"]))
        progress = Progress("Downloading and decrypting", meta["size"])

        def stream() -> Iterator[bytes]:
            yield head
            yield from received

        plaintext = _plaintext(stream(), link, data_key, secret_id)
        written = _write(_counted(plaintext, progress), output, force)
        progress.finish()
        return written, meta


def _counted(chunks: Iterator[bytes], progress: Progress) -> Iterator[bytes]:
    for chunk in chunks:
        progress.add(len(chunk))
        yield chunk


def _write(plaintext: Iterator[bytes], output: Path | None, force: bool) -> Path | None:
    if output is None:
        sink: BinaryIO = sys.stdout.buffer
        for chunk in plaintext:
            sink.write(chunk)
        sink.flush()
        return None
    descriptor, name = tempfile.mkstemp(dir=output.parent or Path.cwd(),
                                        prefix=f".{output.name}.", suffix=".part")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            for chunk in plaintext:
                sink.write(chunk)
        _claim(temporary, output, force=force)
    except BaseException:
        with suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return output


def _claim(temporary: Path, output: Path, *, force: bool) -> None:
    """The finished file takes its name (checked again: a download can take minutes)."""
    if output.exists() and not force:
        raise UsageError(f"{output} appeared meanwhile; add --force to replace it")
    temporary.replace(output)


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+')


def _safe_name(name: str | None) -> str:
    """The sender's file name without paths, control or bidi characters (as browsers save)."""
    cleaned = _UNSAFE.sub("_", name or "").strip(" .")
    return cleaned[:100] or "download"


def _free_name(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
        number += 1
    return candidate
