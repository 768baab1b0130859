"""Every state-changing route refuses requests without the session's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Route

from http_layer.sessions import cookie_name
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def api_routes(routes: list[Any]) -> list[Route]:
    """Every route (FastAPI's and the lean ones), also inside included routers (FastAPI >=
    0.16x wraps them)."""
    found: list[Route] = []
    for route in routes:
        if isinstance(route, Route):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def unsafe_routes(stack: Stack) -> list[tuple[str, str]]:
    found = []
    for route in api_routes(stack.api.app.routes):
        for method in sorted((route.methods or set()) & UNSAFE):
            path = re.sub(r"\{share_code\}", "ABCD-EFGH-JKMN",
                          re.sub(r"\{(?!share_code)[a-z_]+\}",
                                 "00000000-0000-4000-8000-000000000000", route.path))
            found.append((method, path))
    return found


def test_there_are_unsafe_routes_to_check(stack: Stack) -> None:
    routes = unsafe_routes(stack)
    assert ("POST", "/api/v1/secrets") in routes
    assert ("POST", "/auth/logout") in routes
    assert len(routes) >= 6


# Routes that read no session, so a forged request carries nothing of the victim's: the
# CLI's code exchange is authenticated by its one-time code and PKCE verifier alone.
NO_SESSION_ROUTES = {("POST", "/api/v1/cli/token")}


def test_every_unsafe_route_requires_the_token(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    for method, path in unsafe_routes(stack):
        if (method, path) in NO_SESSION_ROUTES:
            continue
        response = alice.http.request(method, path, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert "CSRF" in response.text, (method, path)


def test_origin_null_from_our_own_forms_is_accepted_with_the_token(stack: Stack) -> None:
    """What Chrome sends for a same-origin form POST under Referrer-Policy: no-referrer."""
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    response = alice.http.post(f"/secrets/{link.secret_id}/revoke",
                               data={"csrf_token": alice.csrf},
                               headers={"origin": "null", "sec-fetch-site": "same-origin"})
    assert response.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [{"x-csrf-token": "wrong"}, {"origin": "https://evil.example"},
     {"sec-fetch-site": "cross-site"}, {"origin": "null", "sec-fetch-site": "cross-site"}],
    ids=["wrong token", "foreign origin", "cross-site fetch", "null origin, cross-site"],
)
def test_forged_requests_are_refused_and_change_nothing(
    stack: Stack, headers: dict[str, str]
) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("keep me", ["bob@example.com"])
    response = alice.http.post(f"/api/v1/secrets/{link.secret_id}/revoke",
                               headers={"x-csrf-token": alice.csrf, **headers})
    assert response.status_code == 403
    status = alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()["status"]
    assert status == "active"


def test_an_ended_session_is_sent_to_sign_in_not_round_in_circles(stack: Stack) -> None:
    alice = stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    # The session store lost everything (an expiry, a Redis restart without persistence).
    session_id = alice.http.cookies[cookie_name(stack.settings.secure_cookies)]
    stack.services.sessions.delete(session_id)
    response = alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Your session ended — sign in again"
    page = alice.http.post(f"/secrets/{link.secret_id}/revoke", data={"csrf_token": "stale"},
                           follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/auth/login?next=/"
