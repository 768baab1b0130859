"""Turning errors into clear answers: JSON under /api, an HTML page elsewhere."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import errors
from core.db.engine import database_unreachable
from core.refusals import as_sentence, public_message
from core.services.audit_filter import FilterError
from http_layer.deps import principal_of
from http_layer.rendering import render

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[errors.CipherslipError], int]] = [
    (FilterError, 400),  # "malformed", per the audit filter contract
    (errors.InvalidShareCode, 404),
    (errors.InvalidInput, 422),
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.AuthenticationRequired, 401),
    (errors.CsrfFailure, 403),
    (errors.AccessDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.SecretUnavailable, 410),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
    (errors.VaultRejected, 502),
    (errors.IdentityProviderUnavailable, 503),
    (errors.CryptoError, 400),
]


def status_for(error: errors.CipherslipError) -> int:
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 400


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, request.app.state.templates, "error.html",
                  principal_of(request), status, title=title, message=as_sentence(message))


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.CipherslipError)
    status = status_for(exc)
    headers = {}
    if isinstance(exc, errors.RateLimited):
        headers["retry-after"] = str(exc.retry_after)
    if isinstance(exc, errors.ServiceUnavailable):
        headers["retry-after"] = str(errors.RETRY_AFTER_SECONDS)
        log.warning("dependency unavailable: %s: %s", exc.code, exc.message)
    if isinstance(exc, errors.VaultRejected):
        # The vault's own words can describe our internals: keep them in the log.
        log.error("the vault refused a request: %s", exc.vault_code)
    if public_message(exc) != exc.message:
        exc = type(exc)(public_message(exc))
    if is_api(request):
        extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
        if isinstance(exc, errors.SecretUnavailable):
            extra["status"] = exc.status
        if isinstance(exc, FilterError):
            extra["position"] = exc.position  # 0-based: where the filter went wrong
        return JSONResponse(error_body(exc.code, exc.message, **extra), status, headers=headers)
    if isinstance(exc, errors.AuthenticationRequired):
        # Back to where the person was: a page can be asked for again, a form post cannot.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method not in ("GET", "HEAD"):
            target = "/"
        return RedirectResponse(f"/auth/login?next={quote(target, safe='/')}", 303)
    return _page(request, status, exc.code.replace("_", " ").capitalize(), exc.message)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for problem in exc.errors():
        location = [str(part) for part in problem.get("loc", ()) if part != "body"]
        problems.append({"field": ".".join(location), "message": problem.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    body = error_body("invalid_input", message, field=first["field"] or None, problems=problems)
    if is_api(request):
        return JSONResponse(body, 422)
    return _page(request, 422, "Invalid request", message)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail) if exc.detail else "error"
    if is_api(request):
        return JSONResponse(error_body("http_error", message), exc.status_code,
                            headers=exc.headers)
    titles = {404: "Not found", 405: "Method not allowed"}
    return _page(request, exc.status_code, titles.get(exc.status_code, "Error"), message)


class UnhandledErrorMiddleware:
    """The last-resort 500, answered inside the security-headers layer (Starlette's own
    handler for ``Exception`` sits outside every middleware, so its answers would go out
    without CSP or no-store)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # The formatter withholds the exception's text: it could echo request content.
            log.exception("unhandled %s on %s", type(exc).__name__, scope["path"])
            if started:
                raise
            body = error_body("internal_error", "something went wrong; please try again")
            await JSONResponse(body, 500)(scope, receive, send)


def payload_too_large(limit: int) -> ASGIApp:
    return JSONResponse(
        error_body(errors.PayloadTooLarge.code, f"the request body is larger than {limit} bytes"),
        413,
    )


DATABASE_REFUSED_VALUE = ("a value in this request cannot be stored or searched for (a NUL "
                          "character, or a number out of range)")
DATABASE_DOWN = ("The database cannot be reached right now; nothing was changed. Try again in "
                 "a minute.")


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """The database is down, restarting or out of connections (SQLAlchemy's errors of that
    kind): a 503 like any other dependency's. A value the database refuses (a NUL character,
    a number out of its range) is the caller's: 422, nothing stored. Other database errors
    are bugs: 500."""
    if isinstance(exc, sa_exc.DataError):
        return await handle_domain_error(request, errors.InvalidInput(DATABASE_REFUSED_VALUE))
    if not database_unreachable(exc):
        raise exc
    # The pool already dropped the broken connection; the next checkout reconnects.
    return await handle_domain_error(request, errors.DatabaseUnavailable(DATABASE_DOWN))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.CipherslipError, handle_domain_error)
    app.add_exception_handler(sa_exc.DBAPIError, handle_database_error)
    app.add_exception_handler(sa_exc.TimeoutError, handle_database_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_error)
