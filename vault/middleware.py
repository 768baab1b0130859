"""Outer layers of the vault app: access log, ``Cache-Control: no-store``, body size limit,
and a last-resort error answer.

The access log holds method, path, status and duration only: never headers (the token),
query strings or bodies (key material).
"""

from __future__ import annotations

import logging
import time
import traceback

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import PayloadTooLarge
from vault.errors import error_response

access_logger = logging.getLogger("vault.access")
error_logger = logging.getLogger("vault.error")

MAX_LOGGED_PATH = 200


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        method = str(scope["method"])
        path = str(scope["path"])[:MAX_LOGGED_PATH]
        status = 500  # what the caller sees if the app fails before answering
        response_started = False

        async def send_without_caching(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                # Every answer may carry key material or reveal state: no cache may keep it.
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self._app(scope, receive, send_without_caching)
        except Exception as exc:
            _log_unhandled(exc, method, path)
            if not response_started:
                response = error_response(500, "internal_error", "the vault failed internally")
                await response(scope, receive, send_without_caching)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s %d %.1fms",
                method,
                path,
                status,
                duration_ms,
                extra={
                    "http_method": method,
                    "http_path": path,
                    "http_status": status,
                    "duration_ms": round(duration_ms, 1),
                },
            )


def _log_unhandled(exc: Exception, method: str, path: str) -> None:
    # Where it failed, but not the exception's message: messages of validation and crypto
    # libraries can quote the values they were given.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    error_logger.error(
        "unhandled %s in %s %s (message withheld)\n%s", type(exc).__name__, method, path, frames
    )


def body_too_large(_scope: Scope, limit: int) -> ASGIApp:
    return error_response(
        413, PayloadTooLarge.code, f"the request body is larger than {limit} bytes"
    )
