"""Personal API tokens: created and listed with a signed-in browser session only (a token
never mints another), revoked by their owner — a token may revoke itself (the CLI's logout)
— or by a super admin, who also sees the tenant's list."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.schemas import CreatedTokenOut, CreateTokenBody, TokenOut
from core.errors import InsufficientScope
from core.services.api_tokens import TokenSummary
from http_layer.csrf import verify_csrf
from http_layer.deps import ApiTokensDep, Client, CurrentUser, SuperAdmin
from http_layer.tokens import token_of

router = APIRouter(prefix="/api/v1", tags=["api tokens"], dependencies=[Depends(verify_csrf)])


def token_out(summary: TokenSummary, now_state: str) -> TokenOut:
    return TokenOut(id=summary.id, name=summary.name, hint=summary.hint,
                    scopes=list(summary.scopes), owner_email=summary.owner_email,
                    state=now_state, created_at=summary.created_at,
                    expires_at=summary.expires_at, last_used_at=summary.last_used_at,
                    last_used_ip=summary.last_used_ip, revoked_at=summary.revoked_at)


@router.post("/tokens", status_code=201)
async def create_token(body: CreateTokenBody, user: CurrentUser, tokens: ApiTokensDep,
                       client: Client) -> CreatedTokenOut:
    issued = await run_in_threadpool(
        tokens.create, user, name=body.name, scopes=body.scopes,
        lifetime=timedelta(days=body.expires_in_days), client=client)
    shown = token_out(issued.summary, "active")
    return CreatedTokenOut(**shown.model_dump(), token=issued.token)


@router.get("/tokens")
async def list_tokens(user: CurrentUser, tokens: ApiTokensDep) -> list[TokenOut]:
    now = tokens.clock.now()
    return [token_out(summary, summary.state(now))
            for summary in await run_in_threadpool(tokens.list_own, user)]


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: str, request: Request, user: CurrentUser,
                       tokens: ApiTokensDep, client: Client) -> None:
    own = token_of(request)
    if own is not None and own.ref.id != token_id:
        raise InsufficientScope("a token can revoke only itself; sign in on the web to "
                                "revoke others")
    await run_in_threadpool(tokens.revoke, user, token_id, client)


@router.get("/admin/tokens")
async def tenant_tokens(admin: SuperAdmin, tokens: ApiTokensDep) -> list[TokenOut]:
    now = tokens.clock.now()
    return [token_out(summary, summary.state(now))
            for summary in await run_in_threadpool(tokens.list_tenant, admin)]
