"""Tenants, from settings: the default one, and more mapped by OIDC issuer or email domain."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    internal_domains: tuple[str, ...]
    issuers: tuple[str, ...] = ()
    slack_teams: tuple[str, ...] = ()

    def owns_domain(self, email: str) -> bool:
        return email.rpartition("@")[2] in self.internal_domains


class TenantDirectory:
    def __init__(self, settings: Settings) -> None:
        self.default = Tenant(settings.tenant_id, settings.tenant_name, settings.internal_domains,
                              slack_teams=settings.slack_teams)
        # One workspace (a bot token) is the default tenant's unless listed elsewhere; with
        # OAuth anyone can install the app, so only listed workspaces belong to a tenant.
        self._listed_teams_only = settings.slack_oauth
        self._tenants = {self.default.id: self.default}
        for config in settings.tenants:
            self._tenants[config.id] = Tenant(config.id, config.name, config.domains,
                                              config.issuers, config.slack_teams)

    def get(self, tenant_id: str) -> Tenant:
        try:
            return self._tenants[tenant_id]
        except KeyError:
            raise LookupError(f"unknown tenant {tenant_id!r}") from None

    def all(self) -> list[Tenant]:
        return list(self._tenants.values())

    def for_sign_in(self, issuer: str, email: str) -> Tenant:
        """The tenant naming this issuer, else the one owning the email's domain, else the
        default tenant."""
        for tenant in self._tenants.values():
            if issuer in tenant.issuers:
                return tenant
        for tenant in self._tenants.values():
            if tenant is not self.default and tenant.owns_domain(email):
                return tenant
        return self.default

    def for_slack_team(self, team_id: str) -> Tenant | None:
        """The tenant naming this Slack workspace; else the default tenant for the one
        workspace of a bot token, and nobody's for an unlisted OAuth install."""
        for tenant in self._tenants.values():
            if team_id in tenant.slack_teams:
                return tenant
        return None if self._listed_teams_only else self.default
