"""``create_app(settings)``: the api + web process. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.access_log import AccessLogMiddleware
from api.errors import install_error_handlers
from api.oidc import create_oauth
from api.routes import auth, health, magic_links, secrets, shares, users
from api.security import SecurityHeadersMiddleware
from api.sessions import ServerSideSessionMiddleware
from core.logging import configure_logging
from core.services.container import Services, build_services
from core.settings import Settings
from web import pages


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="Cipherslip", version="0.1.0", lifespan=lifespan,
        # No Swagger UI: it needs inline script and a CDN, which the CSP forbids.
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.services = services
    app.state.templates = pages.create_templates()
    app.state.oauth = create_oauth(settings)

    install_error_handlers(app)
    for router in (auth.router, secrets.router, shares.router, magic_links.router,
                   users.router, health.router, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR, check_dir=False), name="static")

    # Outermost last: access log wraps headers, which wrap sessions.
    app.add_middleware(ServerSideSessionMiddleware, store=services.sessions,
                       ttl_seconds=settings.session_ttl_seconds, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(AccessLogMiddleware)
    return app


def app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory``: settings from the environment."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, component="api")
    return create_app(settings)
