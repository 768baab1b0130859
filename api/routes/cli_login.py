"""The CLI trades its one-time code (and PKCE verifier) for an API token. No session and no
CSRF: the code, the verifier and the loopback address are the credential."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.routes.tokens import token_out
from api.schemas import CliTokenBody, CreatedTokenOut
from core.errors import RateLimited
from http_layer.deps import Client, CliLoginDep, RateLimiterDep

router = APIRouter(prefix="/api/v1/cli", tags=["api tokens"])
EXCHANGES_PER_IP_PER_MINUTE = 20


@router.post("/token", status_code=201)
async def exchange_code(body: CliTokenBody, cli_login: CliLoginDep,
                        rate_limiter: RateLimiterDep, client: Client) -> CreatedTokenOut:
    decision = await run_in_threadpool(rate_limiter.hit, f"cli-token:ip:{client.ip}",
                                       limit=EXCHANGES_PER_IP_PER_MINUTE, window_seconds=60)
    if not decision.allowed:
        raise RateLimited("too many sign-in attempts; wait a minute",
                          retry_after=decision.retry_after)
    issued = await run_in_threadpool(
        cli_login.exchange, code=body.code, code_verifier=body.code_verifier,
        redirect_uri=body.redirect_uri, client=client)
    shown = token_out(issued.summary, "active")
    return CreatedTokenOut(**shown.model_dump(), token=issued.token)
