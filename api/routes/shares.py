"""/api/v1/shares/{code}: what a recipient sees, and the reveal (a POST: it consumes a view; a
lean route, ``http_layer.lean``)."""

from __future__ import annotations

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.schemas import MagicLinkBody, MagicLinkRequestedOut, RevealBody, RevealedOut, ShareOut
from core.asgi import json_answer, json_body
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    Client,
    CurrentViewer,
    MagicLinksDep,
    RevealDep,
    blocking_calls,
    client_info,
    require_viewer,
    reveal_service,
)
from http_layer.lean import LeanRoute

router = APIRouter(prefix="/api/v1/shares", tags=["shares"], dependencies=[Depends(verify_csrf)])


# ``async`` with the service call in one worker thread: a plain ``def`` route would also
# validate its answer in a second thread hop.
@router.get("/{share_code}")
async def share(
    share_code: str, viewer: CurrentViewer, reveals: RevealDep, client: Client
) -> ShareOut:
    preview = await run_in_threadpool(reveals.preview, viewer, share_code, client)
    return ShareOut(
        secret_id=preview.secret_id, share_code=preview.share_code, status=preview.status,
        label=preview.label,
        creator_name=preview.creator_name, creator_email=preview.creator_email,
        expires_at=preview.expires_at, views_left=preview.views_left,
        secret_type=preview.secret_type,
        key_check=b64url_encode(preview.key_check) if preview.key_check is not None else None,
    )


async def reveal(request: Request) -> Response:
    """Reveal: consumes a view, and answers with the data key sealed to the caller's one-time
    public key, the sealed metadata and the ciphertext (a file: a download URL)."""
    await verify_csrf(request)
    viewer = await require_viewer(request)
    body = await json_body(request, RevealBody)
    client = await client_info(request)
    reveals = await reveal_service(request)
    calls = await blocking_calls(request)
    public_key = b64url_decode(body.public_key, field="public_key")
    key_check = (b64url_decode(body.key_check, field="key_check")
                 if body.key_check is not None else None)
    revealed = await calls.run(reveals.reveal, viewer, request.path_params["share_code"],
                               public_key, client, key_check)
    return json_answer(RevealedOut(
        secret_id=revealed.secret_id, sealed_key=b64url_encode(revealed.sealed_key),
        sealed_meta=b64url_encode(revealed.sealed_meta),
        content=b64url_encode(revealed.content) if revealed.content is not None else None,
        download_url=revealed.download_url, content_size=revealed.content_size,
        views_left=revealed.views_left, burned=revealed.burned,
    ))


LEAN_ROUTES = (
    LeanRoute(method="POST", path="/api/v1/shares/{share_code}/reveal", endpoint=reveal,
              body=RevealBody, answer=RevealedOut, tags=("shares",)),
)


@router.post("/{share_code}/magic-link", status_code=202)
def request_magic_link(
    share_code: str, body: MagicLinkBody, magic_links: MagicLinksDep, client: Client
) -> MagicLinkRequestedOut:
    email = magic_links.request(share_code, body.email, client)
    return MagicLinkRequestedOut(
        message=f"If {email} may open this secret, a sign-in link is on its way. It works "
                "once, for 15 minutes. Keep this page open: it holds the secret's key.",
    )
