"""API tokens on the web: a person's own (under their menu) and, for super admins, the
tenant's (an admin console tab). Creating one shows it once, on the answer to the form."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import InvalidInput
from core.refusals import field_note
from core.services.api_tokens import DEFAULT_LIFETIME, SCOPES
from http_layer.csrf import verify_csrf
from http_layer.deps import ApiTokensDep, Client, CurrentUser, SuperAdmin, TemplatesDep
from http_layer.rendering import render

router = APIRouter(include_in_schema=False)
LIFETIME_CHOICES = (7, 30, 90, 180, 365)


def _tokens_page(request: Request, user: CurrentUser, tokens: ApiTokensDep,
                 templates: TemplatesDep, status: int = 200, **context: Any) -> Response:
    now = tokens.clock.now()
    rows = [(summary, summary.state(now)) for summary in tokens.list_own(user)]
    return render(request, templates, "tokens.html", user, status, rows=rows, scopes=SCOPES,
                  lifetimes=LIFETIME_CHOICES, default_days=DEFAULT_LIFETIME.days, **context)


@router.get("/tokens")
def my_tokens(request: Request, user: CurrentUser, tokens: ApiTokensDep,
              templates: TemplatesDep) -> Response:
    return _tokens_page(request, user, tokens, templates,
                        revoked=request.query_params.get("revoked") == "1")


@router.post("/tokens", dependencies=[Depends(verify_csrf)])
def create_token(
    request: Request, user: CurrentUser, tokens: ApiTokensDep, templates: TemplatesDep,
    client: Client, name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=8)] = None,
    expires_in_days: Annotated[int, Form(ge=1, le=365)] = 90,
) -> Response:
    try:
        issued = tokens.create(user, name=name, scopes=scopes or [],
                               lifetime=timedelta(days=expires_in_days), client=client)
    except InvalidInput as problem:
        return _tokens_page(request, user, tokens, templates, 422, problem=field_note(problem),
                            typed_name=name)
    return _tokens_page(request, user, tokens, templates, 201, issued=issued)


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_token(token_id: str, user: CurrentUser, tokens: ApiTokensDep,
                 client: Client) -> Response:
    tokens.revoke(user, token_id, client)
    return RedirectResponse("/tokens?revoked=1", status_code=303)


@router.get("/admin/tokens")
def tenant_tokens(request: Request, admin: SuperAdmin, tokens: ApiTokensDep,
                  templates: TemplatesDep) -> Response:
    now = tokens.clock.now()
    rows = [(summary, summary.state(now)) for summary in tokens.list_tenant(admin)]
    return render(request, templates, "admin_tokens.html", admin, rows=rows,
                  revoked=request.query_params.get("revoked") == "1")


@router.post("/admin/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
def admin_revoke_token(token_id: str, admin: SuperAdmin, tokens: ApiTokensDep,
                       client: Client) -> Response:
    tokens.revoke(admin, token_id, client)
    return RedirectResponse("/admin/tokens?revoked=1", status_code=303)
