"""Rendering a page: the one place that gives every template its common context."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from core.services.identity import Principal
from http_layer.csrf import csrf_token


def render(
    request: Request, templates: Jinja2Templates, name: str, user: Principal | None,
    status_code: int = 200, *, forms: bool = False, **context: Any,
) -> Response:
    """Render a page; signed-in pages (and anonymous ones with ``forms``) carry a CSRF token."""
    if user is not None or forms:
        context["csrf_token"] = csrf_token(request)
    settings = request.app.state.settings
    return templates.TemplateResponse(
        request, name,
        {"user": user, "tenant_name": settings.tenant_name,
         "provider_name": settings.oidc_provider_name, **context},
        status_code=status_code,
    )
