"""A real OpenID provider on loopback (oidc-provider-mock) and an HTTP-only sign-in."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urljoin

import httpx
from oidc_provider_mock import run_server_in_thread


@contextmanager
def oidc_provider() -> Iterator[str]:
    """Yield the discovery URL of a running provider where any ``sub`` can sign in."""
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP on loopback only
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}/.well-known/openid-configuration"


def set_claims(discovery_url: str, subject: str, claims: Mapping[str, object]) -> None:
    base = discovery_url.removesuffix("/.well-known/openid-configuration")
    httpx.put(f"{base}/users/{subject}", json=claims).raise_for_status()


def register_verified(authorize_url: str, email: str) -> None:
    """Give ``email`` a verified-email claim at the provider (subject = the email)."""
    provider = authorize_url.split("/oauth2/authorize", maxsplit=1)[0]
    httpx.put(f"{provider}/users/{email}",
              json={"email": email, "email_verified": True}).raise_for_status()


def sign_in(client: httpx.Client, email: str, next_path: str = "/") -> None:
    """Walk the authorization-code flow like a browser would, without one."""
    response = client.get(f"/auth/login?next={next_path}")
    assert response.status_code == 302, response.text
    authorize_url = response.headers["location"]
    register_verified(authorize_url, email)
    # The provider's form posts back to its own URL; "sub" is who we claim to be.
    consent = httpx.post(authorize_url, data={"sub": email}, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    callback = client.get(consent.headers["location"])
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == next_path


def csrf_token_from(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def absolute(base: str, location: str) -> str:
    return urljoin(base, location)


def sign_in_without_registering(client: httpx.Client, subject: str, next_path: str = "/") -> None:
    """Sign in as a subject whose claims the test set up itself (see ``set_claims``)."""
    response = client.get(f"/auth/login?next={next_path}")
    consent = httpx.post(response.headers["location"], data={"sub": subject},
                         follow_redirects=False)
    callback = client.get(consent.headers["location"])
    assert callback.status_code == 303, callback.text
