"""/metrics for Prometheus: counters, the reveal latency histogram and the purge lag."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from http_layer.deps import (
    MetricsDep,
    SettingsDep,
)

router = APIRouter(tags=["operations"], include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, metrics: MetricsDep, settings: SettingsDep) -> Response:
    expected = settings.metrics_token
    if expected:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            # A scraper, not a person: no sign-in redirect, just the challenge.
            return Response("a metrics token is required\n", status_code=401,
                            media_type="text/plain", headers={"www-authenticate": "Bearer"})
    # The purge-lag gauge queries the database: not on the event loop.
    body = await run_in_threadpool(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
