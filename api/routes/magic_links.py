"""/api/v1/magic-links/consume: an external recipient confirms a sign-in link (once)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.schemas import ConsumedLinkOut, ConsumeLinkBody
from http_layer.csrf import csrf_token, verify_csrf
from http_layer.deps import (
    Client,
    MagicLinksDep,
    guest_of,
)
from http_layer.sessions import rotate_session

router = APIRouter(prefix="/api/v1/magic-links", tags=["magic links"],
                   dependencies=[Depends(verify_csrf)])


@router.post("/consume")
def consume(
    body: ConsumeLinkBody, request: Request, magic_links: MagicLinksDep, client: Client
) -> ConsumedLinkOut:
    # Read the session first: if its store is down this answers 503 before the link is spent.
    previous = guest_of(request)
    confirmed = magic_links.consume(body.token, client)
    secret_ids = {confirmed.secret_id} if confirmed.secret_id else set()
    request_ids = {confirmed.request_id} if confirmed.request_id else set()
    if previous is not None and (previous.tenant_id, previous.email) == (
        confirmed.tenant_id, confirmed.email
    ):
        secret_ids |= previous.secret_ids
        request_ids |= previous.request_ids
    # A fresh session that proves this email for these secrets (and requests), nothing else.
    request.session.clear()
    request.session["guest"] = {"tenant_id": confirmed.tenant_id, "email": confirmed.email,
                                "secret_ids": sorted(secret_ids),
                                "request_ids": sorted(request_ids)}
    csrf_token(request)
    rotate_session(request)
    return ConsumedLinkOut(next=confirmed.next_path)
