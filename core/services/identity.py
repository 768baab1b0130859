"""Who is acting, and from where."""

from __future__ import annotations

from dataclasses import dataclass

BASIC = "basic"
SUPER_ADMIN = "super_admin"


@dataclass(frozen=True)
class Principal:
    """A signed-in org user (SSO)."""

    tenant_id: str
    user_id: str
    email: str
    name: str
    role: str = BASIC

    @property
    def is_super_admin(self) -> bool:
        return self.role == SUPER_ADMIN


@dataclass(frozen=True)
class Guest:
    """An external recipient who proved an email address with a magic link.

    The proof covers only the secrets whose links were confirmed in this session.
    """

    tenant_id: str
    email: str
    secret_ids: frozenset[str]


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
