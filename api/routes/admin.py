"""/api/v1/admin: a super admin's view of the tenant: secrets (metadata only) and the audit
log with its filter language and JSON Lines export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.schemas import AdminSecretOut, AdminSecretPageOut, AuditPageOut
from core.services.audit import to_ocsf
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    AdminDep,
    Client,
    SuperAdmin,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(verify_csrf)])

FilterText = Query(
    default="", max_length=2000, alias="filter",
    description='the filter language, e.g. activity_name starts with "paper_secret_"',
)


@router.get("/secrets")
def list_secrets(
    admin: SuperAdmin, console: AdminDep, q: str = Query(default="", max_length=200),
    status: str = "all", page: int = 1, page_size: int = 50,
) -> AdminSecretPageOut:
    result = console.list_secrets(admin, search=q, status=status, page=page,
                                  page_size=page_size)
    return AdminSecretPageOut(
        items=[AdminSecretOut.model_validate(row, from_attributes=True) for row in result.rows],
        page=result.page, page_size=result.page_size, total=result.total,
    )


@router.get("/secrets/{secret_id}")
def secret_metadata(secret_id: str, admin: SuperAdmin, console: AdminDep) -> dict[str, Any]:
    return console.secret_metadata(admin, secret_id)


@router.post("/secrets/{secret_id}/revoke")
def revoke(
    secret_id: str, admin: SuperAdmin, console: AdminDep, client: Client
) -> dict[str, Any]:
    console.revoke(admin, secret_id, client)
    return console.secret_metadata(admin, secret_id)


@router.get("/audit")
def audit_log(
    admin: SuperAdmin, console: AdminDep, filter_text: str = FilterText,
    actor: str = Query(default="", max_length=320), ip: str = Query(default="", max_length=64),
    before: int | None = None, limit: int = 50,
) -> AuditPageOut:
    page = console.audit_page(admin, filter_text=filter_text, actor=actor, ip=ip,
                              before=before, limit=limit)
    return AuditPageOut(items=[to_ocsf(event) for event in page.events],
                        next_before=page.next_before)


@router.get("/audit/export")
def export_audit_log(
    admin: SuperAdmin, console: AdminDep, filter_text: str = FilterText,
    actor: str = Query(default="", max_length=320), ip: str = Query(default="", max_length=64),
) -> StreamingResponse:
    lines = console.audit_export(admin, filter_text=filter_text, actor=actor, ip=ip)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"cipherslip-audit-{admin.tenant_id}-{stamp}.jsonl"
    return StreamingResponse(
        lines, media_type="application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
