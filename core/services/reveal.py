"""Revealing a secret to a recipient: preview (GET, never changes state) and reveal (POST).

A reveal reads the ciphertext and gets the data key sealed to the recipient's browser
*before* it consumes a view; the view is then taken by one conditional UPDATE (with its burn,
shredding, audit event and notice touch, all owned by ``Lifecycle.take_view``), so counting is
exact under concurrency and a vault or storage failure consumes nothing.

The hot path on PostgreSQL is one pooled connection and two statements: the query that loads
the secret and decides whether this viewer is a recipient, and the view statement.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

from cipherslip_crypto.hpke import parse_public_key
from cipherslip_crypto.sharecode import normalize_share_code
from sqlalchemy import Connection, Engine, Select, bindparam, exists, select
from sqlalchemy.exc import DBAPIError

from core.blobstore.protocol import BlobStore
from core.cache.protocol import RateHit, RateLimiter
from core.clock import Clock
from core.db.engine import autocommit_connection
from core.db.models import Secret, SecretRecipient, User
from core.errors import (
    AccessDenied,
    BlobNotFound,
    LinkDamaged,
    NotFound,
    RateLimited,
    SecretUnavailable,
    ServiceUnavailable,
)
from core.metrics import Metrics
from core.services import audit, policy
from core.services.audit import AuditLog, actor_of
from core.services.downloads import DownloadService
from core.services.identity import ClientInfo, Guest, Viewer
from core.services.lifecycle import Lifecycle, ViewTaken
from core.services.states import ACTIVE, EXTERNAL, FILE, PENDING, effective_status, views_left
from core.settings import Settings
from core.vault_client.protocol import VaultClient

# Looking at a share page is cheaper and more frequent than revealing it.
PREVIEWS_PER_REVEAL = 5
# Seconds to wait before each check of a view whose statement lost its connection.
RECHECK_DELAYS = (0.0, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class ShareEntry:
    secret_id: str
    share_code: str
    audience: str
    tenant_id: str
    sender_name: str  # who shared it, so that an external recipient knows whom to trust


@dataclass(frozen=True)
class SharePreview:
    secret_id: str
    share_code: str
    status: str
    label: str | None
    creator_name: str
    creator_email: str
    expires_at: datetime
    views_left: int | None
    secret_type: str
    key_check: bytes | None


@dataclass(frozen=True)
class RevealedSecret:
    secret_id: str
    sealed_key: bytes
    sealed_meta: bytes
    content: bytes | None  # texts: the stream itself
    download_url: str | None  # files: where to fetch the stream (10 minutes, this viewer)
    content_size: int | None
    views_left: int | None
    burned: bool


@dataclass(frozen=True)
class ShareTarget:
    """A secret as its share page and reveal see it, with whether the viewer may open it."""

    id: str
    tenant_id: str
    share_code: str
    audience: str
    secret_type: str
    label: str | None
    status: str
    view_limit: int | None
    views_used: int
    expires_at: datetime
    wrapped_key: bytes | None
    sealed_meta: bytes | None
    key_check: bytes | None
    blob_key: str | None
    content_size: int | None
    creator_name: str
    creator_email: str
    is_recipient: bool


@cache
def _target_statement() -> Select[*tuple[Any, ...]]:
    """Built once per process: a share page and a reveal each run it."""
    is_recipient = exists().where(SecretRecipient.secret_id == Secret.id,
                                  SecretRecipient.email == bindparam("email"))
    return (
        select(Secret.id, Secret.tenant_id, Secret.share_code, Secret.audience,
               Secret.secret_type, Secret.label, Secret.status, Secret.view_limit,
               Secret.views_used, Secret.expires_at, Secret.wrapped_key, Secret.sealed_meta,
               Secret.key_check, Secret.blob_key, Secret.content_size,
               User.name.label("creator_name"), User.email.label("creator_email"),
               is_recipient.label("is_recipient"))
        .join(User, User.id == Secret.creator_id)
        .where(Secret.share_code == bindparam("code"), Secret.tenant_id == bindparam("tenant"))
    )


@dataclass(frozen=True, kw_only=True)
class RevealService:
    settings: Settings
    engine: Engine
    blob_store: BlobStore
    vault: VaultClient
    lifecycle: Lifecycle
    audit_log: AuditLog
    rate_limiter: RateLimiter
    clock: Clock
    downloads: DownloadService
    metrics: Metrics | None = None
    sleep: Callable[[float], None] = time.sleep

    def _load(self, connection: Connection, viewer: Viewer, share_code: str) -> ShareTarget:
        """The secret, its creator and whether ``viewer`` is a recipient: one query."""
        row = connection.execute(_target_statement(), {
            "code": normalize_share_code(share_code), "tenant": viewer.tenant_id,
            "email": viewer.email,
        }).one_or_none()
        # Pending secrets are invisible: their creator has not finished sharing them.
        if row is None or row.status == PENDING:
            raise NotFound("no secret has this share code")
        return ShareTarget(**row._mapping)

    def entry(self, share_code: str) -> ShareEntry:
        """For a visitor not yet signed in: how to prove who they are (SSO or email link).

        Share codes are unguessable, so this tells a visitor only what the link already did,
        and who sent it: someone asked to confirm their email address for a stranger's link
        should know whose request it is.
        """
        code = normalize_share_code(share_code)
        with autocommit_connection(self.engine) as connection:
            row = connection.execute(
                select(Secret.id, Secret.share_code, Secret.audience, Secret.status,
                       Secret.tenant_id, User.name)
                .join(User, User.id == Secret.creator_id)
                .where(Secret.share_code == code)
            ).one_or_none()
        if row is None or row.status == PENDING:
            raise NotFound("no secret has this share code")
        return ShareEntry(row.id, row.share_code, row.audience, row.tenant_id, row.name)

    def _deny(
        self, connection: Connection, viewer: Viewer, client: ClientInfo, target: ShareTarget,
        reason: str,
    ) -> None:
        self.audit_log.record(
            connection, audit.ACCESS_DENIED, tenant_id=viewer.tenant_id,
            actor=actor_of(viewer), client=client, secret=target,
            status=audit.FAILURE, status_detail=reason,
        )

    def _authorize(
        self, connection: Connection, viewer: Viewer, client: ClientInfo, target: ShareTarget
    ) -> None:
        """Recipients only (checked before status, so outsiders learn nothing of it).

        Colleagues prove their email through SSO and may open any secret addressed to it; a
        guest's magic-link proof covers only the external secrets it confirmed a link for.
        """
        if not target.is_recipient:
            self._deny(connection, viewer, client, target, "not_a_recipient")
            raise AccessDenied("this secret was not shared with you")
        if isinstance(viewer, Guest) and (
            target.audience != EXTERNAL or target.id not in viewer.secret_ids
        ):
            self._deny(connection, viewer, client, target, "link_not_confirmed")
            raise AccessDenied("confirm a sign-in link for this secret first")

    def preview(self, viewer: Viewer, share_code: str, client: ClientInfo) -> SharePreview:
        self._throttle(viewer, client, "preview", share_code)
        with autocommit_connection(self.engine) as connection:
            target = self._load(connection, viewer, share_code)
            self._authorize(connection, viewer, client, target)
        return SharePreview(
            secret_id=target.id,
            share_code=target.share_code,
            status=effective_status(target, self.clock.now()),
            label=target.label,
            creator_name=target.creator_name,
            creator_email=target.creator_email,
            expires_at=target.expires_at,
            views_left=views_left(target),
            secret_type=target.secret_type,
            key_check=target.key_check,
        )

    def _throttle(self, viewer: Viewer, client: ClientInfo, kind: str, share_code: str) -> None:
        """Count an access attempt before the code is even looked up, so guessing codes is
        throttled too; previews get their own, larger allowance."""
        factor = PREVIEWS_PER_REVEAL if kind == "preview" else 1
        who = f"guest:{viewer.email}" if isinstance(viewer, Guest) else f"user:{viewer.user_id}"
        per_user, per_ip = self.rate_limiter.hit_all([
            RateHit(f"{kind}:{who}", self.settings.reveal_rate_per_user * factor, 60),
            RateHit(f"{kind}:ip:{client.ip}", self.settings.reveal_rate_per_ip * factor, 60),
        ])
        if per_user.allowed and per_ip.allowed:
            return
        if per_user.first_refusal or per_ip.first_refusal:
            # Audited once per window: a flood must not become a flood of audit rows.
            with autocommit_connection(self.engine) as connection, contextlib.suppress(
                    NotFound):  # an unknown code has nothing to attach to
                target = self._load(connection, viewer, share_code)
                self._deny(connection, viewer, client, target, "rate_limited")
        raise RateLimited(f"too many {kind} attempts; wait a minute",
                          retry_after=max(per_user.retry_after, per_ip.retry_after))

    def _refuse_unavailable(
        self, connection: Connection, viewer: Viewer, client: ClientInfo, target: ShareTarget
    ) -> None:
        status = effective_status(target, self.clock.now())
        if status == ACTIVE:
            return
        self.lifecycle.expire_if_due(target, connection)
        self._deny(connection, viewer, client, target, status)
        raise SecretUnavailable(status)

    def reveal(
        self, viewer: Viewer, share_code: str, public_key: bytes, client: ClientInfo,
        key_check: bytes | None = None,
    ) -> RevealedSecret:
        started = time.perf_counter()
        parse_public_key(public_key)  # a bad key is the caller's 422, not the vault's refusal
        self._throttle(viewer, client, "reveal", share_code)
        with autocommit_connection(self.engine) as connection:
            target = self._load(connection, viewer, share_code)
            self._authorize(connection, viewer, client, target)
            self._refuse_unavailable(connection, viewer, client, target)
            if not policy.key_check_holds(target.key_check, key_check):
                # Before the vault is asked and before a view is taken: a damaged link costs
                # nothing but this audited refusal.
                self._deny(connection, viewer, client, target, "link_damaged")
                raise LinkDamaged
            if target.blob_key is None or target.wrapped_key is None or (
                    target.sealed_meta is None):
                self._refuse_ended_meanwhile(connection, viewer, client, target)
            is_file = target.secret_type == FILE
            try:
                # A text comes with the answer; a file is fetched through a download link.
                content = None if is_file else self.blob_store.read(target.blob_key)
            except BlobNotFound:
                # A concurrent last view (or a revoke) may have deleted it since we read it.
                self._refuse_ended_meanwhile(connection, viewer, client, target)
            sealed_key = self.vault.unseal_data_key(
                tenant_id=target.tenant_id, secret_id=target.id,
                wrapped_key=target.wrapped_key, public_key=public_key,
            )
            opened = audit.OPENED_EXTERNAL if target.audience == EXTERNAL else (
                audit.OPENED_INTERNAL)
            event = self.audit_log.values(opened, tenant_id=viewer.tenant_id,
                                          actor=actor_of(viewer), client=client, secret=target)
            try:
                taken = self.lifecycle.take_view(connection, target.id, target.tenant_id,
                                                 event)
            except DBAPIError as lost:
                # The database went away mid-statement: the view may have been committed
                # even so. Its own audit event tells; content then goes out with it.
                if not lost.connection_invalidated:
                    raise
                taken = self._recorded_after_all(target.id, event)
                if taken is None:
                    raise
            if taken is None:
                self._refuse_ended_meanwhile(connection, viewer, client, target)
            if taken.burned and not is_file:
                # A file's last download window stays open; the scheduler purges it afterwards.
                self.lifecycle.discard_burned_text(target.id, target.blob_key, connection)
        download_url = self.downloads.issue(viewer, target.id, target.blob_key) if is_file else (
            None)
        if self.metrics is not None:
            self.metrics.reveal_served(target.audience, time.perf_counter() - started)
        return RevealedSecret(
            secret_id=target.id, sealed_key=sealed_key, sealed_meta=target.sealed_meta,
            content=content, download_url=download_url, content_size=target.content_size,
            views_left=(None if target.view_limit is None
                        else target.view_limit - taken.views_used),
            burned=taken.burned,
        )

    def _recorded_after_all(self, secret_id: str, event: dict[str, Any]) -> ViewTaken | None:
        """Whether a view whose statement lost its connection was committed; asked again for
        a few seconds while the database comes back (an outage usually starts or ends with a
        restart), then the question stays open and the caller answers 503."""
        for delay in RECHECK_DELAYS:
            self.sleep(delay)
            try:
                return self.lifecycle.view_recorded(secret_id, event)
            except DBAPIError:
                continue
        return None

    def _refuse_ended_meanwhile(
        self, connection: Connection, viewer: Viewer, client: ClientInfo, target: ShareTarget
    ) -> NoReturn:
        """The secret changed between our read and our write: someone else took the last
        view, or it was revoked or expired. Say which; if it is still active, what failed
        was ours (storage), so nothing was consumed and the answer is 503."""
        current = connection.execute(
            select(Secret.status, Secret.expires_at, Secret.view_limit, Secret.views_used)
            .where(Secret.id == target.id)
        ).one_or_none()
        status = effective_status(current, self.clock.now()) if current else None
        if status in (None, ACTIVE):
            raise ServiceUnavailable("the secret's content is not readable right now")
        self._deny(connection, viewer, client, target, str(status))
        raise SecretUnavailable(str(status))
