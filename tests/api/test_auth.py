"""Sign-in with a real OpenID provider: server-side sessions, rotation, safe redirects."""

from __future__ import annotations

import httpx

from tests.support.idp import csrf_token_from, set_claims
from tests.support.stack import Stack


def session_cookie(client: httpx.Client) -> str | None:
    return client.cookies.get("cipherslip_session")


def test_sign_in_creates_a_session_bound_to_the_email(stack: Stack) -> None:
    alice = stack.user("Alice@Example.com")
    me = alice.api("GET", "/api/v1/me")
    assert me.json()["email"] == "alice@example.com"


def test_session_cookie_is_httponly_samesite_and_rotated_at_sign_in(stack: Stack) -> None:
    visitor = stack.anonymous()
    login = visitor.http.get("/auth/login?next=/")
    pre_login_id = session_cookie(visitor.http)
    assert pre_login_id  # Authlib keeps state and PKCE verifier server-side
    assert "HttpOnly" in login.headers["set-cookie"]
    assert "SameSite=Lax" in login.headers["set-cookie"]
    consent = httpx.post(login.headers["location"], data={"sub": "alice@example.com"})
    callback = visitor.http.get(consent.headers["location"])
    assert callback.status_code == 303
    signed_in_id = session_cookie(visitor.http)
    assert signed_in_id and signed_in_id != pre_login_id
    # The pre-login id was forgotten: presenting it again gives no session.
    stale = httpx.get(f"{stack.base_url}/api/v1/me", cookies={"cipherslip_session": pre_login_id})
    assert stale.status_code == 401


def test_sessions_are_not_in_the_store_under_their_cookie_value(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    cookie = session_cookie(alice.http)
    assert cookie is not None
    assert cookie not in str(stack.services.sessions.__dict__)


def test_next_parameter_cannot_redirect_off_site(stack: Stack) -> None:
    visitor = stack.anonymous()
    login = visitor.http.get("/auth/login?next=//evil.example/steal")
    consent = httpx.post(login.headers["location"], data={"sub": "alice@example.com"})
    callback = visitor.http.get(consent.headers["location"])
    assert callback.headers["location"] == "/"


def test_explicitly_unverified_email_is_refused(stack: Stack, idp: str) -> None:
    set_claims(idp, "unverified-user", {"email": "eve@example.com", "email_verified": False})
    visitor = stack.anonymous()
    login = visitor.http.get("/auth/login?next=/")
    consent = httpx.post(login.headers["location"], data={"sub": "unverified-user"})
    callback = visitor.http.get(consent.headers["location"])
    assert callback.status_code == 403
    assert "not verified" in callback.text
    assert visitor.http.get("/api/v1/me").status_code == 401


def test_forged_callback_state_is_refused(stack: Stack) -> None:
    visitor = stack.anonymous()
    visitor.http.get("/auth/login?next=/")
    response = visitor.http.get("/auth/callback?code=forged&state=forged")
    assert response.status_code == 403
    assert "sign-in failed" in response.text.lower()


def test_sign_out_needs_csrf_and_ends_the_session(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    assert alice.http.post("/auth/logout").status_code == 403
    assert alice.api("GET", "/api/v1/me").status_code == 200
    page = alice.http.get("/")
    response = alice.http.post("/auth/logout", data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 303
    assert alice.http.get("/api/v1/me").status_code == 401


def test_signed_out_api_calls_get_401(stack: Stack) -> None:
    visitor = stack.anonymous()
    for path in ("/api/v1/me", "/api/v1/secrets", "/api/v1/shares/ABCD-EFGH-JKMN",
                 "/api/v1/users?q=a"):
        response = visitor.http.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "authentication_required"


def test_signed_out_pages_redirect_to_sign_in(stack: Stack) -> None:
    visitor = stack.anonymous()
    response = visitor.http.get("/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=/new"


def test_user_search_suggests_known_colleagues(stack: Stack) -> None:
    stack.user("bob.builder@example.com")
    alice = stack.user("alice@example.com")
    found = alice.api("GET", "/api/v1/users?q=BUILD").json()
    assert [user["email"] for user in found] == ["bob.builder@example.com"]
    assert alice.api("GET", "/api/v1/users?q=%25").json() == []  # LIKE wildcards are data
