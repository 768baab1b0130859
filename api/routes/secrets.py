"""/api/v1/secrets: a creator creates, uploads, completes, lists, inspects and revokes."""

from __future__ import annotations

from functools import partial

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.schemas import (
    ActivityOut,
    CompleteBody,
    CompletedOut,
    CreatedSecretOut,
    CreateSecretBody,
    PartUrlsBody,
    PartUrlsOut,
    SecretDetailOut,
    SecretOut,
    UploadPlanOut,
)
from core.asgi import json_answer, json_body
from core.blocking import BlockingCalls
from core.errors import CipherslipError, PayloadTooLarge, UnsupportedMediaType
from core.services import policy
from core.services.identity import ClientInfo, Principal
from core.services.sharing import CreatedSecret, SharingService
from core.services.uploads import MAX_PART_BYTES
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    Client,
    CurrentUser,
    FilesDep,
    ManageDep,
    blocking_calls,
    client_info,
    require_principal,
    sharing_service,
)
from http_layer.lean import LeanRoute

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"],
                   dependencies=[Depends(verify_csrf)])


async def create_secret(request: Request) -> Response:
    """Reserve a secret (a lean route, ``http_layer.lean``): its share code, and its data key
    HPKE-sealed to the one-time public key sent. The content comes with ``complete``."""
    await verify_csrf(request)
    user = await require_principal(request)
    body = await json_body(request, CreateSecretBody)
    sharing = await sharing_service(request)
    calls = await blocking_calls(request)
    created = await calls.run(
        sharing.create, user,
        policy.NewSecretRequest(
            audience=body.audience, recipients=body.recipients, format=body.format,
            label=body.label, expires_in_seconds=body.expires_in_seconds,
            view_limit=body.view_limit,
            public_key=b64url_decode(body.public_key, field="public_key"),
            plaintext_size=body.plaintext_size, draft_token=body.draft,
        ),
    )
    return json_answer(created_secret_out(created), 201)


def created_secret_out(created: CreatedSecret) -> CreatedSecretOut:
    """A pending secret as its creator's client needs it next (also a request's answer)."""
    base = f"/api/v1/secrets/{created.secret_id}"
    upload = None
    if created.upload is not None:
        upload = UploadPlanOut(
            part_count=created.upload.part_count,
            first_part_bytes=created.upload.first_part_bytes,
            part_bytes=created.upload.part_bytes,
            records_per_part=created.upload.records_per_part,
            direct=created.upload.direct, parts_url=f"{base}/parts",
        )
    return CreatedSecretOut(
        id=created.secret_id, share_code=created.share_code, share_url=created.share_url,
        sealed_key=b64url_encode(created.sealed_key), expires_at=created.expires_at,
        complete_url=f"{base}/complete",
        max_upload_bytes=created.max_upload_bytes, upload=upload,
    )


def require_octet_stream(request: Request) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/octet-stream":
        raise UnsupportedMediaType("upload the encrypted content as application/octet-stream")


@router.put("/{secret_id}/parts/{part_number}", status_code=204)
async def upload_part(
    secret_id: str, part_number: int, request: Request, user: CurrentUser, files: FilesDep
) -> Response:
    require_octet_stream(request)
    too_large = PayloadTooLarge(f"a part is at most {MAX_PART_BYTES} bytes")
    chunks = await read_body_chunks(request, MAX_PART_BYTES, too_large)
    await run_in_threadpool(files.receive_part, user, secret_id, part_number, chunks)
    return Response(status_code=204)


@router.post("/{secret_id}/parts/urls")
def part_urls(
    secret_id: str, body: PartUrlsBody, user: CurrentUser, files: FilesDep
) -> PartUrlsOut:
    return PartUrlsOut(urls=files.part_urls(user, secret_id, body.parts))


@router.delete("/{secret_id}", status_code=204)
def cancel(secret_id: str, user: CurrentUser, files: FilesDep) -> Response:
    """Abandon a secret still being uploaded (Cancel): nothing of it is kept."""
    files.cancel(user, secret_id)
    return Response(status_code=204)


async def read_body_chunks(
    request: Request, limit: int, too_large: CipherslipError
) -> list[bytes]:
    """The request body as received, refused as soon as it passes ``limit`` (never buffered
    beyond). Kept in the pieces it arrived in: joining 8 MiB parts would copy each twice."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    received: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        if chunk:
            received.append(chunk)
    return received


async def complete(request: Request) -> Response:
    """A text's ciphertext comes with its completion (one request); a file's came in parts.
    A lean route (``http_layer.lean``)."""
    await verify_csrf(request)
    user = await require_principal(request)
    body = await json_body(request, CompleteBody)
    completed = await complete_secret(user, request.path_params["secret_id"], body,
                                      await sharing_service(request),
                                      await client_info(request), await blocking_calls(request))
    return json_answer(completed)


async def complete_secret(principal: Principal, secret_id: str, body: CompleteBody,
                          sharing: SharingService, client: ClientInfo,
                          calls: BlockingCalls) -> CompletedOut:
    """Completion, for a creator's secret and for a request's answer alike."""
    completed = await calls.run(partial(
        sharing.complete, principal, secret_id, client,
        sealed_meta=b64url_decode(body.sealed_meta, field="sealed_meta"),
        key_check=b64url_decode(body.key_check, field="key_check"),
        content=b64url_decode(body.content, field="content") if body.content is not None
        else None,
    ))
    return CompletedOut(id=completed.secret_id, share_code=completed.share_code,
                        status=completed.status, share_url=completed.share_url)


@router.get("")
def list_secrets(
    user: CurrentUser, manage: ManageDep, status: str = "active"
) -> list[SecretOut]:
    return [SecretOut.of(summary) for summary in manage.list_own(user, status)]


@router.get("/{secret_id}")
def secret_detail(secret_id: str, user: CurrentUser, manage: ManageDep) -> SecretDetailOut:
    detail = manage.detail_own(user, secret_id)
    return SecretDetailOut(
        **SecretOut.of(detail.summary).model_dump(),
        share_url=detail.share_url,
        activity=[ActivityOut.model_validate(event, from_attributes=True)
                  for event in detail.activity],
    )


@router.post("/{secret_id}/revoke")
def revoke(secret_id: str, user: CurrentUser, manage: ManageDep, client: Client) -> SecretOut:
    manage.revoke_own(user, secret_id, client)
    return SecretOut.of(manage.detail_own(user, secret_id).summary)


LEAN_ROUTES = (
    LeanRoute(method="POST", path="/api/v1/secrets", endpoint=create_secret,
              body=CreateSecretBody, answer=CreatedSecretOut, status_code=201,
              tags=("secrets",)),
    LeanRoute(method="POST", path="/api/v1/secrets/{secret_id}/complete", endpoint=complete,
              body=CompleteBody, answer=CompletedOut, tags=("secrets",)),
)
