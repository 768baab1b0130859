"""Tables. The server stores ciphertext, wrapped keys and metadata, never a link key or plaintext.

Every row carries ``tenant_id`` and every query filters on it.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class User(Base):
    """An org user, known from an SSO sign-in."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "issuer", "subject"),
        Index("ix_users_tenant_email", "tenant_id", "email", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The role as of the last SSO sign-in (settings or the IdP's admin group), for requests
    # that arrive without one (Slack commands).
    is_super_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Secret(Base):
    __tablename__ = "secrets"
    __table_args__ = (
        Index("ix_secrets_tenant_creator", "tenant_id", "creator_id", "created_at"),
        Index("ix_secrets_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    share_code: Mapped[str] = mapped_column(String(14), unique=True)
    creator_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    audience: Mapped[str] = mapped_column(String(16))  # internal | external
    secret_type: Mapped[str] = mapped_column(String(8))  # text | file
    label: Mapped[str | None] = mapped_column(String(200))
    # pending -> active -> expired | burned | revoked
    status: Mapped[str] = mapped_column(String(16))
    view_limit: Mapped[int | None] = mapped_column(Integer)
    views_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Content: all three are cleared when the secret ends (crypto-shredding). A terminal
    # secret whose blob_key is still set has a blob delete pending (retried by the scheduler).
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_meta: Mapped[bytes | None] = mapped_column(LargeBinary)
    blob_key: Mapped[str | None] = mapped_column(String(512))
    content_size: Mapped[int | None] = mapped_column(BigInteger)
    # The creator's browser's commitment to the link key (docs/FORMATS.md, key check), so that a
    # recipient's browser tells a damaged link before it spends a view. None for secrets
    # created before it existed: those reveal unchecked.
    key_check: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # Files: the plaintext size the creator declared (the upload must match it exactly), and
    # the blob store's id of the multipart upload in progress.
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    upload_id: Mapped[str | None] = mapped_column(String(1024))
    # Set on the answer to a request (its only recipient is the requester): completing it
    # fulfils the request in the same transaction.
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("secret_requests.id", ondelete="SET NULL"), index=True)

    creator: Mapped[User] = relationship(lazy="joined")
    recipients: Mapped[list[SecretRecipient]] = relationship(
        back_populates="secret", cascade="all, delete-orphan", lazy="selectin",
        order_by="SecretRecipient.id",
    )


class SecretRecipient(Base):
    __tablename__ = "secret_recipients"
    __table_args__ = (UniqueConstraint("secret_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    secret_id: Mapped[str] = mapped_column(ForeignKey("secrets.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320), index=True)

    secret: Mapped[Secret] = relationship(back_populates="recipients")


class SecretRequest(Base):
    """Someone asked named responders for a secret; the answer is a secret whose only
    recipient is the requester, encrypted under the request link's key."""

    __tablename__ = "secret_requests"
    __table_args__ = (
        Index("ix_secret_requests_tenant_requester", "tenant_id", "requester_id", "created_at"),
        Index("ix_secret_requests_status_open_until", "status", "open_until"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    request_code: Mapped[str] = mapped_column(String(14), unique=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    audience: Mapped[str] = mapped_column(String(16))  # the responders: internal | external
    label: Mapped[str | None] = mapped_column(String(500))  # the instructions responders see
    expected_format: Mapped[str | None] = mapped_column(String(8))  # None: any
    # pending (until its key check arrives) -> open -> fulfilled | expired | cancelled
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    open_until: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer_expires_in_seconds: Mapped[int] = mapped_column(Integer)
    answer_view_limit: Mapped[int | None] = mapped_column(Integer)
    key_check: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # Once fulfilled: the answer (a plain id, not a foreign key: the answer points back).
    answer_secret_id: Mapped[str | None] = mapped_column(String(36))
    answered_by: Mapped[str | None] = mapped_column(String(320))
    # When the requester was told it closed unanswered (a Slack DM), or that was given up.
    closure_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    requester: Mapped[User] = relationship(lazy="joined")
    responders: Mapped[list[SecretRequestResponder]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SecretRequestResponder.id")


class SecretRequestResponder(Base):
    __tablename__ = "secret_request_responders"
    __table_args__ = (UniqueConstraint("request_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("secret_requests.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320), index=True)


class AuditEvent(Base):
    """One audit event in an OCSF-like shape; columns are what filters use."""

    __tablename__ = "audit_events"
    # Newest-first pages walk (tenant, id); the filter columns carry id too, so a filtered
    # page is an index range read in order rather than a sort.
    __table_args__ = (
        UniqueConstraint("tenant_id", "chain_seq", name="uq_audit_tenant_chain_seq"),
        Index("ix_audit_tenant_id", "tenant_id", "id"),
        Index("ix_audit_tenant_time", "tenant_id", "time"),
        Index("ix_audit_tenant_activity", "tenant_id", "activity_name", "id"),
        Index("ix_audit_tenant_actor", "tenant_id", "actor_email", "id"),
        Index("ix_audit_tenant_ip", "tenant_id", "src_ip", "id"),
        Index("ix_audit_secret", "secret_id"),
        # What the chain sequencer has yet to link: small, and empty most of the time.
        Index("ix_audit_unlinked", "tenant_id", "id",
              postgresql_where=text("chain_seq IS NULL"), sqlite_where=text("chain_seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    activity_name: Mapped[str] = mapped_column(String(64))
    actor_email: Mapped[str | None] = mapped_column(String(320))
    actor_uid: Mapped[str | None] = mapped_column(String(64))
    src_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    secret_id: Mapped[str | None] = mapped_column(String(36))
    share_code: Mapped[str | None] = mapped_column(String(14))
    mode: Mapped[str | None] = mapped_column(String(16))
    secret_type: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # Success | Failure
    status_detail: Mapped[str | None] = mapped_column(String(200))
    # The API token a request was made with (its id and name, never the token itself).
    api_token_id: Mapped[str | None] = mapped_column(String(36))
    api_token_name: Mapped[str | None] = mapped_column(String(100))
    # Tamper evidence: position in the tenant's chain, the previous event's hash, and this
    # event's hash over its fields and that previous hash (core/services/audit_chain.py).
    # NULL until the sequencer links the event, seconds after it was committed.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class ApiToken(Base):
    """A personal API token. Only the token's SHA-256 is kept; ``hint`` is its last four
    characters, so that its owner can tell tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_tenant_user", "tenant_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(320))

    user: Mapped[User] = relationship()


class AuditChainHead(Base):
    """The newest link of each tenant's audit chain; its row lock keeps one sequencer at a
    time linking the tenant's events, and it reveals deletions of the newest events."""

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class MagicLink(Base):
    """A single-use sign-in link for an external recipient. Only the token's SHA-256 is kept."""

    __tablename__ = "magic_links"
    __table_args__ = (Index("ix_magic_links_secret_email", "secret_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    # What the link proves the address for: a secret it was shared with, or a request
    # (for an external responder) — exactly one of the two.
    secret_id: Mapped[str | None] = mapped_column(ForeignKey("secrets.id", ondelete="CASCADE"))
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("secret_requests.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when the recipient asked again: only the newest link works.
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Draft(Base):
    """A secret's options chosen in Slack, waiting for its content on the web (single-use,
    30 minutes). Only the token's SHA-256 is kept; the token travels in the hand-off URL."""

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    creator_email: Mapped[str] = mapped_column(String(320))
    slack_team_id: Mapped[str] = mapped_column(String(32))
    slack_user_id: Mapped[str] = mapped_column(String(32))
    # "secret" (/share-secret) or "request" (/secrets request: recipients are the people
    # asked, format the expected one or "any", the expiry and views the answer's).
    kind: Mapped[str] = mapped_column(String(8), default="secret", server_default="secret")
    audience: Mapped[str] = mapped_column(String(16))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(8))
    label: Mapped[str | None] = mapped_column(String(500))
    expires_in_seconds: Mapped[int] = mapped_column(Integer)
    view_limit: Mapped[int | None] = mapped_column(Integer)
    open_for_seconds: Mapped[int | None] = mapped_column(Integer)  # requests only
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    secret_id: Mapped[str | None] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)


class CreatorNotice(Base):
    """The creator's Slack message about one secret: posted when it goes live, then edited
    whenever it changes. ``version`` counts changes, ``delivered_version`` what Slack shows;
    the notifier job works off the difference, so a Slack outage delays and never loses."""

    __tablename__ = "creator_notices"
    __table_args__ = (Index("ix_creator_notices_due", "next_attempt_at"),)

    secret_id: Mapped[str] = mapped_column(
        ForeignKey("secrets.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64))
    # Known when the secret came from a Slack draft; else found by the creator's email.
    slack_team_id: Mapped[str | None] = mapped_column(String(32))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    delivered_version: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # NULL once there is nothing to deliver (or delivery was given up).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# Slack workspaces installed through OAuth, in slack_sdk's own tables (its SQLAlchemy stores
# read and write them); declared here so that migrations and the drift test cover them.
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
