"""The production guard: with ``CIPHERSLIP_ENV=production`` a process refuses to start on a
development backend or a weak secret, and says everything that is wrong in one message."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from core.errors import CipherslipError
from core.settings import Settings

Component = Literal["api", "vault", "scheduler"]

DEV_CLIENT_SECRET = Settings.model_fields["oidc_client_secret"].default
DEV_DISCOVERY_URL = Settings.model_fields["oidc_discovery_url"].default
DEV_MAIL_FROM = Settings.model_fields["mail_from"].default
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
MIN_SECRET_LENGTH = 32


class ProductionGuardError(CipherslipError):
    code = "production_guard"

    def __init__(self, component: str, problems: list[str]) -> None:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"cipherslip {component} refuses to start with CIPHERSLIP_ENV="
                         f"production:\n{lines}")
        self.problems = problems


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _storage_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.effective_database_url.startswith("sqlite"):
        problems.append("CIPHERSLIP_DATABASE_URL is SQLite (a development database): use "
                        "PostgreSQL")
    if settings.blob_backend == "local":
        problems.append("CIPHERSLIP_BLOB_BACKEND is local (a development directory): use s3")
    return problems


def _api_problems(settings: Settings) -> list[str]:
    problems = []
    if getattr(settings, "cache_backend", "memory") == "memory":
        problems.append("CIPHERSLIP_CACHE_BACKEND is memory (one process only; sessions and "
                        "rate limits are not shared): use redis")
    if settings.oidc_discovery_url == DEV_DISCOVERY_URL or _host(
            settings.oidc_discovery_url) in LOOPBACK:
        problems.append("CIPHERSLIP_OIDC_DISCOVERY_URL points at the development identity "
                        "provider: use your organization's IdP")
    elif not settings.oidc_discovery_url.startswith("https://"):
        problems.append("CIPHERSLIP_OIDC_DISCOVERY_URL is not HTTPS")
    if settings.oidc_client_secret == DEV_CLIENT_SECRET or len(settings.oidc_client_secret) < 16:
        problems.append("CIPHERSLIP_OIDC_CLIENT_SECRET is the development value or too short")
    if not settings.base_url.startswith("https://"):
        problems.append("CIPHERSLIP_BASE_URL is not HTTPS: session cookies would not be "
                        "Secure and links would travel in clear")
    if _host(f"smtp://{settings.smtp_host}") in LOOPBACK and settings.smtp_port == 1025:
        problems.append("CIPHERSLIP_SMTP_HOST/PORT point at the development mail sink: use "
                        "your mail relay")
    if settings.mail_from == DEV_MAIL_FROM:
        problems.append("CIPHERSLIP_MAIL_FROM is the development sender")
    if not settings.vault_url.startswith("https://") and _host(settings.vault_url) not in LOOPBACK:
        problems.append("CIPHERSLIP_VAULT_URL is plain HTTP across the network: the vault "
                        "token and sealed keys would travel in clear")
    return problems


def _slack_problems(settings: Settings) -> list[str]:
    """A half-configured Slack app fails at the first request; say so at start-up instead."""
    problems = []
    slack_named = any((settings.slack_bot_token, settings.slack_client_id,
                       settings.slack_client_secret))
    if slack_named and not settings.slack_signing_secret:
        problems.append("CIPHERSLIP_SLACK_SIGNING_SECRET is empty: Slack's requests could not "
                        "be verified, so the Slack app would stay off")
    if settings.slack_client_id and not settings.slack_client_secret:
        problems.append("CIPHERSLIP_SLACK_CLIENT_SECRET is empty: workspaces could not install")
    if settings.slack_enabled and not settings.slack_api_url.startswith("https://"):
        problems.append("CIPHERSLIP_SLACK_API_URL is not HTTPS: bot tokens would cross the "
                        "network in the clear")
    if settings.slack_app_token:
        problems.append("CIPHERSLIP_SLACK_APP_TOKEN is set: Socket Mode is for development")
    return problems


def _vault_token_problems(settings: Settings) -> list[str]:
    if len(settings.vault_token) < MIN_SECRET_LENGTH:
        return [f"CIPHERSLIP_VAULT_TOKEN is missing or shorter than {MIN_SECRET_LENGTH} "
                "characters"]
    return []


def production_problems(settings: Settings, component: Component) -> list[str]:
    """Everything that makes these settings unfit for production, for this process."""
    if settings.env != "production":
        return []
    if component == "vault":
        problems = _vault_token_problems(settings)
        if settings.kms_backend == "local":
            problems.append("CIPHERSLIP_KMS_BACKEND is local (a master key in a file, for "
                            "development): use aws")
        return problems
    problems = _storage_problems(settings)
    if component == "api":
        problems += _api_problems(settings) + _vault_token_problems(settings)
    if component in ("api", "scheduler"):  # the scheduler delivers creator DMs
        problems += _slack_problems(settings)
    return problems


def enforce_production(settings: Settings, component: Component) -> None:
    problems = production_problems(settings, component)
    if problems:
        raise ProductionGuardError(component, problems)
