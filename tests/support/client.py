"""A Python stand-in for the browser: same protocol and same crypto as web/js, over real HTTP."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx
from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.kdf import derive_key_check
from cipherslip_crypto.meta import ContentMeta, Format, open_meta, seal_meta
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.clock import SystemRandom
from tests.support.error_answers import ANSWERS
from tests.support.idp import csrf_token_from, sign_in


@dataclass(frozen=True)
class ShareLink:
    url: str
    share_code: str
    secret_id: str
    link_key: bytes


class RevealFailed(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}: {response.text}")
        self.response = response


def new_key_pair() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private_key, public_raw


def encrypted_parts(stream: bytes, upload: dict[str, Any]) -> list[bytes]:
    """Cut a CSL1 stream the way the browser does: record-aligned parts."""
    first = upload["first_part_bytes"]
    rest = upload["part_bytes"]
    parts = [stream[:first]]
    parts += [stream[offset:offset + rest] for offset in range(first, len(stream), rest)]
    return parts


class FileClientMixin:
    """Files: declared size, parts to the api or straight to storage, download links."""

    http: httpx.Client

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def start_secret(
        self, recipients: list[str] | None = None, **fields: Any
    ) -> tuple[httpx.Response, Any]:
        raise NotImplementedError

    def create_file(self, content: bytes, name: str, recipients: list[str],
                    media_type: str = "application/octet-stream", **fields: Any) -> ShareLink:
        response, private_key = self.start_secret(
            recipients, format="file", plaintext_size=len(content), **fields)
        assert response.status_code == 201, response.text
        created = response.json()
        data_key = hpke.open_data_key(b64url_decode(created["sealed_key"]), private_key,
                                      created["id"], "create")
        link_key = os.urandom(32)
        header = csl1.StreamHeader.generate(SystemRandom())
        stream = csl1.encrypt(content, link_key, data_key, created["id"], header)
        self.send_parts(created, encrypted_parts(stream, created["upload"]))
        sealed_meta = seal_meta(ContentMeta(format="file", name=name, type=media_type,
                                            size=len(content)),
                                link_key, data_key, created["id"], header.salt)
        done = self.api("POST", created["complete_url"],
                        json={"sealed_meta": b64url_encode(sealed_meta),
                              "key_check": _key_check(link_key, created["id"])})
        assert done.status_code == 200, done.text
        return ShareLink(f"{done.json()['share_url']}#{b64url_encode(link_key)}",
                         created["share_code"], created["id"], link_key)

    def send_parts(self, created: dict[str, Any], parts: list[bytes]) -> None:
        upload = created["upload"]
        if upload["direct"]:
            numbers = list(range(1, len(parts) + 1))
            urls = self.api("POST", f"{upload['parts_url']}/urls", json={"parts": numbers})
            assert urls.status_code == 200, urls.text
            for number, part in zip(numbers, parts, strict=True):
                stored = httpx.put(urls.json()["urls"][str(number)], content=part)
                assert stored.status_code == 200, stored.text
            return
        for number, part in enumerate(parts, start=1):
            sent = self.api("PUT", f"{upload['parts_url']}/{number}", content=part,
                            headers={"content-type": "application/octet-stream"})
            assert sent.status_code == 204, sent.text

    def reveal_file(self, link: ShareLink) -> tuple[ContentMeta, bytes, dict[str, Any]]:
        """(metadata, plaintext, the reveal answer) through the download link."""
        private_key, public_raw = new_key_pair()
        response = self.api("POST", f"/api/v1/shares/{link.share_code}/reveal",
                            json={"public_key": b64url_encode(public_raw),
                                  "key_check": _key_check(link.link_key, link.secret_id)})
        if response.status_code != 200:
            raise RevealFailed(response)
        revealed = response.json()
        data_key = hpke.open_data_key(b64url_decode(revealed["sealed_key"]), private_key,
                                      revealed["secret_id"], "reveal")
        download = self.http.get(revealed["download_url"], follow_redirects=True)
        assert download.status_code == 200, download.text
        stream = download.content
        meta = open_meta(b64url_decode(revealed["sealed_meta"]), link.link_key, data_key,
                         revealed["secret_id"], stream[8:24])
        plaintext = csl1.decrypt(stream, link.link_key, data_key, revealed["secret_id"])
        return meta, plaintext, revealed


class BrowserLikeClient(FileClientMixin):
    def __init__(self, base_url: str, email: str, *, ip: str | None = None) -> None:
        self.email = email
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30,
                                 event_hooks={"response": [ANSWERS.record]})
        self._csrf: str | None = None

    def close(self) -> None:
        self.http.close()

    def sign_in(self) -> BrowserLikeClient:
        sign_in(self.http, self.email)
        self._csrf = None
        return self

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            # Any page with a form mints the session's token; /verify has one for visitors too.
            self._csrf = csrf_token_from(self.http.get("/verify").text)
        return self._csrf

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-csrf-token": self.csrf, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def start_secret(
        self, recipients: list[str] | None = None, **fields: Any
    ) -> tuple[httpx.Response, Any]:
        """POST /api/v1/secrets; ``fields`` override the defaults (even ``recipients``)."""
        private_key, public_raw = new_key_pair()
        body = {"audience": "internal", "recipients": recipients, "format": "text",
                "label": None, "expires_in_seconds": 86400, "view_limit": 1,
                "public_key": b64url_encode(public_raw), **fields}
        return self.api("POST", "/api/v1/secrets", json=body), private_key

    def create_text(self, text: str, recipients: list[str], **fields: Any) -> ShareLink:
        response, private_key = self.start_secret(recipients, **fields)
        assert response.status_code == 201, response.text
        return self.complete_text(response.json(), private_key, text, os.urandom(32),
                                  fields.get("format", "text"))

    def answer_request(self, request_code: str, text: str, link_key: bytes,
                       content_format: Format = "text") -> ShareLink:
        """What a responder's browser does: reserve the answer, encrypt under the request
        link's key, complete (which fulfils the request)."""
        private_key, public_raw = new_key_pair()
        response = self.api("POST", f"/api/v1/requests/{request_code}/answer", json={
            "format": content_format, "public_key": b64url_encode(public_raw)})
        if response.status_code != 201:
            raise RevealFailed(response)
        return self.complete_text(response.json(), private_key, text, link_key, content_format)

    def complete_text(self, created: dict[str, Any], private_key: Any, text: str,
                      link_key: bytes, content_format: Format) -> ShareLink:
        data_key = hpke.open_data_key(
            b64url_decode(created["sealed_key"]), private_key, created["id"], "create"
        )
        plaintext = text.encode()
        header = csl1.StreamHeader.generate(SystemRandom())
        stream = csl1.encrypt(plaintext, link_key, data_key, created["id"], header)
        sealed_meta = seal_meta(
            ContentMeta(format=content_format, name=None,
                        type="text/plain; charset=utf-8", size=len(plaintext)),
            link_key, data_key, created["id"], header.salt,
        )
        done = self.api("POST", created["complete_url"],
                        json={"sealed_meta": b64url_encode(sealed_meta),
                              "key_check": _key_check(link_key, created["id"]),
                              "content": b64url_encode(stream)})
        if done.status_code != 200:
            raise RevealFailed(done)
        return ShareLink(f"{done.json()['share_url']}#{b64url_encode(link_key)}",
                         created["share_code"], created["id"], link_key)

    def request_link(self, share_code: str, email: str) -> httpx.Response:
        """'Email me a sign-in link' on the visitor page of an external secret."""
        return self.api("POST", f"/api/v1/shares/{share_code}/magic-link", json={"email": email})

    def confirm_link(self, magic_link: str) -> httpx.Response:
        """Open the emailed link (the token is in its fragment) and press Continue."""
        path, _, token = magic_link.partition("#")
        page = self.http.get(path)
        assert page.status_code == 200 and "Continue" in page.text
        self._csrf = csrf_token_from(page.text)  # the token of the page just loaded
        response = self.api("POST", "/api/v1/magic-links/consume", json={"token": token})
        self._csrf = None  # confirming starts a fresh session
        return response

    def reveal(self, link: ShareLink) -> str:
        private_key, public_raw = new_key_pair()
        response = self.api("POST", f"/api/v1/shares/{link.share_code}/reveal",
                            json={"public_key": b64url_encode(public_raw),
                                  "key_check": _key_check(link.link_key, link.secret_id)})
        if response.status_code != 200:
            raise RevealFailed(response)
        revealed = response.json()
        data_key = hpke.open_data_key(
            b64url_decode(revealed["sealed_key"]), private_key, revealed["secret_id"], "reveal"
        )
        stream = b64url_decode(revealed["content"])
        meta = open_meta(b64url_decode(revealed["sealed_meta"]), link.link_key, data_key,
                         revealed["secret_id"], stream[8:24])
        plaintext = csl1.decrypt(stream, link.link_key, data_key, revealed["secret_id"])
        assert meta["size"] == len(plaintext)
        return plaintext.decode()


def _key_check(link_key: bytes, secret_id: str) -> str:
    """What a browser sends with completion and with a reveal (base64url)."""
    return b64url_encode(derive_key_check(link_key, secret_id))


class TokenClient(BrowserLikeClient):
    """A script or CI job: an API token in the Authorization header, no cookies, no CSRF."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url, "token@automation")
        self.http.headers["authorization"] = f"Bearer {token}"

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.http.cookies.clear()  # nothing ambient: the token is all it has
        return self.http.request(method, path, **kwargs)
