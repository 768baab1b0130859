"""Sign-in with SSO (OIDC authorization code + PKCE), sign-out."""

from __future__ import annotations

import logging

from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.csrf import csrf_token, verify_csrf
from api.deps import ServicesDep
from api.oidc import PROVIDER, identity_from_claims, safe_next
from api.sessions import rotate_session
from core.errors import AccessDenied

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger(__name__)


@router.get("/login")
async def login(request: Request, next: str | None = None) -> Response:
    request.session["login_next"] = safe_next(next)
    client = request.app.state.oauth.create_client(PROVIDER)
    redirect_uri = f"{request.app.state.settings.base_url}/auth/callback"
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


@router.get("/callback")
async def callback(request: Request, services: ServicesDep) -> Response:
    client = request.app.state.oauth.create_client(PROVIDER)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        log.info("sign-in failed: %s", exc.error)
        raise AccessDenied(f"sign-in failed ({exc.error}); try again") from None
    claims = token.get("userinfo") or {}
    issuer, subject, email, name = identity_from_claims(dict(claims))
    principal = await run_in_threadpool(
        services.users.sign_in, issuer=issuer, subject=subject, email=email, name=name
    )
    target = safe_next(request.session.pop("login_next", "/"))
    request.session.clear()
    request.session["user"] = {
        "tenant_id": principal.tenant_id, "user_id": principal.user_id,
        "email": principal.email, "name": principal.name,
    }
    # Minted now, not on first page load: concurrent first loads would race to create it.
    csrf_token(request)
    rotate_session(request)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
