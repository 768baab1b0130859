"""Service authentication: only the api, holding the shared bearer token, may use ``/v1``.

Checked in ASGI middleware rather than a FastAPI dependency so that an unauthenticated
caller is refused before its body is read or validated: it learns nothing but 401.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import AuthenticationRequired
from vault.errors import VaultConfigurationError, error_response

MIN_TOKEN_LENGTH = 32
PROTECTED_PREFIX = "/v1/"


def require_strong_token(token: str) -> bytes:
    """The token as bytes, or :class:`VaultConfigurationError` if it is missing or guessable."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise VaultConfigurationError(
            f"CIPHERSLIP_VAULT_TOKEN must be a random secret of at least {MIN_TOKEN_LENGTH} "
            "characters shared with the api only (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`); "
            "the vault refuses to start without it"
        )
    # It travels in an HTTP header, so it must be plain visible ASCII.
    if not (token.isascii() and token.isprintable()) or any(char.isspace() for char in token):
        raise VaultConfigurationError(
            "CIPHERSLIP_VAULT_TOKEN must consist of visible ASCII characters without spaces"
        )
    return token.encode("ascii")


def presented_token(headers: Headers) -> bytes | None:
    values = headers.getlist("authorization")
    if len(values) != 1:
        return None
    scheme, _, credentials = values[0].partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip().encode("latin-1")


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, *, token: bytes) -> None:
        self._app = app
        self._token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PROTECTED_PREFIX):
            await self._app(scope, receive, send)
            return
        candidate = presented_token(Headers(scope=scope))
        # compare_digest takes time independent of where the first difference is.
        if candidate is None or not hmac.compare_digest(candidate, self._token):
            response = error_response(
                401,
                AuthenticationRequired.code,
                "a valid vault bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)
