"""The vault's ASGI application.

Nothing happens at import time: ``create_vault_app`` builds an app from explicit settings
(tests, embedding), ``app_from_env`` reads the environment for
``uvicorn --factory vault.app:app_from_env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from core.asgi import BodySizeLimitMiddleware
from core.blocking import BlockingCalls
from core.logging import configure_logging, quiet_vendor_loggers
from core.production import enforce_production
from core.settings import Settings
from vault.auth import BearerTokenMiddleware, require_strong_token
from vault.errors import install_error_handlers
from vault.kms.factory import create_kms
from vault.kms.protocol import KeyManagementService
from vault.middleware import AccessLogMiddleware, body_too_large
from vault.routes import data_key_routes, health_router

# The largest legitimate request (an unseal with a maximal KMS ciphertext) is under 9 KiB.
MAX_BODY_BYTES = 16 * 1024
KMS_THREADS = 10


def create_vault_app(settings: Settings, *, kms: KeyManagementService | None = None) -> FastAPI:
    """Build the vault; raise ``VaultConfigurationError`` or ``KmsError`` if it must not start."""
    token = require_strong_token(settings.vault_token)
    quiet_vendor_loggers()
    key_service = kms if kms is not None else create_kms(settings)
    # As many threads as the KMS client keeps connections (boto3's default pool is 10).
    calls = BlockingCalls(KMS_THREADS, "cipherslip-vault")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        calls.close()
        close = getattr(key_service, "close", None)
        if kms is None and callable(close):  # close only what this app created
            close()

    app = FastAPI(
        title="Cipherslip vault",
        lifespan=lifespan,
        # The vault is an internal service; it publishes no schema or docs pages.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    # The key routes first: they are what every create and reveal asks for.
    app.router.routes[0:0] = data_key_routes(key_service, calls)
    app.include_router(health_router(key_service))
    install_error_handlers(app)
    # add_middleware puts each new layer outside the previous ones: the access log sees
    # every answer, and authentication runs before any body is read.
    app.add_middleware(BodySizeLimitMiddleware, limit_for=lambda _scope: MAX_BODY_BYTES,
                       too_large=body_too_large)
    app.add_middleware(BearerTokenMiddleware, token=token)
    app.add_middleware(AccessLogMiddleware)
    return app


def app_from_env() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, component="vault",
                      development_warnings=settings.development_warnings)
    enforce_production(settings, "vault")
    return create_vault_app(settings)
