"""/api/v1/requests: ask colleagues for a secret, answer, read who answered, cancel.

The answer itself is an ordinary secret: ``POST …/answer`` reserves it (as ``POST
/api/v1/secrets`` does) and the client completes it at the ``complete_url`` it gets back;
that completion fulfils the request. The requester reveals it as any share, by its
``answer_share_code``, with the request link's key.
"""

from __future__ import annotations

import dataclasses

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.sharecode import normalize_share_code as created_code
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.routes.secrets import (
    complete_secret,
    created_secret_out,
    read_body_chunks,
    require_octet_stream,
)
from api.schemas import (
    AnswerBody,
    CompleteBody,
    CompletedOut,
    CreatedSecretOut,
    CreateRequestBody,
    MagicLinkBody,
    MagicLinkRequestedOut,
    OpenRequestBody,
    PartUrlsBody,
    PartUrlsOut,
    RequestOut,
    RequestSummaryOut,
    StartedRequestOut,
)
from core.errors import PayloadTooLarge
from core.services.locations import request_url
from core.services.request_rules import NewRequest, RequestView
from core.services.uploads import MAX_PART_BYTES
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    BlockingCallsDep,
    Client,
    CurrentUser,
    CurrentViewer,
    FilesDep,
    MagicLinksDep,
    RequestsDep,
    SettingsDep,
    SharingDep,
)

router = APIRouter(prefix="/api/v1/requests", tags=["requests"],
                   dependencies=[Depends(verify_csrf)])


def request_out(view: RequestView, base_url: str) -> RequestOut:
    return RequestOut(
        id=view.request_id, request_code=view.request_code,
        request_url=request_url(base_url, view.request_code), role=view.role,
        status=view.status, label=view.label, expected_format=view.expected_format,
        requester_name=view.requester_name, requester_email=view.requester_email,
        created_at=view.created_at, open_until=view.open_until,
        answer_expires_in_seconds=view.answer_expires_in_seconds,
        answer_view_limit=view.answer_view_limit,
        key_check=b64url_encode(view.key_check) if view.key_check is not None else None,
        responders=view.responders, answered_by=view.answered_by,
        answer_share_code=view.answer_share_code)


@router.post("", status_code=201)
async def start_request(body: CreateRequestBody, user: CurrentUser, requests: RequestsDep,
                        settings: SettingsDep) -> StartedRequestOut:
    request_id, code, open_until = await run_in_threadpool(requests.start, user, NewRequest(
        audience=body.audience, responders=body.responders, label=body.label,
        expected_format=body.expected_format, open_for_seconds=body.open_for_seconds,
        answer_expires_in_seconds=body.answer_expires_in_seconds,
        answer_view_limit=body.answer_view_limit), body.draft)
    return StartedRequestOut(id=request_id, request_code=code,
                             request_url=request_url(settings.base_url, code),
                             open_until=open_until,
                             open_url=f"/api/v1/requests/{request_id}/open")


@router.post("/{request_id}/open")
async def open_request(request_id: str, body: OpenRequestBody, user: CurrentUser,
                       requests: RequestsDep, client: Client,
                       settings: SettingsDep) -> RequestOut:
    key_check = b64url_decode(body.key_check, field="key_check")
    view = await run_in_threadpool(requests.open, user, request_id, key_check, client)
    return request_out(view, settings.base_url)


@router.get("")
async def list_requests(user: CurrentUser, requests: RequestsDep,
                        settings: SettingsDep) -> list[RequestSummaryOut]:
    summaries = await run_in_threadpool(requests.list_own, user)
    return [RequestSummaryOut(**dataclasses.asdict(summary),
                              request_url=request_url(settings.base_url, summary.request_code))
            for summary in summaries]


@router.get("/{request_code}")
async def show_request(request_code: str, viewer: CurrentViewer, requests: RequestsDep,
                       client: Client, settings: SettingsDep) -> RequestOut:
    view = await run_in_threadpool(requests.view, viewer, request_code, client)
    return request_out(view, settings.base_url)


@router.post("/{request_code}/answer", status_code=201)
async def answer_request(request_code: str, body: AnswerBody, viewer: CurrentViewer,
                         requests: RequestsDep, client: Client) -> CreatedSecretOut:
    """Reserve the answer. Its parts and completion go to this request's routes below, which
    take a colleague's session, a token, or an external responder's confirmed email."""
    public_key = b64url_decode(body.public_key, field="public_key")
    created = await run_in_threadpool(
        lambda: requests.start_answer(viewer, request_code, client, content_format=body.format,
                                      public_key=public_key,
                                      plaintext_size=body.plaintext_size))
    reserved = created_secret_out(created)
    base = f"/api/v1/requests/{created_code(request_code)}/answers/{created.secret_id}"
    reserved.complete_url = f"{base}/complete"
    if reserved.upload is not None:
        reserved.upload.parts_url = f"{base}/parts"
    return reserved


@router.put("/{request_code}/answers/{secret_id}/parts/{part_number}", status_code=204)
async def answer_part(request_code: str, secret_id: str, part_number: int, request: Request,
                      viewer: CurrentViewer, requests: RequestsDep, files: FilesDep,
                      client: Client) -> Response:
    require_octet_stream(request)
    principal, _ = await run_in_threadpool(requests.answering_principal, viewer, request_code,
                                           client)
    too_large = PayloadTooLarge(f"a part is at most {MAX_PART_BYTES} bytes")
    chunks = await read_body_chunks(request, MAX_PART_BYTES, too_large)
    await run_in_threadpool(files.receive_part, principal, secret_id, part_number, chunks)
    return Response(status_code=204)


@router.post("/{request_code}/answers/{secret_id}/parts/urls")
async def answer_part_urls(request_code: str, secret_id: str, body: PartUrlsBody,
                           viewer: CurrentViewer, requests: RequestsDep, files: FilesDep,
                           client: Client) -> PartUrlsOut:
    principal, _ = await run_in_threadpool(requests.answering_principal, viewer, request_code,
                                           client)
    urls = await run_in_threadpool(files.part_urls, principal, secret_id, body.parts)
    return PartUrlsOut(urls=urls)


@router.post("/{request_code}/answers/{secret_id}/complete")
async def complete_answer(request_code: str, secret_id: str, body: CompleteBody,
                          viewer: CurrentViewer, requests: RequestsDep, sharing: SharingDep,
                          client: Client, calls: BlockingCallsDep) -> CompletedOut:
    """Activate the answer; in the same transaction the request becomes fulfilled."""
    principal, _ = await run_in_threadpool(requests.answering_principal, viewer, request_code,
                                           client)
    return await complete_secret(principal, secret_id, body, sharing, client, calls)


@router.post("/{request_code}/magic-link", status_code=202)
def request_magic_link(request_code: str, body: MagicLinkBody, magic_links: MagicLinksDep,
                       client: Client) -> MagicLinkRequestedOut:
    """An external responder asks for a sign-in link (the same answer for any address)."""
    email = magic_links.request_for_request(request_code, body.email, client)
    return MagicLinkRequestedOut(
        message=f"If {email} was asked, a sign-in link is on its way. It works once, for 15 "
                "minutes. Keep this page open: it holds the request's key.")


@router.post("/{request_code}/cancel")
async def cancel_request(request_code: str, user: CurrentUser, requests: RequestsDep,
                         client: Client, settings: SettingsDep) -> RequestOut:
    view = await run_in_threadpool(requests.cancel, user, request_code, client)
    return request_out(view, settings.base_url)
