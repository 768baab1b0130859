"""OpenID Connect sign-in through Authlib, for any IdP with a discovery document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth

from core.errors import AccessDenied, InvalidInput
from core.services import policy
from core.services.policy import clean_display_name
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


@dataclass(frozen=True)
class OidcIdentity:
    issuer: str
    subject: str
    email: str
    name: str
    in_admin_group: bool


def in_group(claims: dict[str, Any], claim: str, group: str) -> bool:
    """IdPs send groups as a list or a single string; an empty group setting means none."""
    if not group:
        return False
    value = claims.get(claim)
    return value == group if isinstance(value, str) else isinstance(value, list) and group in value


def identity_from_claims(
    claims: dict[str, Any], settings: Settings
) -> OidcIdentity:
    """Who signed in, from validated ID-token claims."""
    email_claim = claims.get("email")
    if not isinstance(email_claim, str) or "@" not in email_claim:
        raise AccessDenied("your identity provider did not share an email address")
    try:
        # The same rules as for recipients: the address must be usable as one.
        email = policy.normalize_email(email_claim, field="email")
    except InvalidInput:
        raise AccessDenied("your identity provider shared an email address Cipherslip cannot "
                           "use") from None
    # Some IdPs send the claim as a string.
    stated = claims.get("email_verified")
    required = settings.oidc_require_verified_email
    if stated in (False, "false") or (required and stated not in (True, "true")):
        raise AccessDenied("your identity provider says this email address is not verified")
    # Claims are the IdP's text: cleaned before they reach a page, a log or a mail header.
    name = clean_display_name(str(claims.get("name") or claims.get("preferred_username") or ""))
    return OidcIdentity(
        issuer=str(claims["iss"]), subject=str(claims["sub"]), email=email,
        name=name or email,
        in_admin_group=in_group(claims, settings.oidc_admin_claim, settings.oidc_admin_group),
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
