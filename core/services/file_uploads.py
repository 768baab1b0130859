"""File uploads: a pending secret's ciphertext arrives in record-aligned parts.

With a store that can presign (S3) the browser PUTs each part straight to storage and the api
never carries the bytes; otherwise (the local store) the api receives the parts. Either way
the server knows every part's exact size from the declared plaintext size, refuses what
does not fit, and activates the secret only when the assembled stream is exactly as long as
the declared size implies and starts with a valid CSL1 header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, cast

from cipherslip_crypto import csl1
from sqlalchemy import Connection, Select, Table, bindparam, delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import Clock, RandomSource, as_utc
from core.db.models import Secret
from core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from core.services.identity import Principal
from core.services.locations import blob_prefix, new_blob_key
from core.services.states import FILE, PENDING, PENDING_TTL
from core.services.uploads import (
    FIRST_PART_BYTES,
    PART_BODY_BYTES,
    RECORDS_PER_PART,
    UploadPlan,
)

PART_URL_TTL_SECONDS = 15 * 60
MAX_URLS_PER_REQUEST = 128


@dataclass(frozen=True)
class UploadInfo:
    part_count: int
    first_part_bytes: int
    part_bytes: int
    records_per_part: int
    direct: bool  # True: PUT parts to presigned storage URLs; False: PUT them to the api


@dataclass(frozen=True)
class PendingSecret:
    """A secret still being shared, as its creator's upload and completion need it."""

    id: str
    tenant_id: str
    share_code: str
    audience: str
    secret_type: str
    status: str
    created_at: datetime
    blob_key: str | None
    upload_id: str | None
    declared_size: int | None
    request_id: str | None  # an answer to this request



_PENDING_COLUMNS = tuple(field.name for field in fields(PendingSecret))


@cache
def _own_secret_statement() -> Select[*tuple[Any, ...]]:
    secrets = cast(Table, Secret.__table__).c
    return (select(*(secrets[name] for name in _PENDING_COLUMNS))
            .where(secrets.id == bindparam("target_id"), secrets.tenant_id == bindparam("tenant"),
                   secrets.creator_id == bindparam("creator")))


def own_pending(
    session: Session | Connection, principal: Principal, secret_id: str, clock: Clock
) -> PendingSecret:
    """The caller's own pending secret (one prebuilt query, no ORM), or a refusal naming why
    not."""
    row = session.execute(_own_secret_statement(), {
        "target_id": secret_id, "tenant": principal.tenant_id, "creator": principal.user_id,
    }).one_or_none()
    if row is None:
        raise NotFound("no such secret of yours")
    secret = PendingSecret(*row)
    if secret.status != PENDING:
        raise Conflict(f"this secret is already {secret.status}; its content cannot change")
    if as_utc(secret.created_at) + PENDING_TTL <= clock.now():
        raise Conflict("this upload was abandoned (not completed within an hour); start over")
    return secret


