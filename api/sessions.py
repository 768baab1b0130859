"""Server-side sessions as ASGI middleware.

The cookie carries only a random id; state lives in the SessionStore. ``request.session``
works as in Starlette (Authlib keeps its OIDC state there), and ``rotate_session`` issues a
new id at sign-in so a pre-login id can never be fixated onto a signed-in session.
"""

from __future__ import annotations

import copy
import re
import secrets
from http.cookies import SimpleCookie
from typing import Any

from anyio import to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.sessions.protocol import SessionStore

_ROTATE = "cipherslip.rotate_session"
ANONYMOUS_TTL_SECONDS = 15 * 60
_VALID_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


def cookie_name(secure: bool) -> str:
    # The __Host- prefix pins the cookie to this exact origin (Secure, Path=/, no Domain).
    return "__Host-cipherslip_session" if secure else "cipherslip_session"


def rotate_session(connection: HTTPConnection) -> None:
    connection.scope[_ROTATE] = True


class ServerSideSessionMiddleware:
    def __init__(self, app: ASGIApp, store: SessionStore, *, ttl_seconds: int, secure: bool):
        self.app = app
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.secure = secure
        self.cookie = cookie_name(secure)

    def _read_cookie(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:
                    return None
                morsel = jar.get(self.cookie)
                if morsel is not None and _VALID_ID.fullmatch(morsel.value):
                    return morsel.value
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = self._read_cookie(scope)
        loaded: dict[str, Any] | None = None
        if session_id is not None:
            loaded = await to_thread.run_sync(self.store.load, session_id)
            if loaded is None:
                # Never adopt an id the server did not issue (or has forgotten).
                session_id = None
        initial = copy.deepcopy(loaded or {})
        scope["session"] = loaded or {}

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = await self._persist(scope, session_id, initial)
                if header is not None:
                    MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _persist(
        self, scope: Scope, session_id: str | None, initial: dict[str, Any]
    ) -> str | None:
        state: dict[str, Any] = scope["session"]
        rotate = bool(scope.get(_ROTATE))
        if state == initial and not rotate:
            return None
        if session_id is not None and (rotate or not state):
            await to_thread.run_sync(self.store.delete, session_id)
        if not state:
            return self._cookie_header("", max_age=0) if session_id is not None else None
        if session_id is None or rotate:
            session_id = secrets.token_urlsafe(32)
        # State of someone not signed in (a login in progress, a visitor's CSRF token) is
        # only needed for minutes; keeping it for hours would let anyone fill the store.
        signed_in = "user" in state or "guest" in state
        ttl = self.ttl_seconds if signed_in else min(self.ttl_seconds, ANONYMOUS_TTL_SECONDS)
        await to_thread.run_sync(self.store.save, session_id, state, ttl)
        return self._cookie_header(session_id, max_age=ttl)

    def _cookie_header(self, value: str, *, max_age: int) -> str:
        parts = [f"{self.cookie}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly",
                 "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
