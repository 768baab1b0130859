"""The super admin console: Secrets and Audit Log tabs (metadata only, never content)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.services.admin import SECRET_STATUSES, AuditPage
from core.services.audit_filter import FIELDS, FilterError
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    AdminDep,
    Client,
    SuperAdmin,
    TemplatesDep,
)
from http_layer.rendering import render

router = APIRouter(prefix="/admin", include_in_schema=False)

FILTER_EXAMPLES = [
    'activity_name starts with "paper_secret_"',
    'activity_name in ("paper_secret_opened", "paper_secret_opened_internal")',
    'activity_name = "paper_secret_access_denied"',
    'activity_name starts with "paper_secret_" AND actor.user.email = "user@example.com"',
]


@router.get("")
def admin_home(_admin: SuperAdmin) -> Response:
    return RedirectResponse("/admin/secrets", status_code=303)


@router.get("/secrets")
def secrets_tab(
    request: Request, admin: SuperAdmin, console: AdminDep, templates: TemplatesDep,
    q: str = "", status: str = "all", page: int = 1,
) -> Response:
    result = console.list_secrets(admin, search=q[:200], status=status, page=page)
    def page_link(number: int) -> str:
        return "/admin/secrets?" + urlencode({"q": q, "status": status, "page": number})
    return render(request, templates, "admin_secrets.html", admin, result=result, q=q,
                  status=status, statuses=SECRET_STATUSES, page_link=page_link)


@router.get("/secrets/{secret_id}")
def secret_view(
    secret_id: str, request: Request, admin: SuperAdmin, console: AdminDep,
    templates: TemplatesDep,
) -> Response:
    metadata = console.secret_metadata(admin, secret_id)
    return render(request, templates, "admin_secret.html", admin, metadata=metadata,
                  metadata_json=json.dumps(metadata, indent=2, ensure_ascii=False),
                  revoked=request.query_params.get("revoked") == "1")


@router.post("/secrets/{secret_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke(secret_id: str, admin: SuperAdmin, console: AdminDep, client: Client) -> Response:
    console.revoke(admin, secret_id, client)
    return RedirectResponse(f"/admin/secrets/{secret_id}?revoked=1", status_code=303)


@router.get("/audit")
def audit_tab(
    request: Request, admin: SuperAdmin, console: AdminDep, templates: TemplatesDep,
    actor: str = "", ip: str = "", before: int | None = None,
    filter_text: str = Query(default="", alias="filter"),
) -> Response:
    query = {"filter": filter_text, "actor": actor, "ip": ip}
    try:
        page = console.audit_page(admin, filter_text=filter_text[:2000], actor=actor,
                                  ip=ip, before=before)
        error, status_code = None, 200
    except FilterError as exc:
        page, error, status_code = AuditPage([], None), exc, 400
    older = ("/admin/audit?" + urlencode({**query, "before": page.next_before})
             if page.next_before else None)
    return render(
        request, templates, "admin_audit.html", admin, status_code, page=page, query=query,
        error=error, older=older, fields=FIELDS, examples=FILTER_EXAMPLES,
        export_url="/api/v1/admin/audit/export?" + urlencode(query),
    )
