"""``slip share``: encrypt on this machine exactly as a browser does (docs/FORMATS.md) and hand
the server only ciphertext. The share URL's fragment holds the link key; it never leaves here
except in what this command prints.

A text secret takes two requests (create, then complete with its ciphertext); a file takes
its parts between them.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from cipherslip_crypto.meta import ContentMeta, Format, seal_meta
from cipherslip_crypto.randomness import SystemRandom

from cipherslip_cli import formats
from cipherslip_cli.api import Api, SlipError, UsageError
from cipherslip_cli.parts import PartUploader, Sealing, parts_of
from cipherslip_cli.progress import Progress

TEXT_MAX_BYTES = 64 * 1024
FILE_MAX_BYTES = 1 << 30
# A file from standard input has no size to declare up front; it is read into memory, so
# larger files are shared by path.
STDIN_FILE_MAX_BYTES = 64 * 1024 * 1024
EXPIRY_MIN_SECONDS, EXPIRY_MAX_SECONDS = 3600, 30 * 86400
VIEW_LIMIT_MAX = 1000
_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_expiry(text: str, *, maximum: str = "30d") -> int:
    """``1h``, ``36h``, ``7d``, ``2w`` (from 1 hour to ``maximum``) as seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise UsageError(f"a duration is written like 1h, 12h, 7d or 2w, not {text!r}")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    most = _DURATION.fullmatch(maximum)
    assert most is not None
    if not EXPIRY_MIN_SECONDS <= seconds <= int(most.group(1)) * _UNIT_SECONDS[most.group(2)]:
        raise UsageError(f"{text!r}: a duration here is from 1h to {maximum}")
    return seconds


def parse_views(text: str) -> int | None:
    if text.strip().lower() == "unlimited":
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= VIEW_LIMIT_MAX:
        raise UsageError(f"--views takes 1 to {VIEW_LIMIT_MAX}, or 'unlimited'")
    return int(text)


@dataclass(frozen=True)
class ShareRequest:
    recipients: list[str]
    external: bool
    content_format: Format
    label: str | None
    expires_in_seconds: int
    view_limit: int | None
    # An answer to a request: its code, and the request link's key (recipients and limits
    # are the request's).
    answering: str | None = None
    link_key: bytes | None = None


@dataclass(frozen=True)
class Shared:
    share_url: str  # with the link key in its fragment
    share_code: str
    secret_id: str
    expires_at: str


def read_text(source: BinaryIO, content_format: str) -> bytes:
    content = source.read(TEXT_MAX_BYTES + 1)
    if len(content) > TEXT_MAX_BYTES:
        raise UsageError(f"a {content_format} secret is at most {TEXT_MAX_BYTES:,} bytes; share "
                         "larger content as a file (--format file)")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the content is not UTF-8 text; share it as a file (--format file)") \
            from None
    found = formats.problems(content_format, text)
    if found:
        raise UsageError(f"this is not valid {content_format}:\n  " + "\n  ".join(found)
                         + "\n(fix it, or share it with --format text)")
    return content


def _created(api: Api, request: ShareRequest, public_key: bytes,
             plaintext_size: int | None) -> dict[str, Any]:
    if request.answering is not None:
        answer: dict[str, Any] = {"format": request.content_format,
                                  "public_key": b64url_encode(public_key)}
        if plaintext_size is not None:
            answer["plaintext_size"] = plaintext_size
        return dict(api.json("POST", f"/api/v1/requests/{request.answering}/answer",
                             json=answer))
    body: dict[str, Any] = {
        "audience": "external" if request.external else "internal",
        "recipients": request.recipients, "format": request.content_format,
        "label": request.label, "expires_in_seconds": request.expires_in_seconds,
        "view_limit": request.view_limit, "public_key": b64url_encode(public_key)}
    if plaintext_size is not None:
        body["plaintext_size"] = plaintext_size
    return dict(api.json("POST", "/api/v1/secrets", json=body))


