"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from core.errors import CipherslipError
from http_layer.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    def check_database() -> None:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    checks = {
        "database": check_database,
        "blob_store": services.blob_store.check_ready,
        "vault": services.vault.check_ready,
        "cache": services.cache.check_ready,
    }
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await run_in_threadpool(check)
            results[name] = "ok"
        except (CipherslipError, SQLAlchemyError, OSError):
            results[name] = "unavailable"
    ready = all(result == "ok" for result in results.values())
    return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)
