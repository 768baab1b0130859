"""Who is acting, and from where."""

from __future__ import annotations

from dataclasses import dataclass

BASIC = "basic"
SUPER_ADMIN = "super_admin"


@dataclass(frozen=True)
class Principal:
    """A signed-in org user (SSO).

    Or, with ``answering_for`` set, an external responder (proven by a magic link) answering
    that request: ``user_id`` is then the requester's, who owns the answer, and ``email`` the
    responder's, who is the one acting (the audit log names them, without a user id)."""

    tenant_id: str
    user_id: str
    email: str
    name: str
    role: str = BASIC
    answering_for: str | None = None  # a request id

    @property
    def is_super_admin(self) -> bool:
        return self.role == SUPER_ADMIN


@dataclass(frozen=True)
class Guest:
    """An external recipient who proved an email address with a magic link.

    The proof covers only the secrets (and requests) whose links were confirmed in this
    session.
    """

    tenant_id: str
    email: str
    secret_ids: frozenset[str]
    # Requests this address was proven for (an external responder).
    request_ids: frozenset[str] = frozenset()


# Whoever may look at a shared secret: a colleague through SSO, or a guest.
Viewer = Principal | Guest


@dataclass(frozen=True)
class TokenRef:
    """The API token a request was made with, as the audit log names it (never the token)."""

    id: str
    name: str


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, for the audit log and rate limits."""

    ip: str | None = None
    user_agent: str | None = None
    api_token: TokenRef | None = None
