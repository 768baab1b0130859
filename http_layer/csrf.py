"""CSRF protection for every state change: a per-session token plus same-origin checks."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from core.errors import AuthenticationRequired, CsrfFailure
from http_layer.tokens import token_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"
SESSION_ENDED = "Your session ended — sign in again"


def csrf_token(request: Request) -> str:
    """The session's token, created on first use (pages embed it for forms and fetch)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def verify_csrf(request: Request) -> None:
    """Router dependency: unsafe methods need the session's token and a same-site origin."""
    if request.method in SAFE_METHODS or token_of(request) is not None:
        # A token request carries no cookie the browser would add on its own.
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailure("cross-site requests cannot change anything")
    origin = request.headers.get("origin")
    base_url: str = request.app.state.settings.base_url
    # Under `Referrer-Policy: no-referrer` browsers send "Origin: null" even for our own
    # forms; that says nothing either way, so the token (and Sec-Fetch-Site) decide.
    if origin not in (None, "null") and origin != _origin(base_url):
        raise CsrfFailure(f"requests must come from {_origin(base_url)}")
    expected = request.session.get("csrf")
    if not isinstance(expected, str):
        # No session any more (it expired, or the store lost it): a token cannot match, and
        # "reload the page" would only go round in circles.
        raise AuthenticationRequired(SESSION_ENDED)
    provided = request.headers.get(HEADER)
    # Pages post forms; the JSON API takes the header only (never parse an API body here).
    is_api = request.url.path.startswith("/api/")
    if provided is None and not is_api and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form()
        field = form.get(FORM_FIELD)
        provided = field if isinstance(field, str) else None
    if not provided or not hmac.compare_digest(
        expected.encode(), provided.encode()
    ):
        raise CsrfFailure("missing or invalid CSRF token; reload the page and try again")
