"""Abuse and edge cases from the security review: each answers with a clear 4xx (or a 500
that still carries the security headers) and changes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from cipherslip_crypto.encoding import b64url_encode
from pydantic import ValidationError
from sqlalchemy import select

from core.db.models import AuditEvent, Secret
from core.settings import Settings
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


def test_oversized_json_is_refused_before_it_is_read(stack: Stack) -> None:
    visitor = stack.anonymous()
    declared = visitor.http.post("/api/v1/shares/ABCD-EFGH-JKMN/reveal",
                                 content=b"{" + b" " * 200_000 + b"}",
                                 headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert "larger than 65536 bytes" in declared.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once it passes the limit
        for _ in range(100):
            yield b" " * 10_000

    # Signed in, so that the body is what is refused (a visitor is refused unread: 401).
    alice = stack.user("alice@example.com")
    streamed = alice.api("POST", "/api/v1/secrets", content=chunks(),
                         headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert visitor.http.post("/api/v1/secrets", content=chunks(),
                             headers={"content-type": "application/json"}).status_code == 401


def test_spoofed_forwarded_for_is_not_believed_by_default(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    alice.http.headers["x-forwarded-for"] = "1.2.3.4"
    alice.create_text("x", ["bob@example.com"])
    with stack.services.db() as session:
        ips = session.scalars(select(AuditEvent.src_ip)).all()
    assert ips == ["127.0.0.1"]


def test_trusting_every_proxy_is_refused() -> None:
    with pytest.raises(ValidationError, match="name the proxies"):
        Settings(forwarded_allow_ips="*")
    assert Settings(forwarded_allow_ips="10.0.0.0/8,192.168.1.2").forwarded_allow_ips


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"reveal_rate_per_user": 3, "reveal_rate_per_ip": 100}


def test_bad_public_key_on_reveal_is_422_and_uses_nothing(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("x", ["bob@example.com"], view_limit=1)
    for _ in range(5):
        response = bob.api("POST", f"/api/v1/shares/{link.share_code}/reveal",
                           json={"public_key": b64url_encode(os.urandom(65))})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "public_key"
    assert bob.reveal(link) == "x"  # neither the rate limit nor the view was touched


def test_absurd_expiry_is_a_clear_422(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    for seconds in (10**18, -1):
        response, _ = alice.start_secret(["bob@example.com"], expires_in_seconds=seconds)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "expires_in_seconds"


def test_unexpected_errors_still_carry_security_headers(stack: Stack) -> None:
    def explode() -> None:
        raise RuntimeError("something with a secret in its message: hunter2")

    stack.api.app.add_api_route("/api/v1/explode", explode)
    response = httpx.get(f"{stack.base_url}/api/v1/explode")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_previews_and_unknown_codes_are_throttled(stack: Stack) -> None:
    bob = stack.user("bob@example.com")
    # 3 reveals a minute allow 15 previews; guessing unknown codes counts against them too.
    statuses = [bob.api("GET", f"/api/v1/shares/ABCD-EFGH-{i:04d}").status_code
                for i in range(16)]
    assert statuses == [404] * 15 + [429]


def test_denied_share_pages_are_bounded(stack: Stack) -> None:
    alice, carol = stack.user("alice@example.com"), stack.user("carol@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    for _ in range(20):
        carol.http.get(f"/s/{link.share_code}")
    with stack.services.db() as session:
        denied = session.scalars(select(AuditEvent).where(
            AuditEvent.activity_name == "paper_secret_access_denied")).all()
        assert session.scalar(select(Secret.views_used)) == 0
    # At most the allowance plus the throttled attempt are written, not one per request.
    assert len(denied) <= 16
