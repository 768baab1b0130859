"""OpenID Connect sign-in through Authlib, for any IdP with a discovery document."""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth

from core.errors import AccessDenied
from core.settings import Settings

PROVIDER = "sso"


def create_oauth(settings: Settings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        name=PROVIDER,
        server_metadata_url=settings.oidc_discovery_url,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        # PKCE on top of the client secret; Authlib adds and checks a nonce for "openid".
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth


def identity_from_claims(
    claims: dict[str, Any], *, require_verified_email: bool = True
) -> tuple[str, str, str, str]:
    """(issuer, subject, email, name) from validated ID-token claims."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise AccessDenied("your identity provider did not share an email address")
    # Some IdPs send the claim as a string.
    stated = claims.get("email_verified")
    if stated in (False, "false") or (require_verified_email and stated not in (True, "true")):
        raise AccessDenied("your identity provider says this email address is not verified")
    name = claims.get("name") or claims.get("preferred_username") or email
    return str(claims["iss"]), str(claims["sub"]), email.lower(), str(name)[:200]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
