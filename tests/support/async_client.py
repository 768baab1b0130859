"""Many signed-in people over one aiohttp session: what the peer bench and the multi-process
tests use to load the api the way browsers do, with the browser's crypto (``core.crypto``).

Signing in walks the real OIDC flow once per person (``tests.support.idp``); afterwards each
request carries that person's session cookie and CSRF token explicitly, so one connection
pool serves everyone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import httpx
from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from cipherslip_crypto.meta import ContentMeta, open_meta, seal_meta

from core.clock import SystemRandom
from tests.support.client import new_key_pair
from tests.support.idp import csrf_token_from, sign_in

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    email: str
    cookie: str  # the Cookie header of their signed-in session
    csrf: str


@dataclass(frozen=True)
class Shared:
    share_code: str
    secret_id: str
    link_key: bytes


class RequestFailed(Exception):
    def __init__(self, what: str, status: int, body: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {body[:300]}")
        self.status = status


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on an event loop of its own, in a thread of its own:
    a test may run while another loop owns the main thread (Playwright's sync API)."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, coroutine).result()


def signed_in(base_url: str, email: str) -> Person:
    """Sign ``email`` in through the IdP and keep what their browser would keep."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as http:
        sign_in(http, email)
        csrf = csrf_token_from(http.get("/verify").text)
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    return Person(email, cookie, csrf)


def _headers(person: Person) -> dict[str, str]:
    return {"Cookie": person.cookie, "X-CSRF-Token": person.csrf, "Accept": "application/json"}


async def _json(response: aiohttp.ClientResponse, what: str, expected: int) -> Any:
    text = await response.text()
    if response.status != expected:
        raise RequestFailed(what, response.status, text)
    return await response.json(content_type=None) if text else None


async def create_text(
    session: aiohttp.ClientSession, base_url: str, creator: Person, recipient: str, text: str,
) -> Shared:
    """Share ``text`` with one colleague, as the create page does: two requests."""
    private_key, public_raw = new_key_pair()
    body = {"audience": "internal", "recipients": [recipient], "format": "text",
            "label": None, "expires_in_seconds": 86400, "view_limit": 1,
            "public_key": b64url_encode(public_raw)}
    async with session.post(f"{base_url}/api/v1/secrets", json=body,
                            headers=_headers(creator)) as response:
        created = await _json(response, "create", 201)
    data_key = hpke.open_data_key(b64url_decode(created["sealed_key"]), private_key,
                                  created["id"], "create")
    link_key = os.urandom(32)
    plaintext = text.encode()
    header = csl1.StreamHeader.generate(SystemRandom())
    stream = csl1.encrypt(plaintext, link_key, data_key, created["id"], header)
    sealed_meta = seal_meta(ContentMeta(format="text", name=None,
                                        type="text/plain; charset=utf-8", size=len(plaintext)),
                            link_key, data_key, created["id"], header.salt)
    async with session.post(f"{base_url}{created['complete_url']}", headers=_headers(creator),
                            json={"sealed_meta": b64url_encode(sealed_meta),
                                  "key_check": b64url_encode(
                                      derive_key_check(link_key, created["id"])),
                                  "content": b64url_encode(stream)}) as response:
        await _json(response, "complete", 200)
    return Shared(created["share_code"], created["id"], link_key)


async def open_share_page(
    session: aiohttp.ClientSession, base_url: str, recipient: Person, shared: Shared,
) -> None:
    """Open the link: the share page (label, sender, views left; it changes nothing)."""
    async with session.get(f"{base_url}/s/{shared.share_code}",
                           headers={"Cookie": recipient.cookie}) as response:
        page = await response.text()
    if response.status != 200 or 'id="reveal-panel"' not in page:
        raise RequestFailed("share page", response.status, page)


async def reveal_text(
    session: aiohttp.ClientSession, base_url: str, recipient: Person, shared: Shared,
) -> str:
    """Press "Reveal content": one POST, then decrypt as the browser does."""
    private_key, public_raw = new_key_pair()
    key_check = derive_key_check(shared.link_key, shared.secret_id)
    async with session.post(f"{base_url}/api/v1/shares/{shared.share_code}/reveal",
                            json={"public_key": b64url_encode(public_raw),
                                  "key_check": b64url_encode(key_check)},
                            headers=_headers(recipient)) as response:
        revealed = await _json(response, "reveal", 200)
    data_key = hpke.open_data_key(b64url_decode(revealed["sealed_key"]), private_key,
                                  revealed["secret_id"], "reveal")
    stream = b64url_decode(revealed["content"])
    meta = open_meta(b64url_decode(revealed["sealed_meta"]), shared.link_key, data_key,
                     revealed["secret_id"], stream[8:24])
    plaintext = csl1.decrypt(stream, shared.link_key, data_key, revealed["secret_id"])
    if meta["size"] != len(plaintext):
        raise AssertionError("the sealed size differs from the content's")
    return plaintext.decode()


async def reveal_refused(
    session: aiohttp.ClientSession, base_url: str, recipient: Person, shared: Shared,
) -> int:
    """A reveal that must fail (burned, revoked…): its HTTP status."""
    _, public_raw = new_key_pair()
    async with session.post(f"{base_url}/api/v1/shares/{shared.share_code}/reveal",
                            json={"public_key": b64url_encode(public_raw)},
                            headers=_headers(recipient)) as response:
        await response.read()
    return response.status
