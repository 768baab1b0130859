"""Requests on the web: ask (``/requests/new``), follow (``/requests``), and the request's
own page (``/r/{code}``), which shows the answer form to a responder and, once answered, the
answer to the requester — revealed exactly as a share, with the request link's key."""

from __future__ import annotations

from cipherslip_crypto.sharecode import normalize_share_code
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.refusals import sentence
from core.services import policy, request_rules
from core.services.drafts import REQUEST_DRAFT
from core.services.identity import Guest
from core.services.locations import request_path
from core.services.request_states import RequestStatus
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    Client,
    CurrentUser,
    DraftsDep,
    OptionalUser,
    OptionalViewer,
    RequestsDep,
    RevealDep,
    SuperAdmin,
    TemplatesDep,
    TenantsDep,
)
from http_layer.rendering import render

router = APIRouter(include_in_schema=False)
OPEN_FOR_CHOICES = [(3600, "1 hour"), (6 * 3600, "6 hours"), (86400, "1 day"),
                    (3 * 86400, "3 days"), (7 * 86400, "7 days")]


@router.get("/requests/new")
def new_request(request: Request, user: CurrentUser, templates: TemplatesDep,
                tenants: TenantsDep, drafts: DraftsDep, draft: str | None = None) -> Response:
    prefill = None
    if draft is not None:
        try:
            prefill = drafts.open(user, draft, REQUEST_DRAFT).options
        except (NotFound, Conflict, AccessDenied, InvalidInput) as refusal:
            status = 403 if isinstance(refusal, AccessDenied) else 409
            return render(request, templates, "error.html", user, status,
                          title="This draft cannot be used", message=sentence(refusal))
    return render(request, templates, "request_new.html", user, draft=draft, prefill=prefill,
                  open_for_choices=OPEN_FOR_CHOICES, expiry_choices=policy.EXPIRY_CHOICES,
                  internal_domains=tenants.get(user.tenant_id).internal_domains,
                  limits={"responders_max": request_rules.RESPONDERS_MAX,
                          "instructions_max": request_rules.INSTRUCTIONS_MAX_CHARS,
                          "view_limit_max": policy.VIEW_LIMIT_MAX})


@router.get("/requests")
def my_requests(request: Request, user: CurrentUser, service: RequestsDep,
                templates: TemplatesDep) -> Response:
    return render(request, templates, "requests.html", user, requests=service.list_own(user))


@router.get("/admin/requests")
def admin_requests(request: Request, admin: SuperAdmin, service: RequestsDep,
                   templates: TemplatesDep, status: str = "", q: str = "") -> Response:
    """Every request of the organization (super admins), by status and by address or code."""
    try:
        rows = service.list_tenant(admin, status=status, query=q)
    except InvalidInput as problem:
        return render(request, templates, "admin_requests.html", admin, 422, rows=[],
                      status=status, q=q, problem=sentence(problem))
    return render(request, templates, "admin_requests.html", admin, rows=rows, status=status,
                  q=q)


@router.get("/r/{request_code}")
def request_page(request_code: str, request: Request, user: OptionalUser,
                 viewer: OptionalViewer, service: RequestsDep, reveals: RevealDep,
                 tenants: TenantsDep, templates: TemplatesDep, client: Client) -> Response:
    """GET never changes anything: responders see the form, the requester the answer."""
    code = normalize_share_code(request_code)
    if code != request_code:
        return RedirectResponse(request_path(code), status_code=308)  # keeps the #fragment
    if viewer is None or isinstance(viewer, Guest):
        try:
            entry = service.entry(code)
        except NotFound as refusal:
            return render(request, templates, "error.html", None, 404,
                          title="No such request", message=sentence(refusal))
        if viewer is None or entry.request_id not in viewer.request_ids:
            return render(request, templates, "request_signin.html", None, forms=True,
                          entry=entry, organization=tenants.get(entry.tenant_id).name)
    try:
        view = service.view(viewer, code, client)
    except AccessDenied as refusal:
        return render(request, templates, "error.html", user, 403,
                      title="This request is not for you", message=sentence(refusal))
    except NotFound as refusal:
        return render(request, templates, "error.html", user, 404,
                      title="No such request", message=sentence(refusal))
    answer = None
    if user is not None and view.role == request_rules.REQUESTER and view.answer_share_code:
        try:
            answer = reveals.preview(user, view.answer_share_code, client)
        except (AccessDenied, NotFound):
            answer = None
    return render(request, templates, "request.html", user, forms=True, view=view,
                  answer=answer, is_open=view.status == RequestStatus.OPEN,
                  text_max_bytes=policy.TEXT_MAX_BYTES)


@router.post("/r/{request_code}/cancel", dependencies=[Depends(verify_csrf)])
def cancel_request(request_code: str, user: CurrentUser, service: RequestsDep,
                   client: Client) -> Response:
    view = service.cancel(user, request_code, client)
    return RedirectResponse(request_path(view.request_code), status_code=303)
