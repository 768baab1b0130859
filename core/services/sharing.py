"""Creating a secret: a pending row with a data key from the vault, then activation with its
content (a text in the completing request; a file's parts before it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from cipherslip_crypto.sharecode import generate_share_code
from sqlalchemy import Connection, Engine, Insert, String, Table, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.cache.protocol import RateLimiter
from core.clock import Clock, RandomSource
from core.db.engine import autocommit_connection, transaction
from core.db.models import Secret, SecretRecipient
from core.errors import Conflict, InvalidInput, RateLimited
from core.services import audit, notices, policy, request_states
from core.services.audit import AuditLog, actor_of
from core.services.drafts import DraftService
from core.services.file_uploads import FileUploadService, PendingSecret, UploadInfo, own_pending
from core.services.identity import ClientInfo, Principal
from core.services.lifecycle import Lifecycle
from core.services.locations import new_blob_key, share_url
from core.services.request_records import answered_request
from core.services.states import ACTIVE, FILE, INTERNAL, PENDING
from core.services.users import UserDirectory
from core.settings import Settings
from core.vault_client.protocol import VaultClient

_SECRETS = cast(Table, Secret.__table__)
_RECIPIENTS = cast(Table, SecretRecipient.__table__)
# Core inserts of the tables: the ORM's unit of work costs more than the statements, and
# nothing here needs it.
_SECRET_INSERT = insert(_SECRETS)
_RECIPIENT_INSERT = insert(_RECIPIENTS)
_STORED_COLUMNS = frozenset({
    "id", "tenant_id", "share_code", "creator_id", "audience", "secret_type", "label",
    "status", "view_limit", "views_used", "created_at", "expires_at", "wrapped_key",
    "blob_key", "upload_id", "declared_size", "request_id",
})


@dataclass(frozen=True)
class CreatedSecret:
    secret_id: str
    share_code: str
    share_url: str  # without the link key: the browser appends "#<link key>"
    sealed_key: bytes
    expires_at: datetime
    max_upload_bytes: int
    upload: UploadInfo | None = None  # files: the part plan


@dataclass(frozen=True)
class CompletedSecret:
    secret_id: str
    share_code: str
    status: str
    share_url: str  # without the link key


@dataclass(frozen=True, kw_only=True)
class SharingService:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    blob_store: BlobStore
    vault: VaultClient
    users: UserDirectory
    audit_log: AuditLog
    rate_limiter: RateLimiter
    clock: Clock
    random: RandomSource
    files: FileUploadService
    drafts: DraftService
    lifecycle: Lifecycle

    def create(self, principal: Principal, request: policy.NewSecretRequest, *,
               answering: str | None = None) -> CreatedSecret:
        """``answering``: the id of the request this secret answers (``RequestService`` has
        checked the principal may answer it)."""
        # Validate first: a refused request must not count against the creator.
        secret_type, recipients, label = policy.check_new_secret(request)
        outsiders: list[str] = []
        if request.audience == INTERNAL:
            with self.db() as session:
                outsiders = self.users.non_org_emails(session, principal.tenant_id, recipients)
        if outsiders:
            raise InvalidInput(
                "not members of your organization: " + ", ".join(outsiders), field="recipients"
            )
        if request.draft_token is not None:
            self.drafts.open(principal, request.draft_token)  # refuse before anything is made
        decision = self.rate_limiter.hit(
            f"create:user:{principal.user_id}", limit=self.settings.create_rate_per_user,
            window_seconds=60,
        )
        if not decision.allowed:
            raise RateLimited("too many secrets created; wait a minute",
                              retry_after=decision.retry_after)
        secret_id = str(uuid.UUID(bytes=self.random.token_bytes(16), version=4))
        # Ask the vault first: if it is down, nothing has been stored.
        new_key = self.vault.create_data_key(
            tenant_id=principal.tenant_id, secret_id=secret_id, public_key=request.public_key
        )
        upload: UploadInfo | None = None
        blob_key = upload_id = None
        if secret_type == FILE:
            blob_key, upload_id, upload = self.files.start(principal.tenant_id, secret_id,
                                                           request.plaintext_size or 0)
        now = self.clock.now()
        expires_at = now + policy.check_expiry(request.expires_in_seconds)
        row = {
            "id": secret_id, "tenant_id": principal.tenant_id, "creator_id": principal.user_id,
            "audience": request.audience, "secret_type": secret_type, "label": label,
            "status": PENDING, "view_limit": request.view_limit, "views_used": 0,
            "created_at": now, "expires_at": expires_at, "wrapped_key": new_key.wrapped_key,
            "blob_key": blob_key, "upload_id": upload_id,
            "declared_size": request.plaintext_size if secret_type == FILE else None,
            "request_id": answering,
        }
        for _attempt in range(5):
            share_code = generate_share_code(self.random)
            try:
                self._store(principal, {**row, "share_code": share_code}, recipients,
                            request.draft_token)
                break
            except IntegrityError:  # 60-bit code collision: draw again
                continue
        else:
            raise Conflict("could not allocate a share code; try again")
        return CreatedSecret(
            secret_id=secret_id, share_code=share_code,
            share_url=share_url(self.settings.base_url, share_code),
            sealed_key=new_key.sealed_key, expires_at=expires_at,
            max_upload_bytes=policy.max_upload_bytes(secret_type), upload=upload,
        )

    def _store(self, principal: Principal, row: dict[str, Any], recipients: list[str],
               draft_token: str | None) -> None:
        """The pending secret and its recipients (and the draft used up), atomically: one
        statement on PostgreSQL, else a transaction."""
        with autocommit_connection(self.engine) as connection:
            if connection.dialect.name == "postgresql" and draft_token is None:
                connection.execute(_store_statement(), {
                    **{f"new_{name}": value for name, value in row.items()},
                    "new_recipients": recipients})
                return
            with transaction(connection):
                connection.execute(_SECRET_INSERT, row)
                connection.execute(_RECIPIENT_INSERT, [
                    {"secret_id": row["id"], "email": email} for email in recipients])
                if draft_token is not None:
                    self.drafts.use(connection, principal, draft_token, row["id"])

    def complete(
        self, principal: Principal, secret_id: str, client: ClientInfo, *, sealed_meta: bytes,
        key_check: bytes, content: bytes | None = None,
    ) -> CompletedSecret:
        """Activate a pending secret with its content: a text's ciphertext arrives here, in
        the same request; a file's parts must all be there and assemble into exactly the
        declared size. On PostgreSQL a text costs two statements: the pending secret, then
        its activation with the audit event."""
        policy.check_sealed_meta(sealed_meta)
        policy.check_key_check(key_check)
        with autocommit_connection(self.engine) as connection:
            secret = own_pending(connection, principal, secret_id, self.clock)
            if secret.secret_type == FILE:
                if content is not None:
                    raise InvalidInput("a file's content arrives in parts (PUT …/parts/"
                                       "{number}), not with completion", field="content")
                # Assembling a large file takes a moment: no statement is open meanwhile.
                content_size = self.files.assemble(secret)
                blob_key = secret.blob_key
            else:
                if content is None:
                    raise InvalidInput("send the encrypted content with completion",
                                       field="content")
                policy.check_upload(secret.secret_type, content[:32], len(content))
                blob_key = new_blob_key(secret.tenant_id, secret.id, self.random)
                content_size = self.blob_store.put(blob_key, [content])
            assert blob_key is not None
            event = self.audit_log.values(
                audit.SECRET_CREATED, tenant_id=principal.tenant_id,
                actor=actor_of(principal), client=client, secret=secret)

            def activate() -> datetime | None:
                return self.lifecycle.activate(
                    connection, secret_id=secret.id, tenant_id=principal.tenant_id,
                    creator_id=principal.user_id, sealed_meta=sealed_meta, key_check=key_check,
                    blob_key=blob_key,
                    content_size=content_size, event=event)

            if self.settings.slack_enabled or secret.request_id is not None:
                try:
                    with transaction(connection):
                        activated_at = activate()
                        if activated_at is not None and secret.request_id is not None:
                            self._fulfil(connection, secret, principal, client, activated_at)
                        if activated_at is not None and self.settings.slack_enabled:
                            # An answer's notice goes to its requester (from /secrets request,
                            # or found by email); a share's to its creator.
                            owner = (self.drafts.request_slack_owner(connection,
                                                                     secret.request_id)
                                     if secret.request_id is not None
                                     else self.drafts.slack_owner(connection, secret.id))
                            notices.open_notice(connection, secret, activated_at, owner)
                except Conflict:
                    if secret.secret_type != FILE:
                        self.blob_store.delete(blob_key)
                    raise
            else:
                activated_at = activate()
            if activated_at is None:
                # Completed concurrently (or abandoned meanwhile): a text's copy is ours to
                # drop, and the refusal names why.
                if secret.secret_type != FILE:
                    self.blob_store.delete(blob_key)
                own_pending(connection, principal, secret_id, self.clock)
                raise Conflict("this secret is no longer pending")
        return CompletedSecret(secret.id, secret.share_code, ACTIVE,
                               share_url(self.settings.base_url, secret.share_code))


    def _fulfil(self, connection: Connection, secret: PendingSecret, principal: Principal,
                client: ClientInfo, now: datetime) -> None:
        """The answer's activation fulfils its request, in the same transaction, or neither
        happens (the request was answered, cancelled or closed meanwhile)."""
        assert secret.request_id is not None
        request = answered_request(connection, secret.request_id)
        event = self.audit_log.values(
            audit.REQUEST_FULFILLED, tenant_id=principal.tenant_id,
            actor=actor_of(principal), client=client, secret=request,
            status_detail=f"answer {secret.share_code}")
        if not request_states.fulfil(connection, secret.request_id, answer_secret_id=secret.id,
                                     answered_by=principal.email, now=now, event=event):
            raise Conflict("this request was already answered, cancelled or closed; your "
                           "answer was not kept")
        self.audit_log.counted(event)


@cache
def _store_statement() -> Insert:
    """``WITH created AS (INSERT secret RETURNING id) INSERT recipients SELECT id,
    unnest(emails) FROM created``; parameters ``new_<column>`` and ``new_recipients``."""
    created = (insert(_SECRETS)
               .values({name: bindparam(f"new_{name}", type_=column.type)
                        for name, column in _SECRETS.c.items() if name in _STORED_COLUMNS})
               .returning(_SECRETS.c.id).cte("created"))
    emails = func.unnest(bindparam("new_recipients", type_=postgresql.ARRAY(String)))
    return insert(_RECIPIENTS).from_select(["secret_id", "email"],
                                           select(created.c.id, emails))
