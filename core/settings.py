"""Every setting of every Cipherslip process, read from ``CIPHERSLIP_*`` environment variables.

One class so that the README, the production guard and the compose-file test have a single
source of truth. Each process reads only the fields it needs; the vault is the only process
that should be given KMS settings and credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[tuple[str, ...], NoDecode]

DEFAULT_DATA_DIR = Path(".cipherslip")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class TenantConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100)
    domains: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    # Slack workspaces (team ids) whose users belong to this tenant.
    slack_teams: tuple[str, ...] = ()

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(domain.lower().lstrip("@") for domain in value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIPHERSLIP_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    # Public origin that share URLs and OIDC redirects are built from.
    base_url: str = "http://127.0.0.1:8000"
    # Local state of the embedded defaults (SQLite file, blobs, master key).
    data_dir: Path = DEFAULT_DATA_DIR

    # --- storage -----------------------------------------------------------------------
    # Empty means "SQLite file in data_dir".
    database_url: str = ""
    # Connections each process keeps open to PostgreSQL, and the api's worker threads (one
    # connection each, so none waits for one). A worker process uses one core: a few threads
    # keep it busy, more only contend. Mind the server's max_connections: this times the
    # worker processes times the replicas, plus the schedulers'.
    db_pool_size: int = Field(default=8, ge=1, le=200)
    blob_backend: Literal["local", "s3"] = "local"
    blob_dir: Path | None = None
    s3_bucket: str = "cipherslip"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    # Sessions, rate limits, replay caches and one-use tokens. "memory" serves one process
    # only; replicas must share Redis.
    cache_backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # --- vault (key custody) -------------------------------------------------------------
    vault_url: str = "http://127.0.0.1:8100"
    # Shared service credential the api presents to the vault; nobody else has it.
    vault_token: str = ""
    vault_timeout_seconds: float = 5.0
    kms_backend: Literal["local", "aws"] = "local"
    kms_master_key_file: Path | None = None
    kms_key_id: str = ""
    kms_endpoint_url: str | None = None
    kms_region: str = "us-east-1"

    # --- identity -----------------------------------------------------------------------
    oidc_discovery_url: str = "http://127.0.0.1:9400/.well-known/openid-configuration"
    oidc_client_id: str = "cipherslip-dev"
    oidc_client_secret: str = "cipherslip-dev-secret"  # noqa: S105 - dev IdP accepts any
    oidc_scopes: str = "openid email profile"
    # Recipients are matched by email, so an email the IdP has not verified must not count.
    # Turn off only for an IdP that verifies every address but omits the claim.
    oidc_require_verified_email: bool = True
    # Display name of the sign-in button ("Sign in with Okta").
    oidc_provider_name: str = "SSO"
    session_ttl_seconds: int = Field(default=8 * 3600, ge=300)

    # --- mail (magic links for external recipients) ----------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    # none: plain SMTP (local relays only); starttls: upgrade after connecting; tls: TLS from
    # the first byte (port 465).
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Extra CA bundle for a relay whose certificate a private CA signed.
    smtp_ca_file: Path | None = None
    mail_from: str = "Cipherslip <cipherslip@localhost>"

    # --- tenants and roles --------------------------------------------------------------
    # The default tenant: every sign-in no other tenant claims lands here.
    tenant_id: str = "default"
    tenant_name: str = "Cipherslip"
    # Emails on these domains count as org users even before their first sign-in.
    internal_domains: CommaList = ("example.com",)
    # More tenants, as JSON: [{"id": "acme", "name": "Acme", "domains": ["acme.com"],
    # "issuers": ["https://acme.okta.com"]}]. A sign-in goes to the tenant naming its issuer,
    # else the one owning its email domain, else the default tenant.
    tenants: tuple[TenantConfig, ...] = ()
    # Super admins: these emails, and members of an IdP group (claim name and group).
    super_admin_emails: CommaList = ()
    oidc_admin_claim: str = "groups"
    oidc_admin_group: str = ""

    # --- abuse limits (per minute) --------------------------------------------------------
    reveal_rate_per_user: int = Field(default=20, ge=1)
    reveal_rate_per_ip: int = Field(default=60, ge=1)
    create_rate_per_user: int = Field(default=30, ge=1)
    magic_link_rate_per_email: int = Field(default=5, ge=1)
    magic_link_rate_per_ip: int = Field(default=20, ge=1)
    # Every "email me a link" answer takes at least this long, recipient or not, so timing
    # does not tell who the recipients are. Keep it above the mail relay's slowest sends.
    magic_link_response_seconds: float = Field(default=1.0, ge=0)

    # --- Slack ----------------------------------------------------------------------------
    # Every request from Slack is checked against the signing secret; without it the Slack
    # app is off. One workspace: its bot token. Many: the OAuth client id and secret
    # (installs at /slack/install are stored in the database).
    slack_signing_secret: str = ""
    slack_bot_token: str = ""
    slack_client_id: str = ""
    slack_client_secret: str = ""
    # Socket Mode for development (an xapp- token): no public URL needed.
    slack_app_token: str = ""
    # The default tenant's Slack workspaces (team ids). With OAuth installs every workspace
    # must be listed (here or in a tenant's slack_teams): an unlisted one gets nothing.
    slack_teams: CommaList = ()
    # Slack's Web API; tests point it at a local fake.
    slack_api_url: str = "https://slack.com/api/"
    # Previews of pasted share links. Slack's link_shared events carry the whole URL, key
    # included; off, the app ignores them (a deployment that wants no key passing through).
    slack_unfurls: bool = True

    # --- operations ---------------------------------------------------------------------
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs, or "*" behind a load
    # balancer nothing else can reach). Empty: the TCP peer is the client.
    forwarded_allow_ips: str = ""
    # When set, /metrics answers only to "Authorization: Bearer <token>" (Prometheus'
    # bearer_token); keep /metrics off the public internet either way.
    metrics_token: str = ""
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    # False hides the warning each development-only backend logs at start (`cipherslip dev`
    # prints one summary line instead).
    development_warnings: bool = True

    @field_validator("slack_teams", mode="before")
    @classmethod
    def _parse_teams(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("internal_domains", "super_admin_emails", mode="before")
    @classmethod
    def _parse_lowercase_list(cls, value: object) -> object:
        parsed = _split_commas(value)
        if isinstance(parsed, tuple):
            return tuple(item.lower().lstrip("@") for item in parsed)
        return parsed

    @model_validator(mode="after")
    def _distinct_tenants(self) -> Settings:
        ids = [self.tenant_id, *(tenant.id for tenant in self.tenants)]
        if len(set(ids)) != len(ids):
            raise ValueError(
                "tenant ids must be distinct (CIPHERSLIP_TENANT_ID and CIPHERSLIP_TENANTS)"
            )
        return self

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _named_proxies_only(cls, value: str) -> str:
        # With "*", the client's own leftmost X-Forwarded-For entry would be believed.
        if "*" in value:
            raise ValueError("name the proxies (IPs or CIDR ranges); '*' would let clients "
                             "choose their own IP address")
        return value

    @field_validator("base_url", "vault_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_client_id))

    @property
    def slack_oauth(self) -> bool:
        """Many workspaces, installed through OAuth (else one, from the bot token)."""
        return bool(self.slack_client_id)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cipherslip.db'}"

    @property
    def effective_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def effective_master_key_file(self) -> Path:
        return self.kms_master_key_file or self.data_dir / "master.key"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")
