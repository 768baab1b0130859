"""Sign-in with SSO (OIDC authorization code + PKCE), sign-out."""

from __future__ import annotations

import logging

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from api.oidc import PROVIDER, identity_from_claims, safe_next
from core.errors import AccessDenied, IdentityProviderUnavailable, RateLimited
from http_layer.csrf import csrf_token, verify_csrf
from http_layer.deps import (
    Client,
    RateLimiterDep,
    UsersDep,
)
from http_layer.sessions import rotate_session

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger(__name__)


# Each login starts server-side state: far more than a person needs, far fewer than a flood.
LOGINS_PER_IP_PER_MINUTE = 30
IDP_DOWN = "the sign-in service cannot be reached; try again later"


@router.get("/login")
async def login(
    request: Request, rate_limiter: RateLimiterDep, client_info: Client,
    next: str | None = None,
) -> Response:
    decision = rate_limiter.hit(
        f"login:ip:{client_info.ip}", limit=LOGINS_PER_IP_PER_MINUTE, window_seconds=60
    )
    if not decision.allowed:
        raise RateLimited("too many sign-in attempts; wait a minute",
                          retry_after=decision.retry_after)
    request.session["login_next"] = safe_next(next)
    client = request.app.state.oauth.create_client(PROVIDER)
    redirect_uri = f"{request.app.state.settings.base_url}/auth/callback"
    try:
        response: Response = await client.authorize_redirect(request, redirect_uri)
    except httpx.HTTPError as exc:
        raise IdentityProviderUnavailable(IDP_DOWN) from exc
    return response


@router.get("/callback")
async def callback(request: Request, users: UsersDep) -> Response:
    client = request.app.state.oauth.create_client(PROVIDER)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        log.info("sign-in failed: %s", exc.error)
        raise AccessDenied(f"sign-in failed ({exc.error}); try again") from None
    except (JoseError, AuthlibBaseError) as exc:
        log.info("sign-in failed: invalid ID token (%s)", type(exc).__name__)
        raise AccessDenied("sign-in failed (the identity token did not validate)") from None
    except httpx.HTTPError as exc:
        raise IdentityProviderUnavailable(IDP_DOWN) from exc
    claims = token.get("userinfo") or {}
    identity = identity_from_claims(dict(claims), request.app.state.settings)
    principal = await run_in_threadpool(
        users.sign_in, issuer=identity.issuer, subject=identity.subject,
        email=identity.email, name=identity.name, in_admin_group=identity.in_admin_group,
    )
    target = safe_next(request.session.pop("login_next", "/"))
    request.session.clear()
    request.session["user"] = {
        "tenant_id": principal.tenant_id, "user_id": principal.user_id,
        "email": principal.email, "name": principal.name, "role": principal.role,
    }
    # Minted now, not on first page load: concurrent first loads would race to create it.
    csrf_token(request)
    rotate_session(request)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)