def _complete(api: Api, created: dict[str, Any], link_key: bytes, data_key: bytes, *,
              meta: ContentMeta, salt: bytes, stream: bytes | None) -> Shared:
    sealed = seal_meta(meta, link_key, data_key, created["id"], salt)
    body = {"sealed_meta": b64url_encode(sealed),
            "key_check": b64url_encode(derive_key_check(link_key, created["id"]))}
    if stream is not None:
        body["content"] = b64url_encode(stream)
    completed = api.json("POST", created["complete_url"], json=body)
    return Shared(share_url=f"{completed['share_url']}#{b64url_encode(link_key)}",
                  share_code=completed["share_code"], secret_id=created["id"],
                  expires_at=created["expires_at"])


def share_text(api: Api, request: ShareRequest, content: bytes) -> Shared:
    private_key, public_key = hpke.generate_key_pair()
    created = _created(api, request, public_key, None)
    data_key = hpke.open_data_key(_sealed_key(created), private_key, created["id"], "create")
    link_key = request.link_key or secrets.token_bytes(32)
    header = csl1.StreamHeader.generate(SystemRandom())
    stream = csl1.encrypt(content, link_key, data_key, created["id"], header)
    meta = ContentMeta(format=request.content_format, name=None,
                       type=formats.MEDIA_TYPES[request.content_format], size=len(content))
    return _complete(api, created, link_key, data_key, meta=meta, salt=header.salt,
                     stream=stream)


def share_file(api: Api, request: ShareRequest, descriptor: int, name: str,
               media_type: str | None = None) -> Shared:
    """The file open at ``descriptor`` (read with pread: any number of parts at once)."""
    size = os.fstat(descriptor).st_size
    if size > FILE_MAX_BYTES:
        raise UsageError(f"a file is at most 1 GiB ({FILE_MAX_BYTES:,} bytes); this one is "
                         f"{size:,}")
    private_key, public_key = hpke.generate_key_pair()
    created = _created(api, request, public_key, size)
    try:
        data_key = hpke.open_data_key(_sealed_key(created), private_key, created["id"],
                                      "create")
        sealing = Sealing(request.link_key or secrets.token_bytes(32), data_key, created["id"],
                          csl1.StreamHeader.generate(SystemRandom()))
        plan = created["upload"]
        parts = parts_of(size, plan["records_per_part"], plan["part_count"])
        progress = Progress("Encrypting and uploading", size)
        PartUploader(api, created, descriptor, sealing, progress.add).upload(parts)
        progress.finish()
        meta = ContentMeta(format="file", name=name, size=size,
                           type=media_type or mimetypes.guess_type(name)[0]
                           or "application/octet-stream")
        return _complete(api, created, sealing.link_key, data_key, meta=meta,
                         salt=sealing.header.salt, stream=None)
    except BaseException:
        _abandon(api, created["id"])
        raise


def _abandon(api: Api, secret_id: str) -> None:
    """Drop an upload that will not be completed (the scheduler would, within an hour)."""
    with contextlib.suppress(SlipError):
        api.call("DELETE", f"/api/v1/secrets/{secret_id}")


def _sealed_key(created: dict[str, Any]) -> bytes:
    return b64url_decode(str(created["sealed_key"]), field="sealed_key")


def share_stdin_file(api: Api, request: ShareRequest, name: str) -> Shared:
    """A file piped in: written to an anonymous in-memory file, then shared like any other."""
    content = sys.stdin.buffer.read(STDIN_FILE_MAX_BYTES + 1)
    if len(content) > STDIN_FILE_MAX_BYTES:
        raise UsageError("a file from standard input is at most 64 MiB; pass larger files "
                         "by path")
    descriptor = os.memfd_create("slip-share") if hasattr(os, "memfd_create") else None
    if descriptor is None:
        raise UsageError("share files by path on this system")
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(descriptor, view):]
        return share_file(api, request, descriptor, name)
    finally:
        os.close(descriptor)


def file_name(path: str) -> str:
    return Path(path).name
