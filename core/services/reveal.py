"""Revealing a secret to a recipient: preview (GET, never changes state) and reveal (POST).

A reveal reads the ciphertext and gets the data key sealed to the recipient's browser
*before* it consumes a view; the view is then taken by one conditional UPDATE, so counting is
exact under concurrency and a vault or storage failure consumes nothing.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import and_, case, null, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.cache.protocol import RateLimiter
from core.clock import Clock
from core.crypto.hpke import parse_public_key
from core.crypto.sharecode import normalize_share_code
from core.db.models import Secret
from core.errors import (
    AccessDenied,
    BlobNotFound,
    NotFound,
    RateLimited,
    SecretUnavailable,
    ServiceUnavailable,
)
from core.metrics import Metrics
from core.services import audit, notices
from core.services.audit import AuditLog, actor_of
from core.services.downloads import DownloadService
from core.services.identity import ClientInfo, Guest, Viewer
from core.services.lifecycle import (
    ACTIVE,
    BURNED,
    EXTERNAL,
    FILE,
    PENDING,
    Lifecycle,
    effective_status,
    views_left,
)
from core.settings import Settings
from core.vault_client.protocol import VaultClient

# Looking at a share page is cheaper and more frequent than revealing it.
PREVIEWS_PER_REVEAL = 5


@dataclass(frozen=True)
class ShareEntry:
    secret_id: str
    share_code: str
    audience: str


@dataclass(frozen=True)
class SharePreview:
    share_code: str
    status: str
    label: str | None
    creator_name: str
    creator_email: str
    expires_at: datetime
    views_left: int | None
    secret_type: str


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


@dataclass(frozen=True, kw_only=True)
class RevealService:
    settings: Settings
    db: sessionmaker[Session]
    blob_store: BlobStore
    vault: VaultClient
    lifecycle: Lifecycle
    audit_log: AuditLog
    rate_limiter: RateLimiter
    clock: Clock
    downloads: DownloadService
    metrics: Metrics | None = None

    def _load(self, viewer: Viewer, share_code: str) -> Secret:
        code = normalize_share_code(share_code)
        with self.db() as session:
            secret = session.scalar(
                select(Secret).where(Secret.share_code == code,
                                     Secret.tenant_id == viewer.tenant_id)
            )
        # Pending secrets are invisible: their creator has not finished sharing them.
        if secret is None or secret.status == PENDING:
            raise NotFound("no secret has this share code")
        return secret

    def entry(self, share_code: str) -> ShareEntry:
        """For a visitor not yet signed in: how to prove who they are (SSO or email link).

        Share codes are unguessable, so this tells a visitor only what the link already did.
        """
        code = normalize_share_code(share_code)
        with self.db() as session:
            secret = session.scalar(select(Secret).where(Secret.share_code == code))
        if secret is None or secret.status == PENDING:
            raise NotFound("no secret has this share code")
        return ShareEntry(secret.id, secret.share_code, secret.audience)

    def _deny(self, viewer: Viewer, client: ClientInfo, secret: Secret, reason: str) -> None:
        with self.db.begin() as session:
            self.audit_log.record(
                session, audit.ACCESS_DENIED, tenant_id=viewer.tenant_id,
                actor=actor_of(viewer), client=client, secret=secret,
                status=audit.FAILURE, status_detail=reason,
            )

    def _authorize(self, viewer: Viewer, client: ClientInfo, secret: Secret) -> None:
        """Recipients only (checked before status, so outsiders learn nothing of it).

        Colleagues prove their email through SSO and may open any secret addressed to it; a
        guest's magic-link proof covers only the external secrets it confirmed a link for.
        """
        if viewer.email not in {r.email for r in secret.recipients}:
            self._deny(viewer, client, secret, "not_a_recipient")
            raise AccessDenied("this secret was not shared with you")
        if isinstance(viewer, Guest) and (
            secret.audience != EXTERNAL or secret.id not in viewer.secret_ids
        ):
            self._deny(viewer, client, secret, "link_not_confirmed")
            raise AccessDenied("confirm a sign-in link for this secret first")

    def preview(self, viewer: Viewer, share_code: str, client: ClientInfo) -> SharePreview:
        self._throttle(viewer, client, "preview", share_code)
        secret = self._load(viewer, share_code)
        self._authorize(viewer, client, secret)
        return SharePreview(
            share_code=secret.share_code,
            status=effective_status(secret, self.clock.now()),
            label=secret.label,
            creator_name=secret.creator.name,
            creator_email=secret.creator.email,
            expires_at=secret.expires_at,
            views_left=views_left(secret),
            secret_type=secret.secret_type,
        )

    def _throttle(self, viewer: Viewer, client: ClientInfo, kind: str, share_code: str) -> None:
        """Count an access attempt before the code is even looked up, so guessing codes is
        throttled too; previews get their own, larger allowance."""
        factor = PREVIEWS_PER_REVEAL if kind == "preview" else 1
        who = f"guest:{viewer.email}" if isinstance(viewer, Guest) else f"user:{viewer.user_id}"
        per_user = self.rate_limiter.hit(
            f"{kind}:{who}", limit=self.settings.reveal_rate_per_user * factor, window_seconds=60
        )
        per_ip = self.rate_limiter.hit(
            f"{kind}:ip:{client.ip}", limit=self.settings.reveal_rate_per_ip * factor,
            window_seconds=60,
        )
        if per_user.allowed and per_ip.allowed:
            return
        if per_user.first_refusal or per_ip.first_refusal:
            # Audited once per window: a flood must not become a flood of audit rows.
            with contextlib.suppress(NotFound):  # an unknown code has nothing to attach to
                self._deny(viewer, client, self._load(viewer, share_code), "rate_limited")
        raise RateLimited(f"too many {kind} attempts; wait a minute",
                          retry_after=max(per_user.retry_after, per_ip.retry_after))

    def _refuse_unavailable(self, viewer: Viewer, client: ClientInfo, secret: Secret) -> None:
        status = effective_status(secret, self.clock.now())
        if status == ACTIVE:
            return
        self.lifecycle.expire_if_due(secret)
        self._deny(viewer, client, secret, status)
        raise SecretUnavailable(status)

    def reveal(
        self, viewer: Viewer, share_code: str, public_key: bytes, client: ClientInfo
    ) -> RevealedSecret:
        started = time.perf_counter()
        parse_public_key(public_key)  # a bad key is the caller's 422, not the vault's refusal
        self._throttle(viewer, client, "reveal", share_code)
        secret = self._load(viewer, share_code)
        self._authorize(viewer, client, secret)
        self._refuse_unavailable(viewer, client, secret)
        if secret.blob_key is None or secret.wrapped_key is None or secret.sealed_meta is None:
            self._refuse_ended_meanwhile(viewer, client, secret)
        is_file = secret.secret_type == FILE
        try:
            # A text comes with the answer; a file is fetched through a download link.
            content = None if is_file else self.blob_store.read(secret.blob_key)
        except BlobNotFound:
            # A concurrent last view (or a revoke) may have deleted it since we read the row.
            self._refuse_ended_meanwhile(viewer, client, secret)
        sealed_key = self.vault.unseal_data_key(
            tenant_id=secret.tenant_id, secret_id=secret.id, wrapped_key=secret.wrapped_key,
            public_key=public_key,
        )
        views_used, status = self._consume_view(viewer, client, secret)
        if status == BURNED and not is_file:
            # A file's last download window stays open; the scheduler purges it afterwards.
            self.lifecycle.purge_blob(secret.id, secret.blob_key)
        download_url = self.downloads.issue(viewer, secret) if is_file else None
        if self.metrics is not None:
            self.metrics.reveal_served(secret.audience, time.perf_counter() - started)
        return RevealedSecret(
            secret_id=secret.id, sealed_key=sealed_key, sealed_meta=secret.sealed_meta,
            content=content, download_url=download_url, content_size=secret.content_size,
            views_left=None if secret.view_limit is None else secret.view_limit - views_used,
            burned=status == BURNED,
        )

    def _refuse_ended_meanwhile(
        self, viewer: Viewer, client: ClientInfo, secret: Secret
    ) -> NoReturn:
        with self.db() as session:
            current = session.get(Secret, secret.id)
        if current is None or current.status == ACTIVE:
            raise ServiceUnavailable("the secret's content is not readable right now")
        self._deny(viewer, client, secret, current.status)
        raise SecretUnavailable(current.status)

    def _consume_view(
        self, viewer: Viewer, client: ClientInfo, secret: Secret
    ) -> tuple[int, str]:
        now = self.clock.now()
        last_view = and_(Secret.view_limit.is_not(None),
                         Secret.views_used + 1 >= Secret.view_limit)
        with self.db.begin() as session:
            row = session.execute(
                update(Secret)
                .where(
                    Secret.id == secret.id, Secret.tenant_id == secret.tenant_id,
                    Secret.status == ACTIVE, Secret.expires_at > now,
                    or_(Secret.view_limit.is_(None), Secret.views_used < Secret.view_limit),
                )
                # SET expressions see the row as it was, so the last view burns atomically.
                .values(
                    views_used=Secret.views_used + 1,
                    status=case((last_view, BURNED), else_=Secret.status),
                    ended_at=case((last_view, now), else_=Secret.ended_at),
                    wrapped_key=case((last_view, null()), else_=Secret.wrapped_key),
                    sealed_meta=case((last_view, null()), else_=Secret.sealed_meta),
                )
                .returning(Secret.views_used, Secret.status)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if row is not None:
                opened = audit.OPENED_EXTERNAL if secret.audience == EXTERNAL else (
                    audit.OPENED_INTERNAL)
                self.audit_log.record(
                    session, opened, tenant_id=viewer.tenant_id,
                    actor=actor_of(viewer), client=client,
                    secret=secret,
                )
                notices.touch(session, [secret.id], now)
                return int(row[0]), str(row[1])
        # Someone else took the last view (or it ended) between our read and our update.
        with self.db() as session:
            current = session.get(Secret, secret.id)
        status = effective_status(current, now) if current else BURNED
        self._deny(viewer, client, secret, status)
        raise SecretUnavailable(status)
