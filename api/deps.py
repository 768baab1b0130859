"""FastAPI dependencies: the one place routes get services, the caller and the client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from core.errors import AuthenticationRequired
from core.services.container import Services
from core.services.identity import ClientInfo, Principal
from core.settings import Settings


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def session_principal(request: Request) -> Principal | None:
    user = request.session.get("user")
    if not isinstance(user, dict):
        return None
    return Principal(
        tenant_id=user["tenant_id"], user_id=user["user_id"], email=user["email"],
        name=user["name"],
    )


def require_principal(
    principal: Annotated[Principal | None, Depends(session_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationRequired("sign in first")
    return principal


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
OptionalUser = Annotated[Principal | None, Depends(session_principal)]
Client = Annotated[ClientInfo, Depends(client_info)]
