"""Server-side sessions as ASGI middleware.

The cookie carries only a random id; state lives in the SessionStore. ``request.session``
works as in Starlette (Authlib keeps its OIDC state there), and ``rotate_session`` issues a
new id at sign-in so a pre-login id can never be fixated onto a signed-in session.

When the store is down, requests that never touch their session (health checks, static files)
still work: a session that cannot be loaded raises ``CacheUnavailable`` when read, and one
that cannot be saved turns the answer into that 503, since a sign-in whose session was lost
must not look like a success. The cookie is left alone, so people are still signed in
once the store answers again (unless it lost its data).
"""

from __future__ import annotations

import copy
import inspect
import re
import secrets
from http.cookies import SimpleCookie
from typing import Any

from anyio import to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.cache.protocol import SessionStore
from core.errors import CacheUnavailable
from http_layer.tokens import TOKEN_PRINCIPAL

_ROTATE = "cipherslip.rotate_session"
# True while the request's session could not be loaded and nobody has answered 503 for it yet.
SESSION_UNAVAILABLE = "cipherslip.session_unavailable"
STORE_DOWN = "sessions are unavailable right now; try again shortly"
ANONYMOUS_TTL_SECONDS = 15 * 60
_VALID_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


def cookie_name(secure: bool) -> str:
    # The __Host- prefix pins the cookie to this exact origin (Secure, Path=/, no Domain).
    return "__Host-cipherslip_session" if secure else "cipherslip_session"


def rotate_session(connection: HTTPConnection) -> None:
    connection.scope[_ROTATE] = True


def require_loaded_session(connection: HTTPConnection) -> None:
    """Raise ``CacheUnavailable`` if the store could not load this request's session: who is
    asking is then unknown, and answering as if nobody were signed in would mislead."""
    _raise_if_unavailable(connection.scope)


def _raise_if_unavailable(scope: Scope) -> None:
    if scope.get(SESSION_UNAVAILABLE) is True:
        raise CacheUnavailable(STORE_DOWN)


class UnavailableSession(dict[str, Any]):
    """Stands in for a session the store could not load. Reading or changing it raises
    ``CacheUnavailable``, so whatever needs it (identity, CSRF checks, sign-in) answers 503;
    once that 503 is being rendered it is just empty."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self._scope = scope

    def _require(self) -> None:
        _raise_if_unavailable(self._scope)

    def get(self, key: str, default: Any = None) -> Any:
        self._require()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._require()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._require()
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._require()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._require()
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._require()
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._require()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._require()
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._require()
        super().clear()


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
        if TOKEN_PRINCIPAL in scope:
            # An API token request: no cookie is read or set, so nothing ambient rides on it.
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        session_id = self._read_cookie(scope)
        loaded: dict[str, Any] | None = None
        if session_id is not None:
            try:
                loaded = await self.store.load_async(session_id)
            except CacheUnavailable:
                await self._serve_without_session(scope, receive, send)
                return
            if loaded is None:
                # Never adopt an id the server did not issue (or has forgotten).
                session_id = None
        initial = copy.deepcopy(loaded or {})
        scope["session"] = loaded or {}
        replaced = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the app's own answer, which the 503 below took the place of
            if message["type"] == "http.response.start":
                try:
                    header = await self._persist(scope, session_id, initial)
                except CacheUnavailable as error:
                    replaced = True
                    await _answer_unavailable(scope, receive, send, error)
                    return
                if header is not None:
                    MutableHeaders(scope=message).append("set-cookie", header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _serve_without_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with an unavailable session; never save it, and leave the cookie
        alone so the session is still there when the store comes back."""
        scope[SESSION_UNAVAILABLE] = True
        scope["session"] = UnavailableSession(scope)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except CacheUnavailable as error:
            # Rendering the 503 as an HTML page looks up the (unavailable) signed-in user
            # again, which raises out of the error handler: answer here, as nobody.
            if started:
                raise
            await _answer_unavailable(scope, receive, send, error)

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


async def _answer_unavailable(
    scope: Scope, receive: Receive, send: Send, error: CacheUnavailable
) -> None:
    """Answer as the app's own handler for ``error`` would (JSON under /api, a page elsewhere)."""
    scope[SESSION_UNAVAILABLE] = False
    scope["session"] = {}
    request = Request(scope, receive)
    response: Response = PlainTextResponse(STORE_DOWN, 503)
    # Looked up at run time: http_layer.errors depends on http_layer.deps, which depends on
    # this module.
    handlers = getattr(scope.get("app"), "exception_handlers", {})
    for error_class in type(error).__mro__:
        handler = handlers.get(error_class)
        if handler is not None:
            answer = handler(request, error)
            response = await answer if inspect.isawaitable(answer) else answer
            break
    await response(scope, receive, send)
