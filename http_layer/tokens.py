"""Bearer API tokens on the same routes as the browser's session.

A request with ``Authorization: Bearer <token>`` is authenticated here, before the session
middleware, which then neither reads nor sets a cookie for it: a token request carries no
ambient credential, so CSRF does not apply to it. What it may do is decided per route by
``ROUTE_SCOPES``, the one table of them; a route that is not listed is closed to tokens
(token management and the admin console's changes among them).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from core.cache.protocol import RateLimiter
from core.db.engine import database_unreachable
from core.errors import (
    RETRY_AFTER_SECONDS,
    CacheUnavailable,
    DatabaseUnavailable,
    InsufficientScope,
    InvalidToken,
    RateLimited,
)
from core.services.api_tokens import (
    AUDIT_READ,
    READ,
    REVEAL,
    WRITE,
    ApiTokenService,
    TokenPrincipal,
)

TOKEN_PRINCIPAL = "cipherslip.api_token"  # noqa: S105 - a scope key, not a password
ANY_SCOPE = ""
# Requests per minute per token: generous for CI, a ceiling for a leaked token.
TOKEN_RATE_PER_MINUTE = 600

ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/secrets"): WRITE,
    ("PUT", "/api/v1/secrets/{secret_id}/parts/{part_number}"): WRITE,
    ("POST", "/api/v1/secrets/{secret_id}/parts/urls"): WRITE,
    ("DELETE", "/api/v1/secrets/{secret_id}"): WRITE,
    ("POST", "/api/v1/secrets/{secret_id}/complete"): WRITE,
    ("POST", "/api/v1/secrets/{secret_id}/revoke"): WRITE,
    ("GET", "/api/v1/users"): WRITE,  # finding recipients
    ("GET", "/api/v1/secrets"): READ,
    ("GET", "/api/v1/secrets/{secret_id}"): READ,
    ("GET", "/api/v1/shares/{share_code}"): REVEAL,
    ("POST", "/api/v1/shares/{share_code}/reveal"): REVEAL,
    ("GET", "/api/v1/downloads/{token}"): REVEAL,
    ("POST", "/api/v1/requests"): WRITE,
    ("POST", "/api/v1/requests/{request_id}/open"): WRITE,
    ("GET", "/api/v1/requests"): READ,
    ("GET", "/api/v1/requests/{request_code}"): READ,
    ("POST", "/api/v1/requests/{request_code}/answer"): WRITE,
    ("POST", "/api/v1/requests/{request_code}/cancel"): WRITE,
    ("PUT", "/api/v1/requests/{request_code}/answers/{secret_id}/parts/{part_number}"): WRITE,
    ("POST", "/api/v1/requests/{request_code}/answers/{secret_id}/parts/urls"): WRITE,
    ("POST", "/api/v1/requests/{request_code}/answers/{secret_id}/complete"): WRITE,
    ("GET", "/api/v1/admin/audit"): AUDIT_READ,
    ("GET", "/api/v1/admin/audit/export"): AUDIT_READ,
    ("GET", "/api/v1/me"): ANY_SCOPE,
    ("DELETE", "/api/v1/tokens/{token_id}"): ANY_SCOPE,  # a token may revoke itself (logout)
}


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            header: str = value.decode("latin-1")
            kind, _, credential = header.partition(" ")
            if kind.lower() == "bearer":
                return credential.strip()
    return None


def token_of(connection: HTTPConnection) -> TokenPrincipal | None:
    token = connection.scope.get(TOKEN_PRINCIPAL)
    return token if isinstance(token, TokenPrincipal) else None


def authorize_route(connection: HTTPConnection, token: TokenPrincipal) -> None:
    """May this token use the route the request was routed to?"""
    route = connection.scope.get("route")
    path = getattr(route, "path", None)
    method = connection.scope.get("method", "GET")
    needed = ROUTE_SCOPES.get((method, path or ""))
    if needed is None:
        raise InsufficientScope("API tokens cannot be used here; sign in on the web instead")
    if needed != ANY_SCOPE and needed not in token.scopes:
        raise InsufficientScope(f"this token lacks the {needed} scope")


class ApiTokenMiddleware:
    def __init__(self, app: ASGIApp, tokens: ApiTokenService, rate_limiter: RateLimiter) -> None:
        self.app = app
        self.tokens = tokens
        self.rate_limiter = rate_limiter

    def _authenticate(self, credential: str, ip: str | None) -> TokenPrincipal:
        """The token's principal, within its rate limit (one thread hop for both)."""
        token = self.tokens.authenticate(credential, ip)
        decision = self.rate_limiter.hit(f"api_token:{token.ref.id}",
                                         limit=TOKEN_RATE_PER_MINUTE, window_seconds=60)
        if not decision.allowed:
            raise RateLimited("this token made too many requests; slow down",
                              retry_after=decision.retry_after)
        return token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The JSON API only: /metrics has a bearer token of its own (the scraper's).
        credential = (bearer_token(scope) if scope["type"] == "http"
                      and scope["path"].startswith("/api/") else None)
        if credential is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ip = client[0] if client else None
        try:
            token = await run_in_threadpool(self._authenticate, credential, ip)
        except InvalidToken as refused:
            await _answer(send, 401, refused.code, refused.message,
                          {"www-authenticate": 'Bearer error="invalid_token"'})
            return
        except RateLimited as limited:
            await _answer(send, 429, limited.code, limited.message,
                          {"retry-after": str(limited.retry_after)})
            return
        except CacheUnavailable as down:
            await _answer(send, 503, down.code, "the cache cannot be reached right now; try "
                          "again in a minute", {"retry-after": str(RETRY_AFTER_SECONDS)})
            return
        except Exception as error:
            if not database_unreachable(error):
                raise
            await _answer(send, 503, DatabaseUnavailable.code, "the database cannot be "
                          "reached right now; try again in a minute",
                          {"retry-after": str(RETRY_AFTER_SECONDS)})
            return
        scope[TOKEN_PRINCIPAL] = token
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, code: str, message: str,
                  headers: dict[str, str]) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    raw: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"),
                                     (b"content-length", str(len(body)).encode()),
                                     (b"cache-control", b"no-store")]
    raw += [(name.encode(), value.encode()) for name, value in headers.items()]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": raw}
    await send(start)
    await send({"type": "http.response.body", "body": body})
