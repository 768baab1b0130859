"""FastAPI dependencies: the one place routes get services, the caller and the client.

They do no I/O (the session middleware loaded the session already), so they are ``async``:
FastAPI runs a plain ``def`` dependency in a worker thread, and six of those per request cost
more than the work they do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from core.blocking import BlockingCalls
from core.cache.protocol import RateLimiter
from core.errors import AuthenticationRequired
from core.metrics import Metrics
from core.services.admin import AdminService
from core.services.api_tokens import ApiTokenService
from core.services.cli_login import CliLoginService
from core.services.container import Services
from core.services.downloads import DownloadService
from core.services.drafts import DraftService
from core.services.file_uploads import FileUploadService
from core.services.identity import BASIC, ClientInfo, Guest, Principal, Viewer
from core.services.magic_links import MagicLinkService
from core.services.manage import ManageService
from core.services.requests import RequestService
from core.services.reveal import RevealService
from core.services.sharing import SharingService
from core.services.tenants import TenantDirectory
from core.services.users import UserDirectory
from core.settings import Settings
from http_layer.sessions import require_loaded_session
from http_layer.tokens import authorize_route, token_of


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


async def session_principal(request: Request) -> Principal | None:
    return principal_of(request)


async def session_guest(request: Request) -> Guest | None:
    return guest_of(request)


def principal_of(request: Request) -> Principal | None:
    """The signed-in org user of this request's session, or of its API token (if the token
    may use this route: else InsufficientScope)."""
    token = token_of(request)
    if token is not None:
        authorize_route(request, token)
        return token.principal
    require_loaded_session(request)
    user = request.session.get("user")
    if not isinstance(user, dict):
        return None
    return Principal(
        tenant_id=user["tenant_id"], user_id=user["user_id"], email=user["email"],
        name=user["name"], role=user.get("role", BASIC),
    )


def guest_of(request: Request) -> Guest | None:
    """The external recipient this request's session proved, if any."""
    if token_of(request) is not None:
        return None
    require_loaded_session(request)
    guest = request.session.get("guest")
    if not isinstance(guest, dict):
        return None
    return Guest(tenant_id=guest["tenant_id"], email=guest["email"],
                 secret_ids=frozenset(guest["secret_ids"]),
                 request_ids=frozenset(guest.get("request_ids", ())))


# Each of these reads the session itself rather than depending on the ones above: FastAPI
# resolves every nested dependency separately, and on the reveal path that costs more than
# the reading.
async def session_viewer(request: Request) -> Viewer | None:
    return principal_of(request) or guest_of(request)


async def require_viewer(request: Request) -> Viewer:
    viewer = principal_of(request) or guest_of(request)
    if viewer is None:
        raise AuthenticationRequired("sign in, or confirm the sign-in link we emailed you")
    return viewer


async def require_principal(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise AuthenticationRequired("sign in first")
    return principal


async def client_info(request: Request) -> ClientInfo:
    host = request.client.host if request.client else None
    try:
        # Behind a trusted proxy the host comes from X-Forwarded-For: only a real IP counts.
        ip = str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        ip = None
    user_agent = request.headers.get("user-agent")
    token = token_of(request)
    return ClientInfo(ip=ip, user_agent=user_agent[:512] if user_agent else None,
                      api_token=token.ref if token is not None else None)


def require_super_admin(
    principal: Annotated[Principal, Depends(require_principal)],
    console: Annotated[AdminService, Depends(admin_service)],
    client: Annotated[ClientInfo, Depends(client_info)],
) -> Principal:
    console.require_admin(principal, client)
    return principal


# One dependency per service a route may use, so that a route's signature says what it
# touches (and a test can override just that).
async def blocking_calls(request: Request) -> BlockingCalls:
    calls: BlockingCalls = request.app.state.blocking_calls
    return calls


async def sharing_service(request: Request) -> SharingService:
    return _services(request).sharing


async def requests_service(request: Request) -> RequestService:
    return _services(request).requests


async def files_service(request: Request) -> FileUploadService:
    return _services(request).files


async def manage_service(request: Request) -> ManageService:
    return _services(request).manage


async def reveal_service(request: Request) -> RevealService:
    return _services(request).reveal


async def downloads_service(request: Request) -> DownloadService:
    return _services(request).downloads


async def magic_links_service(request: Request) -> MagicLinkService:
    return _services(request).magic_links


async def admin_service(request: Request) -> AdminService:
    return _services(request).admin


async def users_service(request: Request) -> UserDirectory:
    return _services(request).users


async def drafts_service(request: Request) -> DraftService:
    return _services(request).drafts


async def tenants_service(request: Request) -> TenantDirectory:
    return _services(request).tenants


async def metrics_service(request: Request) -> Metrics:
    return _services(request).metrics


async def rate_limiter_service(request: Request) -> RateLimiter:
    return _services(request).rate_limiter


async def api_tokens_service(request: Request) -> ApiTokenService:
    return _services(request).api_tokens


async def cli_login_service(request: Request) -> CliLoginService:
    return _services(request).cli_login


async def readiness_checks(request: Request) -> dict[str, Callable[[], None]]:
    """What ``/readyz`` asks: every backend a request may need."""
    services = _services(request)

    def check_database() -> None:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return {"database": check_database, "blob_store": services.blob_store.check_ready,
            "vault": services.vault.check_ready, "cache": services.cache.check_ready}


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


BlockingCallsDep = Annotated[BlockingCalls, Depends(blocking_calls)]
SharingDep = Annotated[SharingService, Depends(sharing_service)]
FilesDep = Annotated[FileUploadService, Depends(files_service)]
RequestsDep = Annotated[RequestService, Depends(requests_service)]
ManageDep = Annotated[ManageService, Depends(manage_service)]
RevealDep = Annotated[RevealService, Depends(reveal_service)]
DownloadsDep = Annotated[DownloadService, Depends(downloads_service)]
MagicLinksDep = Annotated[MagicLinkService, Depends(magic_links_service)]
AdminDep = Annotated[AdminService, Depends(admin_service)]
UsersDep = Annotated[UserDirectory, Depends(users_service)]
DraftsDep = Annotated[DraftService, Depends(drafts_service)]
TenantsDep = Annotated[TenantDirectory, Depends(tenants_service)]
MetricsDep = Annotated[Metrics, Depends(metrics_service)]
RateLimiterDep = Annotated[RateLimiter, Depends(rate_limiter_service)]
ApiTokensDep = Annotated[ApiTokenService, Depends(api_tokens_service)]
CliLoginDep = Annotated[CliLoginService, Depends(cli_login_service)]
ReadinessChecksDep = Annotated[dict[str, Callable[[], None]], Depends(readiness_checks)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
OptionalUser = Annotated[Principal | None, Depends(session_principal)]
CurrentViewer = Annotated[Viewer, Depends(require_viewer)]
SuperAdmin = Annotated[Principal, Depends(require_super_admin)]
OptionalViewer = Annotated[Viewer | None, Depends(session_viewer)]
Client = Annotated[ClientInfo, Depends(client_info)]
