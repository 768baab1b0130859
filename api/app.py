"""``create_app(settings)``: the api + web process. Nothing is built at import time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from api.oidc import create_oauth
from api.openapi import install_openapi
from api.routes import (
    admin,
    auth,
    cli_login,
    downloads,
    health,
    magic_links,
    metrics,
    requests,
    secrets,
    shares,
    tokens,
    users,
)
from api.schemas import COMPLETE_CONTENT_MAX_CHARS
from core.asgi import BodySizeLimitMiddleware
from core.blocking import BlockingCalls
from core.logging import configure_logging
from core.production import enforce_production
from core.services import policy
from core.services.container import Services, build_services
from core.services.uploads import MAX_PART_BYTES
from core.settings import Settings
from http_layer.access_log import AccessLogMiddleware
from http_layer.errors import (
    UnhandledErrorMiddleware,
    error_body,
    install_error_handlers,
    payload_too_large,
)
from http_layer.lean import install_lean_routes
from http_layer.security import SecurityHeadersMiddleware, content_security_policy, storage_origins
from http_layer.sessions import ServerSideSessionMiddleware
from http_layer.tokens import ApiTokenMiddleware
from web import admin_pages, cli_pages, download_pages, pages, request_pages, token_pages

# JSON bodies and forms are small: 128 recipients at 320 characters each fit in 64 KiB.
FORM_AND_JSON_LIMIT = 64 * 1024
# Completing a text carries its stream in base64url, and the sealed metadata.
COMPLETE_LIMIT = COMPLETE_CONTENT_MAX_CHARS + 8 * 1024
# A secret's, or a request's answer's (the same bodies on the request's own routes).
_CONTENT_TARGET = r"^/api/v1/(?:secrets|requests/[^/]+/answers)/[^/]+"
_COMPLETE_PATH = re.compile(_CONTENT_TARGET + r"/complete$")
_PART_PATH = re.compile(_CONTENT_TARGET + r"/parts/\d+$")


def body_limit(scope: Scope) -> int:
    if is_upload(scope):
        return COMPLETE_LIMIT
    if scope["method"] == "PUT" and _PART_PATH.match(scope["path"]):
        return MAX_PART_BYTES
    return FORM_AND_JSON_LIMIT


def is_upload(scope: Scope) -> bool:
    return scope["method"] == "POST" and bool(_COMPLETE_PATH.match(scope["path"]))


def body_too_large(scope: Scope, limit: int) -> ASGIApp:
    if is_upload(scope):
        error = policy.upload_too_large("text")
        return JSONResponse(error_body(error.code, error.message), 413)
    return payload_too_large(limit)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    services = services or build_services(settings)
    # The hot path's blocking calls (``http_layer.lean``); other routes use anyio's threads.
    blocking_calls = BlockingCalls(settings.db_pool_size, "cipherslip-hot")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in these threads, each holding at most one pooled connection: as
        # many threads as connections, so a request never waits for or opens one. The hot
        # path's own threads are as many; while both sets are busy at once, the pool lends
        # overflow connections (docs/ARCHITECTURE.md).
        to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        bolt = getattr(app.state, "bolt", None)
        if bolt is None:
            yield
        else:
            # One connection pool for every Slack call (Bolt copies it into each request's
            # client); it has to be made inside the running event loop.
            async with aiohttp.ClientSession() as slack_session:
                bolt.client.session = slack_session
                yield
        blocking_calls.close()
        services.close()

    app = FastAPI(
        title="Cipherslip", version="0.1.0", lifespan=lifespan,
        # No Swagger UI: it needs inline script and a CDN, which the CSP forbids.
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
    )
    install_openapi(app)
    app.state.settings = settings
    app.state.services = services
    app.state.blocking_calls = blocking_calls
    app.state.templates = pages.create_templates()
    app.state.oauth = create_oauth(settings)

    install_error_handlers(app)
    # Routes are tried in this order (no two routes share a method and path): the hot path's
    # lean routes, then the rest.
    install_lean_routes(app, (*secrets.LEAN_ROUTES, *pages.LEAN_ROUTES, *shares.LEAN_ROUTES))
    for router in (shares.router, pages.router, secrets.router, auth.router,
                   magic_links.router, admin.router, downloads.router, users.router,
                   tokens.router, health.router, metrics.router, download_pages.router,
                   admin_pages.router, token_pages.router, cli_pages.router,
                   cli_login.router, requests.router, request_pages.router):
        app.include_router(router)
    if settings.slack_enabled:
        # Imported here: deployments without Slack never load Bolt.
        from api.routes.slack import slack_router  # noqa: PLC0415
        from bot.app import create_bolt_app  # noqa: PLC0415

        bolt = create_bolt_app(settings, services)
        app.state.bolt = bolt
        app.include_router(slack_router(bolt, oauth=settings.slack_oauth))
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR, check_dir=False), name="static")

    # Added innermost first. Bodies are capped before a session is even loaded, and every
    # answer, the last-resort 500 included, passes through the security headers.
    app.add_middleware(ServerSideSessionMiddleware, store=services.sessions,
                       ttl_seconds=settings.session_ttl_seconds, secure=settings.secure_cookies)
    app.add_middleware(ApiTokenMiddleware, tokens=services.api_tokens,
                       rate_limiter=services.rate_limiter)
    app.add_middleware(BodySizeLimitMiddleware, limit_for=body_limit, too_large=body_too_large)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies,
                       csp=content_security_policy(storage_origins(settings)))
    app.add_middleware(AccessLogMiddleware)
    return app


def app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory``: settings from the environment."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, component="api",
                      development_warnings=settings.development_warnings)
    enforce_production(settings, "api")
    return create_app(settings)
