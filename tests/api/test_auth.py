"""Sign-in with a real OpenID provider: server-side sessions, rotation, safe redirects."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.oidc import create_oauth, identity_from_claims
from core.errors import AccessDenied
from core.settings import Settings
from tests.support.idp import csrf_token_from, register_verified, set_claims
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


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
    register_verified(login.headers["location"], "alice@example.com")
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
    register_verified(login.headers["location"], "alice@example.com")
    consent = httpx.post(login.headers["location"], data={"sub": "alice@example.com"})
    callback = visitor.http.get(consent.headers["location"])
    assert callback.headers["location"] == "/"


def sign_in_with_claims(
    stack: Stack, idp: str, subject: str, claims: Mapping[str, object]
) -> int:
    set_claims(idp, subject, dict(claims))
    visitor = stack.anonymous()
    login = visitor.http.get("/auth/login?next=/")
    consent = httpx.post(login.headers["location"], data={"sub": subject})
    callback = visitor.http.get(consent.headers["location"])
    if callback.status_code == 403:
        assert "not verified" in callback.text or "another account" in callback.text
        assert visitor.http.get("/api/v1/me").status_code == 401
    return callback.status_code


@pytest.mark.parametrize("verified", [False, "false", None], ids=["false", "'false'", "absent"])
def test_unverified_email_is_refused(stack: Stack, idp: str, verified: object) -> None:
    claims: dict[str, object] = {"email": "eve@example.com"}
    if verified is not None:
        claims["email_verified"] = verified
    assert sign_in_with_claims(stack, idp, f"eve-{verified}", claims) == 403


def test_verified_as_a_string_is_accepted(stack: Stack, idp: str) -> None:
    claims = {"email": "cognito@example.com", "email_verified": "true"}
    assert sign_in_with_claims(stack, idp, "cognito-user", claims) == 303


def test_an_email_belongs_to_one_account(stack: Stack, idp: str) -> None:
    """A second identity claiming a colleague's address must not inherit their secrets."""
    stack.user("bob@example.com")
    claims = {"email": "bob@example.com", "email_verified": True}
    assert sign_in_with_claims(stack, idp, "mallory", claims) == 403
    # Bob himself still signs in.
    assert stack.user("bob@example.com").api("GET", "/api/v1/me").json()["email"] == (
        "bob@example.com")


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


@pytest.fixture
def stack_options(request: pytest.FixtureRequest) -> dict[str, object]:
    if request.node.name.startswith("test_unverified_email_is_accepted_when_trusted"):
        return {"oidc_require_verified_email": False}
    return {}


def test_unverified_email_is_accepted_when_trusted(stack: Stack, idp: str) -> None:
    # For IdPs that verify every address but omit the claim (and the development IdP).
    assert sign_in_with_claims(stack, idp, "plain", {"email": "plain@example.com"}) == 303


def test_session_ids_the_server_did_not_issue_are_not_adopted(stack: Stack) -> None:
    planted = "A" * 43
    response = httpx.get(f"{stack.base_url}/auth/login?next=/",
                         cookies={"cipherslip_session": planted})
    assert planted not in response.headers["set-cookie"]


def test_login_is_rate_limited_per_ip(stack: Stack) -> None:
    statuses = [httpx.get(f"{stack.base_url}/auth/login").status_code for _ in range(31)]
    assert statuses[:30] == [302] * 30 and statuses[30] == 429


def test_unreachable_identity_provider_is_a_clear_503(stack: Stack) -> None:
    unreachable = stack.settings.model_copy(update={"oidc_discovery_url": "http://127.0.0.1:1/x"})
    stack.api.app.state.oauth = create_oauth(unreachable)
    response = httpx.get(f"{stack.base_url}/auth/login")
    assert response.status_code == 503
    assert "cannot be reached" in response.text


@pytest.mark.parametrize(("claims", "email", "name"), [
    ({"email": " Ana@Partner.TEST ", "name": "Ana\r\nBcc: x@y.z"}, "ana@partner.test",
     "Ana Bcc: x@y.z"),
    ({"email": "ana@partner.test", "name": "\u202eevil\u202c \t name"}, "ana@partner.test",
     "evil name"),
    ({"email": "ana@partner.test", "name": "\r\n\t"}, "ana@partner.test", "ana@partner.test"),
])
def test_identity_provider_claims_are_cleaned_at_sign_in(
    claims: dict[str, str], email: str, name: str
) -> None:
    identity = identity_from_claims({"iss": "https://idp", "sub": "1", **claims},
                                    Settings(oidc_require_verified_email=False))
    assert (identity.email, identity.name) == (email, name)


def test_an_email_claim_that_is_no_address_is_refused() -> None:
    with pytest.raises(AccessDenied, match="cannot use"):
        identity_from_claims({"iss": "https://idp", "sub": "1", "email": "a@b@c"},
                             Settings(oidc_require_verified_email=False))


@settings(max_examples=200, deadline=None)
@given(name=st.text(), email_case=st.sampled_from(["lower", "upper"]))
def test_any_name_claim_comes_out_printable_and_bounded(name: str, email_case: str) -> None:
    email = "ana@partner.test" if email_case == "lower" else "ANA@PARTNER.TEST"
    identity = identity_from_claims({"iss": "https://idp", "sub": "1", "email": email,
                                     "name": name}, Settings(oidc_require_verified_email=False))
    assert identity.email == "ana@partner.test"
    assert 0 < len(identity.name) <= 200
    assert not any(unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp")
                   for character in identity.name)
