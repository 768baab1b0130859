"""The vault's ASGI application.

Nothing happens at import time: ``create_vault_app`` builds an app from explicit settings
(tests, embedding), ``app_from_env`` reads the environment for
``uvicorn --factory vault.app:app_from_env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from core.asgi import BodySizeLimitMiddleware
from core.blocking import BlockingCalls
from core.logging import configure_logging, quiet_vendor_loggers
from core.production import enforce_production
from core.settings import Settings
from vault.auth import BearerTokenMiddleware, require_strong_token
from vault.errors import EXCEPTION_HANDLERS
from vault.kms.factory import create_kms
from vault.kms.protocol import KeyManagementService
from vault.middleware import AccessLogMiddleware, body_too_large
from vault.routes import data_key_routes, health_routes

# The largest legitimate request (an unseal with a maximal KMS ciphertext) is under 9 KiB.
MAX_BODY_BYTES = 16 * 1024
KMS_THREADS = 10


def create_vault_app(settings: Settings, *, kms: KeyManagementService | None = None) -> Starlette:
    """Build the vault; raise ``VaultConfigurationError`` or ``KmsError`` if it must not start.

    A plain Starlette app: the vault has four routes and publishes no schema, and FastAPI's
    per-request work (its router, its telemetry check) cost CPU on every key of every reveal.
    """
    token = require_strong_token(settings.vault_token)
    quiet_vendor_loggers()
    key_service = kms if kms is not None else create_kms(settings)
    # As many threads as the KMS client keeps connections (boto3's default pool is 10).
    calls = BlockingCalls(KMS_THREADS, "cipherslip-vault")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        calls.close()
        close = getattr(key_service, "close", None)
        if kms is None and callable(close):  # close only what this app created
            close()

    return Starlette(
        # The key routes first: they are what every create and reveal asks for.
        routes=[*data_key_routes(key_service, calls), *health_routes(key_service)],
        # Outermost first: the access log sees every answer, and authentication runs before
        # any body is read.
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(BearerTokenMiddleware, token=token),
            Middleware(BodySizeLimitMiddleware, limit_for=lambda _scope: MAX_BODY_BYTES,
                       too_large=body_too_large),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, component="vault",
                      development_warnings=settings.development_warnings)
    enforce_production(settings, "vault")
    return create_vault_app(settings)
