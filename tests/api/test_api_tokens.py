"""Bearer API tokens on the real api and vault: the same routes as the browser, scopes
enforced per route, no CSRF and no cookie, and the token itself never stored or logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db.models import AuditEvent
from tests.support.client import BrowserLikeClient, RevealFailed, TokenClient
from tests.support.stack import Stack, capture_logs


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": ("admin@example.com",)}


def issue(owner: BrowserLikeClient, *scopes: str, **fields: Any) -> dict[str, Any]:
    response = owner.api("POST", "/api/v1/tokens",
                         json={"name": fields.pop("name", "ci"), "scopes": list(scopes),
                               **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_write_token_shares_and_a_colleague_reveals_in_the_browser_session(
    stack: Stack,
) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    with capture_logs() as logs:
        created = issue(alice, "secrets:write", name="deploy job")
        token = created["token"]
        script = TokenClient(stack.base_url, token)
        link = script.create_text("db password from CI", ["bob@example.com"])
        assert bob.reveal(link) == "db password from CI"
    # Shown once: the list never shows it again.
    listed = alice.api("GET", "/api/v1/tokens").json()
    assert [(one["name"], one["hint"]) for one in listed] == [("deploy job", token[-4:])]
    assert "token" not in listed[0] and listed[0]["last_used_at"] is not None
    # The create event names the token; nothing anywhere holds the token itself.
    with stack.services.db() as session:
        made = session.scalars(select(AuditEvent).where(
            AuditEvent.activity_name == "paper_secret_created")).one()
        assert (made.api_token_id, made.api_token_name) == (created["id"], "deploy job")
        everything = " ".join(
            str(row) for table in ("api_tokens", "audit_events", "secrets")
            for row in session.execute(text(f"SELECT * FROM {table}")))
    assert token not in everything and token not in "\n".join(logs.lines)


def test_scopes_are_enforced_per_route(stack: Stack) -> None:
    alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
    link = alice.create_text("for bob", ["bob@example.com"], view_limit=2)
    reader = TokenClient(stack.base_url, issue(bob, "secrets:read")["token"])
    with pytest.raises(RevealFailed) as refused:
        reader.reveal(link)
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["error"]["code"] == "insufficient_scope"
    assert "secrets:reveal" in refused.value.response.json()["error"]["message"]
    assert reader.api("GET", "/api/v1/secrets").status_code == 200
    refused_create, _ = reader.start_secret(["alice@example.com"])
    assert refused_create.status_code == 403

    revealer = TokenClient(stack.base_url, issue(bob, "secrets:reveal")["token"])
    assert revealer.reveal(link) == "for bob"
    # Routes no scope opens stay closed to every token: a token never mints another, nor
    # acts in the admin console.
    minted = revealer.api("POST", "/api/v1/tokens", json={"name": "x", "scopes": ["secrets:read"]})
    assert minted.status_code == 403
    assert revealer.api("GET", "/api/v1/admin/secrets").status_code == 403


def test_audit_read_is_for_super_admins_and_their_tokens(stack: Stack) -> None:
    admin, alice = stack.user("admin@example.com"), stack.user("alice@example.com")
    refused = alice.api("POST", "/api/v1/tokens",
                        json={"name": "siem", "scopes": ["audit:read"]})
    assert refused.status_code == 403
    siem = TokenClient(stack.base_url, issue(admin, "audit:read", name="siem")["token"])
    page = siem.api("GET", "/api/v1/admin/audit")
    assert page.status_code == 200, page.text
    assert any(event["activity_name"] == "paper_secret_api_token_created"
               for event in page.json()["items"])


def test_invalid_expired_and_revoked_tokens_get_401_and_nothing_else(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    created = issue(alice, "secrets:read", "secrets:write")
    script = TokenClient(stack.base_url, created["token"])
    assert script.api("GET", "/api/v1/me").json()["email"] == "alice@example.com"
    for bad in ("cipherslip_pat_" + "A" * 49, "not-a-token", created["token"][:-1] + "x"):
        answer = TokenClient(stack.base_url, bad).api("GET", "/api/v1/secrets")
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_token"
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "set-cookie" not in answer.headers
    # Logout: a token may revoke itself (and only itself) …
    other = issue(alice, "secrets:read", name="other")
    assert script.api("DELETE", f"/api/v1/tokens/{other['id']}").status_code == 403
    assert script.api("DELETE", f"/api/v1/tokens/{created['id']}").status_code == 204
    assert script.api("GET", "/api/v1/secrets").status_code == 401
    # … and an expired one is refused the same way.
    short = TokenClient(stack.base_url, issue(alice, "secrets:read", expires_in_days=1)["token"])
    stack.clock.advance(timedelta(days=1, seconds=1))
    assert short.api("GET", "/api/v1/secrets").status_code == 401


def test_a_bearer_request_ignores_cookies_and_needs_no_csrf(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    script = TokenClient(stack.base_url, issue(alice, "secrets:write")["token"])
    # No CSRF header, and alice's session cookie would not help: the token decides.
    response, _ = script.start_secret(["bob@example.com"])
    assert response.status_code == 201, response.text
    assert "set-cookie" not in response.headers
    with_cookie = script.http.post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["secrets:read"]},
        cookies=dict(alice.http.cookies))
    assert with_cookie.status_code == 403  # the token, not the cookie, is who this is


def test_the_openapi_document_says_how_tokens_authenticate_and_what_each_route_needs(
    stack: Stack,
) -> None:
    document = stack.anonymous().http.get("/api/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "Authorization: Bearer" in document["info"]["description"]
    reveal = document["paths"]["/api/v1/shares/{share_code}/reveal"]["post"]
    assert reveal["x-token-scope"] == "secrets:reveal"
    assert {"apiToken": ["secrets:reveal"]} in reveal["security"]
    assert "/api/v1/secrets/{id}/complete" in document["info"]["description"]
    schemas = document["components"]["schemas"]
    for body in ("CreateSecretBody", "CompleteBody", "RevealBody"):
        assert schemas[body]["examples"], f"{body} has no example for automation"
    minting = document["paths"]["/api/v1/tokens"]["post"]
    assert "x-token-scope" not in minting and minting["security"] == [{"browserSession": []}]
