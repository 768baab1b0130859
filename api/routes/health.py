"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from core.errors import CipherslipError
from http_layer.deps import ReadinessChecksDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(checks: ReadinessChecksDep) -> JSONResponse:
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await run_in_threadpool(check)
            results[name] = "ok"
        except (CipherslipError, SQLAlchemyError, OSError):
            results[name] = "unavailable"
    ready = all(result == "ok" for result in results.values())
    return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)
