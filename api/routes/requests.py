"""/api/v1/requests: ask colleagues for a secret, answer, read who answered, cancel.

The answer itself is an ordinary secret: ``POST …/answer`` reserves it (as ``POST
/api/v1/secrets`` does) and the client completes it at the ``complete_url`` it gets back;
that completion fulfils the request. The requester reveals it as any share, by its
``answer_share_code``, with the request link's key.
"""

from __future__ import annotations

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from api.routes.secrets import created_secret_out
from api.schemas import (
    AnswerBody,
    CreatedSecretOut,
    CreateRequestBody,
    OpenRequestBody,
    RequestOut,
    StartedRequestOut,
)
from core.services.locations import request_url
from core.services.requests import NewRequest, RequestView
from http_layer.csrf import verify_csrf
from http_layer.deps import Client, CurrentUser, RequestsDep, SettingsDep

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
        answer_view_limit=body.answer_view_limit))
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
                        settings: SettingsDep) -> list[RequestOut]:
    views = await run_in_threadpool(requests.list_own, user)
    return [request_out(view, settings.base_url) for view in views]


@router.get("/{request_code}")
async def show_request(request_code: str, user: CurrentUser, requests: RequestsDep,
                       client: Client, settings: SettingsDep) -> RequestOut:
    view = await run_in_threadpool(requests.view, user, request_code, client)
    return request_out(view, settings.base_url)


@router.post("/{request_code}/answer", status_code=201)
async def answer_request(request_code: str, body: AnswerBody, user: CurrentUser,
                         requests: RequestsDep, client: Client) -> CreatedSecretOut:
    public_key = b64url_decode(body.public_key, field="public_key")
    created = await run_in_threadpool(
        lambda: requests.start_answer(user, request_code, client, content_format=body.format,
                                      public_key=public_key,
                                      plaintext_size=body.plaintext_size))
    return created_secret_out(created)


@router.post("/{request_code}/cancel")
async def cancel_request(request_code: str, user: CurrentUser, requests: RequestsDep,
                         client: Client, settings: SettingsDep) -> RequestOut:
    view = await run_in_threadpool(requests.cancel, user, request_code, client)
    return request_out(view, settings.base_url)
