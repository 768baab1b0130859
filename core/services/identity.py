"""Who is acting, and from where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """A signed-in org user."""

    tenant_id: str
    user_id: str
    email: str
    name: str


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, for the audit log and rate limits."""

    ip: str | None = None
    user_agent: str | None = None
