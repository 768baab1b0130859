"""Requests from the terminal: ``slip request`` asks colleagues for a secret (the link key is
made here, the server gets only its key check); ``slip share --answer URL`` answers one, after
checking the link against the request; ``slip reveal URL`` with a request's URL reads its
answer, since the answer is sealed under the same key."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.errors import CipherslipError
from cipherslip_crypto.kdf import KEY_SIZE, derive_key_check
from cipherslip_crypto.sharecode import normalize_share_code

from cipherslip_cli.api import Api, Gone, LinkDamaged, Refused, UsageError
from cipherslip_cli.reveal import DAMAGED, ShareLink

_REQUEST_PATH = re.compile(r"/r/([0-9A-Za-z-]+)/?")


@dataclass(frozen=True)
class RequestLink:
    server: str
    request_code: str
    link_key: bytes


def is_request_link(url: str) -> bool:
    return _REQUEST_PATH.fullmatch(urlsplit(url.strip()).path) is not None


def parse_request_link(url: str) -> RequestLink:
    parts = urlsplit(url.strip())
    match = _REQUEST_PATH.fullmatch(parts.path)
    if not parts.scheme or not parts.netloc or match is None:
        raise UsageError("that is not a request link: expected https://…/r/XXXX-XXXX-XXXX#key")
    try:
        code = normalize_share_code(match.group(1))
        link_key = b64url_decode(parts.fragment, field="link key") if parts.fragment else b""
    except CipherslipError as error:
        raise UsageError(f"that is not a request link: {error.message}") from None
    if len(link_key) != KEY_SIZE:
        raise LinkDamaged(DAMAGED.replace("this secret", "this request"))
    return RequestLink(f"{parts.scheme}://{parts.netloc}", code, link_key)


@dataclass(frozen=True)
class NewRequest:
    responders: list[str]
    external: bool  # addresses outside the organization (they confirm them by email)
    label: str | None
    expected_format: str | None
    open_for_seconds: int
    answer_expires_in_seconds: int
    answer_view_limit: int | None


def ask(api: Api, new: NewRequest) -> tuple[str, dict[str, Any]]:
    """(the request URL with its key, the request) — the key exists only in that URL."""
    started = api.json("POST", "/api/v1/requests", json={
        "audience": "external" if new.external else "internal",
        "responders": new.responders, "label": new.label,
        "expected_format": new.expected_format, "open_for_seconds": new.open_for_seconds,
        "answer_expires_in_seconds": new.answer_expires_in_seconds,
        "answer_view_limit": new.answer_view_limit})
    link_key = secrets.token_bytes(KEY_SIZE)
    opened = api.json("POST", started["open_url"], json={
        "key_check": b64url_encode(derive_key_check(link_key, started["id"]))})
    return f"{started['request_url']}#{b64url_encode(link_key)}", opened


def checked_request(api: Api, link: RequestLink) -> dict[str, Any]:
    """The request, once this link's key is known to be its own (before anything is sealed
    under it)."""
    if link.server.rstrip("/") != api.server.rstrip("/"):
        raise UsageError(f"this link is for {link.server}, but slip is signed in to "
                         f"{api.server}")
    request: dict[str, Any] = api.json("GET", f"/api/v1/requests/{link.request_code}")
    stored = request.get("key_check")
    if stored is None or not hmac.compare_digest(
            derive_key_check(link.link_key, request["id"]),
            b64url_decode(stored, field="key_check")):
        raise LinkDamaged(DAMAGED.replace("this secret", "this request").replace(
            " No view was used.", " Nothing was encrypted."))
    return request


def answer_link(api: Api, link: RequestLink) -> ShareLink:
    """For the requester: the answer, as a share opened with the request's key."""
    request = checked_request(api, link)
    if request["role"] != "requester":
        raise Refused("only the person who asked can read the answer")
    if request["answer_share_code"] is None:
        raise Gone(f"this request is {request['status']}; there is no answer to read"
                   if request["status"] != "open" else "no answer yet")
    return ShareLink(link.server, request["answer_share_code"], link.link_key)
