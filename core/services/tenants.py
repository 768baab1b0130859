"""Tenants. One tenant from settings for now; the admin issue maps more by domain/issuer."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    internal_domains: tuple[str, ...]

    def owns_domain(self, email: str) -> bool:
        return email.rpartition("@")[2] in self.internal_domains


class TenantDirectory:
    def __init__(self, settings: Settings) -> None:
        self._default = Tenant(settings.tenant_id, settings.tenant_name, settings.internal_domains)

    def get(self, tenant_id: str) -> Tenant:
        if tenant_id != self._default.id:
            raise LookupError(f"unknown tenant {tenant_id!r}")
        return self._default

    def for_sign_in(self, issuer: str, email: str) -> Tenant:
        return self._default
