"""Creating a text secret: every documented limit is enforced by the server, with a clear 4xx
naming the problem, and a refused request stores nothing."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cipherslip_crypto import csl1
from cipherslip_crypto.encoding import b64url_encode
from sqlalchemy import func, select

from core.db.models import Secret
from tests.support.client import BrowserLikeClient
from tests.support.stack import Stack


def secret_count(stack: Stack) -> int:
    with stack.services.db() as session:
        return int(session.scalar(select(func.count()).select_from(Secret)) or 0)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"recipients": []}, "recipients", "at least one recipient"),
        ({"recipients": ["not-an-email"]}, "recipients", "not an email address"),
        ({"recipients": [f"user{i}@example.com" for i in range(129)]}, "recipients",
         "at most 128 recipients"),
        ({"recipients": ["mallory@evil.test"]}, "recipients", "not members of your organization"),
        ({"label": "x" * 201}, "label", "at most 200 characters"),
        ({"label": "line one\nline two"}, "label", "single line"),
        ({"expires_in_seconds": 3599}, "expires_in_seconds", "between 3600"),
        ({"expires_in_seconds": 30 * 86400 + 1}, "expires_in_seconds", "between 3600"),
        ({"view_limit": 0}, "view_limit", "between 1 and 1000"),
        ({"view_limit": 1001}, "view_limit", "between 1 and 1000"),
        ({"format": "pdf"}, "format", "format must be one of"),
        ({"format": "file"}, "plaintext_size", "at most 1,073,741,824"),
        ({"format": "file", "plaintext_size": 2**30 + 1}, "plaintext_size", "1 GiB"),
        ({"format": "file", "plaintext_size": -1}, "plaintext_size", "size in bytes"),
        ({"audience": "everyone"}, "audience", "audience must be"),
        ({"public_key": "AAAA"}, "public_key", "P-256"),
        ({"public_key": "not base64!"}, "public_key", "base64url"),
        ({"expires_in_seconds": "soon"}, "expires_in_seconds", "valid integer"),
        ({"surprise": True}, "surprise", "Extra inputs"),
    ],
)
def test_invalid_create_is_refused_naming_the_field(
    stack: Stack, fields: dict[str, Any], field: str, words: str
) -> None:
    alice = stack.user("alice@example.com")
    response, _ = alice.start_secret(**{"recipients": ["bob@example.com"], **fields})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert secret_count(stack) == 0


def test_recipients_are_normalized_and_deduplicated(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("s", [" Bob@Example.com", "bob@example.com", "CAROL@example.com"])
    detail = alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()
    assert detail["recipients"] == ["bob@example.com", "carol@example.com"]


def test_known_users_outside_internal_domains_are_org_users(stack: Stack) -> None:
    stack.user("contractor@partner.test")  # signed in once through the org's SSO
    alice = stack.user("alice@example.com")
    link = alice.create_text("s", ["contractor@partner.test"])
    assert link.share_code


def test_unlimited_views_and_30_days_are_accepted(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    alice.create_text("s", ["bob@example.com"], view_limit=None, expires_in_seconds=30 * 86400)
    listed = alice.api("GET", "/api/v1/secrets").json()
    assert listed[0]["view_limit"] is None
    assert listed[0]["views_left"] is None


def _pending(alice: BrowserLikeClient) -> dict[str, Any]:
    response, _ = alice.start_secret(["bob@example.com"])
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


def _complete(alice: BrowserLikeClient, created: dict[str, Any], stream: bytes | None,
              sealed_meta: bytes | None = None) -> Any:
    body: dict[str, Any] = {"sealed_meta": b64url_encode(sealed_meta or os.urandom(64)),
                            "key_check": b64url_encode(os.urandom(16))}
    if stream is not None:
        body["content"] = b64url_encode(stream)
    return alice.api("POST", created["complete_url"], json=body)


def _stream(plaintext_size: int) -> bytes:
    header = csl1.StreamHeader(os.urandom(16), os.urandom(7))
    return csl1.encrypt(os.urandom(plaintext_size), os.urandom(32), os.urandom(32), "x", header)


@pytest.mark.parametrize(
    ("stream", "status", "words"),
    [
        (b"", 400, "shorter than its 32-byte header"),
        (b"NOPE" + bytes(60), 400, "bad magic"),
        (_stream(10)[:40], 400, "too short"),
        (_stream(65_536) + bytes(5), 400, "record framing"),
        (_stream(65_537), 413, "at most 65536 bytes"),
        (_stream(200_000), 413, "at most"),
    ],
    ids=["empty", "not CSL1", "shorter than a record", "bad framing", "64 KiB + 1", "far too big"],
)
def test_malformed_or_oversized_content_is_refused(
    stack: Stack, stream: bytes, status: int, words: str
) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    response = _complete(alice, created, stream)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
    assert stack.stored_blobs(created["id"]) == []
    # Nothing changed: the secret is still pending and can be completed properly.
    assert _complete(alice, created, _stream(5)).status_code == 200


def test_largest_text_is_accepted(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    assert _complete(alice, created, _stream(65_536)).status_code == 200


def test_a_text_is_created_in_two_requests(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    stream = _stream(200)
    done = _complete(alice, created, stream)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "active"
    assert done.json()["share_url"].endswith(f"/s/{created['share_code']}")
    assert [path.read_bytes() for path in stack.stored_blobs(created["id"])] == [stream]


def test_complete_needs_content_and_happens_once(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    early = _complete(alice, created, None)
    assert early.status_code == 422
    assert early.json()["error"]["field"] == "content"
    assert "content with completion" in early.json()["error"]["message"]
    first = _stream(5)
    assert _complete(alice, created, first).status_code == 200
    again = _complete(alice, created, _stream(6))
    assert again.status_code == 409
    assert "already active" in again.json()["error"]["message"]
    # The live content never changes, and the refused copy was not kept.
    assert [path.read_bytes() for path in stack.stored_blobs(created["id"])] == [first]


def test_a_file_takes_no_content_with_its_completion(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    response, _ = alice.start_secret(["bob@example.com"], format="file", plaintext_size=10)
    created = response.json()
    refused = _complete(alice, created, _stream(10))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "content"
    assert "arrives in parts" in refused.json()["error"]["message"]


def test_sealed_meta_size_is_checked(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    for sealed in (os.urandom(10), os.urandom(3000)):
        response = _complete(alice, created, _stream(5), sealed)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "sealed_meta"
    assert stack.stored_blobs(created["id"]) == []


def test_content_must_be_base64url(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    response = alice.api("POST", created["complete_url"], json={
        "sealed_meta": b64url_encode(os.urandom(64)), "key_check": b64url_encode(os.urandom(16)),
        "content": "not base64url!"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "content"


def test_someone_else_cannot_complete_my_secret(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    mallory = stack.user("mallory@example.com")
    created = _pending(alice)
    assert _complete(mallory, created, _stream(5)).status_code == 404
    assert stack.stored_blobs(created["id"]) == []


def test_pending_secret_cannot_be_completed_after_an_hour(stack: Stack) -> None:
    from datetime import timedelta

    alice = stack.user("alice@example.com")
    created = _pending(alice)
    stack.clock.advance(timedelta(hours=1, seconds=1))
    response = _complete(alice, created, _stream(5))
    assert response.status_code == 409
    assert "abandoned" in response.json()["error"]["message"]


def test_pending_secret_is_invisible_to_recipients(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    bob = stack.user("bob@example.com")
    created = _pending(alice)
    response = bob.api("GET", f"/api/v1/shares/{created['share_code']}")
    assert response.status_code == 404


def test_signed_out_create_is_refused(stack: Stack) -> None:
    visitor = stack.anonymous()
    response = visitor.http.post("/api/v1/secrets", json={})
    assert response.status_code in (401, 403)
    assert secret_count(stack) == 0


def test_create_rate_limit(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    statuses = [alice.start_secret(["bob@example.com"])[0].status_code for _ in range(31)]
    assert statuses[:30] == [201] * 30
    assert statuses[30] == 429


def test_a_storage_failure_on_completion_is_a_503_that_names_no_internal_path(
    stack: Stack,
) -> None:
    alice = stack.user("alice@example.com")
    created = _pending(alice)
    tenant_blobs = stack.settings.effective_blob_dir / stack.settings.tenant_id
    tenant_blobs.mkdir(parents=True, exist_ok=True)
    (tenant_blobs / created["id"]).write_bytes(b"")  # where the secret's directory would go
    response = _complete(alice, created, _stream(5))
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "10"
    assert response.json()["error"]["code"] == "blob_store_unavailable"
    assert created["id"] not in response.text and "blob store" not in response.text
