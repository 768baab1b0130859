"""/api/v1/shares/{code}: what a recipient sees, and the reveal (a POST: it consumes a view)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.csrf import verify_csrf
from api.deps import Client, CurrentUser, ServicesDep
from api.schemas import RevealBody, RevealedOut, ShareOut
from core.crypto.encoding import b64url_decode, b64url_encode

router = APIRouter(prefix="/api/v1/shares", tags=["shares"], dependencies=[Depends(verify_csrf)])


@router.get("/{share_code}")
def share(share_code: str, user: CurrentUser, services: ServicesDep, client: Client) -> ShareOut:
    preview = services.reveal.preview(user, share_code, client)
    return ShareOut.model_validate(preview, from_attributes=True)


@router.post("/{share_code}/reveal")
def reveal(
    share_code: str, body: RevealBody, user: CurrentUser, services: ServicesDep, client: Client
) -> RevealedOut:
    public_key = b64url_decode(body.public_key, field="public_key")
    revealed = services.reveal.reveal(user, share_code, public_key, client)
    return RevealedOut(
        secret_id=revealed.secret_id, sealed_key=b64url_encode(revealed.sealed_key),
        sealed_meta=b64url_encode(revealed.sealed_meta), content=b64url_encode(revealed.content),
        views_left=revealed.views_left, burned=revealed.burned,
    )
