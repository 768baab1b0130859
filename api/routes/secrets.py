"""/api/v1/secrets: a creator creates, uploads, completes, lists, inspects and revokes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.csrf import verify_csrf
from api.deps import Client, CurrentUser, ServicesDep
from api.schemas import (
    ActivityOut,
    CompleteBody,
    CompletedOut,
    CreatedSecretOut,
    CreateSecretBody,
    SecretDetailOut,
    SecretOut,
)
from core.crypto.encoding import b64url_decode, b64url_encode
from core.errors import CipherslipError, UnsupportedMediaType
from core.services import policy

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"],
                   dependencies=[Depends(verify_csrf)])


@router.post("", status_code=201)
def create_secret(
    body: CreateSecretBody, user: CurrentUser, services: ServicesDep
) -> CreatedSecretOut:
    created = services.sharing.create(
        user,
        policy.NewSecretRequest(
            audience=body.audience, recipients=body.recipients, format=body.format,
            label=body.label, expires_in_seconds=body.expires_in_seconds,
            view_limit=body.view_limit,
            public_key=b64url_decode(body.public_key, field="public_key"),
        ),
    )
    base = f"/api/v1/secrets/{created.secret_id}"
    return CreatedSecretOut(
        id=created.secret_id, share_code=created.share_code, share_url=created.share_url,
        sealed_key=b64url_encode(created.sealed_key), expires_at=created.expires_at,
        upload_url=f"{base}/content", complete_url=f"{base}/complete",
        max_upload_bytes=created.max_upload_bytes,
    )


async def read_body(request: Request, limit: int, too_large: CipherslipError) -> bytes:
    """The request body, refused as soon as it passes ``limit`` (never buffered beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise too_large
    return bytes(received)


@router.put("/{secret_id}/content", status_code=204)
async def upload_content(
    secret_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/octet-stream":
        raise UnsupportedMediaType("upload the encrypted content as application/octet-stream")
    stream = await read_body(request, policy.max_upload_bytes("text"),
                             policy.upload_too_large("text"))
    await run_in_threadpool(services.sharing.upload_content, user, secret_id, stream)
    return Response(status_code=204)


@router.post("/{secret_id}/complete")
def complete(
    secret_id: str, body: CompleteBody, user: CurrentUser, services: ServicesDep, client: Client
) -> CompletedOut:
    sealed_meta = b64url_decode(body.sealed_meta, field="sealed_meta")
    secret = services.sharing.complete(user, secret_id, sealed_meta, client)
    return CompletedOut(
        id=secret.id, share_code=secret.share_code, status=secret.status,
        share_url=f"{services.settings.base_url}/s/{secret.share_code}",
    )


@router.get("")
def list_secrets(
    user: CurrentUser, services: ServicesDep, status: str = "active"
) -> list[SecretOut]:
    return [SecretOut.of(summary) for summary in services.manage.list_own(user, status)]


@router.get("/{secret_id}")
def secret_detail(secret_id: str, user: CurrentUser, services: ServicesDep) -> SecretDetailOut:
    detail = services.manage.detail_own(user, secret_id)
    return SecretDetailOut(
        **SecretOut.of(detail.summary).model_dump(),
        share_url=detail.share_url,
        activity=[ActivityOut.model_validate(event, from_attributes=True)
                  for event in detail.activity],
    )


@router.post("/{secret_id}/revoke")
def revoke(secret_id: str, user: CurrentUser, services: ServicesDep, client: Client) -> SecretOut:
    services.manage.revoke_own(user, secret_id, client)
    return SecretOut.of(services.manage.detail_own(user, secret_id).summary)
