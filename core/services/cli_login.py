"""Signing the CLI in through the browser, as native apps do (RFC 8252 with PKCE, RFC 7636).

The CLI listens on a loopback port, opens ``/cli/authorize`` with a ``code_challenge`` and a
``state``; the person, signed in with whatever SSO the organization uses, approves it; the
browser is sent back to the loopback address with a one-time code; the CLI trades the code
and its ``code_verifier`` for an API token. The code lives two minutes in the cache, is
usable once, and only with the verifier that matches its challenge and the same redirect
address, so a code seen by another local process is worthless to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from cipherslip_crypto.encoding import b64url_encode

from core.cache.protocol import TokenStore
from core.clock import RandomSource
from core.errors import InvalidInput
from core.services.api_tokens import READ, REVEAL, SCOPES, WRITE, ApiTokenService, IssuedToken
from core.services.identity import ClientInfo, Principal

CODE_TTL_SECONDS = 120
DEFAULT_CLI_SCOPES = (WRITE, READ, REVEAL)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
DEVICE_NAME_MAX = 60


@dataclass(frozen=True)
class CliAuthorization:
    """What the CLI asks for, checked: where to send the code, and for what."""

    redirect_uri: str
    state: str
    code_challenge: str
    device: str
    scopes: tuple[str, ...]


def authorization_request(
    *, redirect_uri: str, state: str, code_challenge: str, code_challenge_method: str,
    device: str = "", scope: str = "",
) -> CliAuthorization:
    """Refuse anything but a loopback ``http`` redirect with a port, and S256 PKCE."""
    parts = urlsplit(redirect_uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or port is None or (
            parts.username or parts.password or parts.fragment):
        raise InvalidInput("the CLI must listen on this computer: its address has to be "
                           "http://127.0.0.1:<port>/…", field="redirect_uri")
    if code_challenge_method != "S256" or not _CHALLENGE.fullmatch(code_challenge):
        raise InvalidInput("a PKCE code_challenge (S256, 43 base64url characters) is "
                           "required", field="code_challenge")
    if not state or len(state) > 200:
        raise InvalidInput("state must be 1 to 200 characters", field="state")
    scopes = tuple(scope.split()) or DEFAULT_CLI_SCOPES
    unknown = [name for name in scopes if name not in SCOPES]
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}", field="scope")
    device = "".join(character for character in device if character.isprintable())
    device = " ".join(device.split())[:DEVICE_NAME_MAX] or "a computer"
    return CliAuthorization(redirect_uri, state, code_challenge, device, scopes)


def _key(code: str) -> str:
    return "cli-login:" + hashlib.sha256(code.encode()).hexdigest()


def _with_query(uri: str, **values: str) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return uri + separator + urlencode(values)


@dataclass(frozen=True, kw_only=True)
class CliLoginService:
    tokens: ApiTokenService
    store: TokenStore
    random: RandomSource

    def approve(self, principal: Principal, request: CliAuthorization) -> str:
        """Where to send the browser: the loopback address with a one-time code."""
        code = b64url_encode(self.random.token_bytes(32))
        self.store.put(_key(code), json.dumps({
            "tenant_id": principal.tenant_id, "user_id": principal.user_id,
            "email": principal.email, "name": principal.name, "role": principal.role,
            "challenge": request.code_challenge, "redirect_uri": request.redirect_uri,
            "device": request.device, "scopes": list(request.scopes),
        }), CODE_TTL_SECONDS)
        return _with_query(request.redirect_uri, code=code, state=request.state)

    @staticmethod
    def deny(request: CliAuthorization) -> str:
        return _with_query(request.redirect_uri, error="access_denied", state=request.state)

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str,
                 client: ClientInfo) -> IssuedToken:
        """The API token for an approved code; the code is spent whatever the outcome."""
        if not _VERIFIER.fullmatch(code_verifier):
            raise InvalidInput("code_verifier must be 43 to 128 unreserved characters",
                               field="code_verifier")
        stored = self.store.take(_key(code)) if len(code) <= 100 else None
        if stored is None:
            raise InvalidInput("this sign-in code is unknown, used or expired; run login "
                               "again", field="code")
        approved = json.loads(stored)
        challenge = b64url_encode(hashlib.sha256(code_verifier.encode()).digest())
        if not hmac.compare_digest(challenge, approved["challenge"]) or (
                redirect_uri != approved["redirect_uri"]):
            raise InvalidInput("this sign-in code was not issued to this program; run login "
                               "again", field="code_verifier")
        principal = Principal(tenant_id=approved["tenant_id"], user_id=approved["user_id"],
                              email=approved["email"], name=approved["name"],
                              role=approved["role"])
        return self.tokens.create(principal, name=f"CLI on {approved['device']}",
                                  scopes=approved["scopes"], lifetime=None, client=client)
