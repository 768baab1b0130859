"""HTML pages. They carry no secret material: the browser fetches and decrypts through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cipherslip_crypto.encoding import b64url_encode
from cipherslip_crypto.sharecode import normalize_share_code
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from core.clock import as_utc
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.refusals import sentence
from core.services import policy
from core.services.activity_text import describe
from core.services.identity import ClientInfo, Guest, Principal, Viewer
from core.services.locations import share_path
from core.services.reveal import RevealService
from core.services.states import SecretStatus
from core.services.tenants import TenantDirectory
from core.services.uploads import FILE_MAX_BYTES
from http_layer.csrf import verify_csrf
from http_layer.deps import (
    Client,
    CurrentUser,
    DraftsDep,
    ManageDep,
    OptionalUser,
    TemplatesDep,
    TenantsDep,
    blocking_calls,
    client_info,
    get_templates,
    guest_of,
    principal_of,
    reveal_service,
    tenants_service,
)
from http_layer.lean import LeanRoute
from http_layer.rendering import render

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

router = APIRouter(include_in_schema=False)



def time_element(moment: datetime) -> Markup:
    """A moment as exact UTC text; the page script makes it relative and local, keeping the
    UTC time on hover and focus."""
    utc = as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time class="when" datetime="{}" data-utc="{}" title="{}" tabindex="0">{}'
                  "</time>").format(as_utc(moment).isoformat(), utc, utc, utc)


def create_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    # Templates ship with the code, and a change to either needs a restart: no stat of every
    # template a page uses on every render to see whether it changed.
    templates.env.auto_reload = False
    templates.env.filters["b64url"] = b64url_encode
    templates.env.filters["when"] = time_element
    templates.env.filters["describe"] = describe
    return templates


@dataclass(frozen=True)
class Prefill:
    """The create form's initial values: the defaults, or a Slack draft's options."""

    draft: str = ""
    audience: str = "internal"
    recipients: str = ""
    format: str = "text"
    label: str = ""
    expires_in_seconds: int = 86400
    view_limit: int | None = 1


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=308)


@router.get("/")
def home(request: Request, user: OptionalUser, templates: TemplatesDep) -> Response:
    return render(request, templates, "home.html", user)


@router.get("/new")
def new_secret(
    request: Request, user: CurrentUser, templates: TemplatesDep, drafts: DraftsDep,
    tenants: TenantsDep, draft: str | None = None,
) -> Response:
    prefill = Prefill()
    if draft is not None:
        try:
            options = drafts.open(user, draft).options
        except (NotFound, Conflict, AccessDenied, InvalidInput) as refusal:
            status = 403 if isinstance(refusal, AccessDenied) else 409
            return render(request, templates, "error.html", user, status,
                          title="This draft cannot be used", message=sentence(refusal))
        prefill = Prefill(draft=draft, audience=options.audience,
                          recipients=",".join(options.recipients), format=options.format,
                          label=options.label or "", expires_in_seconds=options.expires_in_seconds,
                          view_limit=options.view_limit)
    return render(
        request, templates, "create.html", user, expiry_choices=policy.EXPIRY_CHOICES,
        prefill=prefill, internal_domains=tenants.get(user.tenant_id).internal_domains,
        limits={
            "recipients_max": policy.INTERNAL_RECIPIENTS_MAX,
            "external_recipients_max": policy.EXTERNAL_RECIPIENTS_MAX,
            "text_max_bytes": policy.TEXT_MAX_BYTES,
            "file_max_bytes": FILE_MAX_BYTES,
            "label_max": policy.LABEL_MAX_CHARS,
            "view_limit_max": policy.VIEW_LIMIT_MAX,
        },
    )


async def share_page(request: Request) -> Response:
    """A recipient opens the link (a lean route, ``http_layer.lean``); the page reads nothing
    secret, and the key stays in the fragment."""
    user = principal_of(request)
    viewer = user or guest_of(request)
    calls = await blocking_calls(request)
    return await calls.run(
        _share_page, request, request.path_params["share_code"], user, viewer,
        await reveal_service(request), await tenants_service(request),
        await get_templates(request), await client_info(request))


def _share_page(
    request: Request, share_code: str, user: Principal | None, viewer: Viewer | None,
    reveals: RevealService, tenants: TenantDirectory, templates: Jinja2Templates,
    client: ClientInfo,
) -> Response:
    code = normalize_share_code(share_code)
    if code != share_code:
        # Canonical URL; the browser carries the #fragment over to the redirect target.
        return RedirectResponse(share_path(code), status_code=308)
    if viewer is None or isinstance(viewer, Guest):
        try:
            entry = reveals.entry(code)
        except NotFound:
            return render(request, templates, "share_missing.html", user, 404, share_code=code)
        if viewer is None or entry.secret_id not in viewer.secret_ids:
            # Not proven yet for this secret: offer SSO, and an email link if external.
            return render(request, templates, "share_signin.html", None, forms=True,
                          entry=entry,
                          organization=tenants.get(entry.tenant_id).name)
    try:
        preview = reveals.preview(viewer, code, client)
    except AccessDenied:
        return render(request, templates, "share_denied.html", user, 403, share_code=code)
    except NotFound:
        return render(request, templates, "share_missing.html", user, 404, share_code=code)
    if preview.status != SecretStatus.ACTIVE:
        return render(request, templates, "share_ended.html", user, 410, preview=preview)
    return render(request, templates, "share.html", user, forms=True, preview=preview,
                  guest=viewer if isinstance(viewer, Guest) else None)


LEAN_ROUTES = (LeanRoute(method="GET", path="/s/{share_code}", endpoint=share_page),)


@router.api_route("/verify", methods=["GET", "HEAD"])
def verify_page(request: Request, templates: TemplatesDep, user: OptionalUser) -> Response:
    """Where a magic link lands. The token is in the URL fragment, so neither this request
    nor any log sees it; GET and HEAD only render the Continue button."""
    return render(request, templates, "verify.html", user, forms=True)


@router.get("/secrets")
def my_secrets(
    request: Request, user: CurrentUser, manage: ManageDep, templates: TemplatesDep,
    status: str = "active",
) -> Response:
    secrets = manage.list_own(user, status)
    return render(request, templates, "secrets.html", user, secrets=secrets, status=status)


@router.get("/secrets/{secret_id}")
def secret_detail(
    secret_id: str, request: Request, user: CurrentUser, manage: ManageDep,
    templates: TemplatesDep,
) -> Response:
    detail = manage.detail_own(user, secret_id)
    return render(request, templates, "secret_detail.html", user, detail=detail,
                  revoked=request.query_params.get("revoked") == "1")


@router.post("/secrets/{secret_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_secret(
    secret_id: str, user: CurrentUser, manage: ManageDep, client: Client
) -> Response:
    manage.revoke_own(user, secret_id, client)
    return RedirectResponse(f"/secrets/{secret_id}?revoked=1", status_code=303)