@dataclass(frozen=True, kw_only=True)
class FileUploadService:
    db: sessionmaker[Session]
    blob_store: BlobStore
    clock: Clock
    random: RandomSource

    def start(self, tenant_id: str, secret_id: str, plaintext_size: int) -> tuple[
            str, str, UploadInfo]:
        """(blob key, upload id, what the browser needs to know) for a new file upload."""
        blob_key = new_blob_key(tenant_id, secret_id, self.random)
        upload_id = self.blob_store.start_multipart(blob_key)
        direct = self.blob_store.presign_part(blob_key, upload_id, 1, 60) is not None
        plan = UploadPlan(plaintext_size)
        return blob_key, upload_id, UploadInfo(
            part_count=plan.part_count, first_part_bytes=FIRST_PART_BYTES,
            part_bytes=PART_BODY_BYTES, records_per_part=RECORDS_PER_PART, direct=direct,
        )

    def _pending_file(
        self, principal: Principal, secret_id: str
    ) -> tuple[PendingSecret, UploadPlan]:
        with self.db() as session:
            secret = own_pending(session, principal, secret_id, self.clock)
        if secret.secret_type != FILE or secret.upload_id is None or secret.blob_key is None:
            raise Conflict("this secret is not a file upload")
        return secret, UploadPlan(secret.declared_size or 0)

    @staticmethod
    def _check_part_number(plan: UploadPlan, part_number: int) -> None:
        if not 1 <= part_number <= plan.part_count:
            # Nothing beyond the declared size is ever accepted.
            raise InvalidInput(f"this upload has parts 1 to {plan.part_count}; got part "
                               f"{part_number}", field="part_number")

    def receive_part(
        self, principal: Principal, secret_id: str, part_number: int, chunks: Sequence[bytes]
    ) -> None:
        """A part carried by the api (stores that cannot presign), in the pieces it arrived
        in."""
        secret, plan = self._pending_file(principal, secret_id)
        self._check_part_number(plan, part_number)
        expected = plan.part_size(part_number)
        received = sum(len(chunk) for chunk in chunks)
        if received > expected:
            raise PayloadTooLarge(f"part {part_number} is {expected} bytes; got {received}")
        if received != expected:
            raise InvalidInput(f"part {part_number} is {expected} bytes; got {received}",
                               field="part")
        assert secret.blob_key is not None and secret.upload_id is not None
        if self.blob_store.presign_part(secret.blob_key, secret.upload_id, part_number, 60):
            # Storage takes parts directly: the api never carries a file's bytes then.
            raise Conflict("send parts straight to storage (POST …/parts/urls)")
        self.blob_store.upload_part(secret.blob_key, secret.upload_id, part_number, chunks,
                                    offset=plan.part_offset(part_number))
        with self.db() as session:
            still_pending = session.scalar(select(Secret.id).where(
                Secret.id == secret.id, Secret.status == PENDING))
        if still_pending is None:
            # Cancelled while this part was arriving: the cancel's cleanup ran before the part
            # was written, so this part would be left behind.
            self.blob_store.abort_multipart(secret.blob_key, secret.upload_id)
            raise Conflict("this upload was cancelled")

    def part_urls(
        self, principal: Principal, secret_id: str, part_numbers: list[int]
    ) -> dict[int, str]:
        """Presigned URLs the browser PUTs parts to; short-lived, asked for as needed."""
        secret, plan = self._pending_file(principal, secret_id)
        if not 1 <= len(part_numbers) <= MAX_URLS_PER_REQUEST:
            raise InvalidInput(f"ask for 1 to {MAX_URLS_PER_REQUEST} parts at a time",
                               field="parts")
        assert secret.blob_key is not None and secret.upload_id is not None
        urls = {}
        for part_number in part_numbers:
            self._check_part_number(plan, part_number)
            url = self.blob_store.presign_part(secret.blob_key, secret.upload_id, part_number,
                                               PART_URL_TTL_SECONDS)
            if url is None:
                raise Conflict("this storage takes parts through the api, not directly")
            urls[part_number] = url
        return urls

    def assemble(self, secret: PendingSecret) -> int:
        """Check every part against the plan, assemble them and check the result; returns
        the stream size. Raises Conflict (or StreamFormatError) naming what is wrong."""
        assert secret.blob_key is not None and secret.upload_id is not None
        plan = UploadPlan(secret.declared_size or 0)
        received = dict(self.blob_store.uploaded_parts(secret.blob_key, secret.upload_id))
        for part_number in range(1, plan.part_count + 1):
            if part_number not in received:
                raise Conflict(f"part {part_number} of {plan.part_count} has not arrived")
            if received[part_number] != plan.part_size(part_number):
                raise Conflict(f"part {part_number} has {received[part_number]} bytes; the "
                               f"declared size needs {plan.part_size(part_number)}")
        extra = sorted(number for number in received if number > plan.part_count)
        if extra:
            raise Conflict(f"parts beyond the declared size arrived: {extra}")
        size = self.blob_store.complete_multipart(secret.blob_key, secret.upload_id,
                                                  plan.part_count)
        if size != plan.stream_size:
            raise Conflict(f"the upload is {size} bytes; the declared size needs "
                           f"{plan.stream_size}")
        header = b"".join(self.blob_store.open_range(secret.blob_key, 0,
                                                     csl1.HEADER_SIZE - 1))
        csl1.StreamHeader.parse(header)
        return size

    def cancel(self, principal: Principal, secret_id: str) -> None:
        """Drop a pending secret and everything uploaded for it."""
        with self.db() as session:
            secret = own_pending(session, principal, secret_id, self.clock)
        if secret.blob_key is not None and secret.upload_id is not None:
            self.blob_store.abort_multipart(secret.blob_key, secret.upload_id)
        self.blob_store.delete_prefix(blob_prefix(secret.tenant_id, secret.id))
        with self.db.begin() as session:
            session.execute(delete(Secret).where(Secret.id == secret.id,
                                                 Secret.status == PENDING))
