"""Tamper evidence for the audit log: one hash chain per tenant.

Each event stores its position (``chain_seq``), the hash of its predecessor and its own hash
``SHA-256("cipherslip-audit-v1" 0x00 || prev_hash || canonical JSON of its fields)``. Editing
an event breaks its hash; deleting one leaves a gap in the sequence; deleting the newest ones
disagrees with the chain head. Appends lock the tenant's head row, so concurrent writers
queue instead of forking the chain.

A chain without a secret only catches edits by someone who does not rewrite every later
hash too; keep a copy of the head hash that ``cipherslip audit verify`` prints somewhere the
database's administrators cannot write, and compare.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.clock import as_utc
from core.db.models import AuditChainHead, AuditEvent

GENESIS = bytes(32)
DOMAIN = b"cipherslip-audit-v1\x00"
HASHED_FIELDS = (
    "tenant_id", "chain_seq", "time", "activity_name", "actor_email", "actor_uid", "src_ip",
    "user_agent", "secret_id", "share_code", "mode", "secret_type", "status", "status_detail",
)


def canonical_fields(values: Mapping[str, Any]) -> bytes:
    fields = {}
    for name in HASHED_FIELDS:
        value = values[name]
        if isinstance(value, datetime):
            value = as_utc(value).isoformat(timespec="microseconds")
        fields[name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: bytes, values: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(DOMAIN + prev_hash + canonical_fields(values)).digest()


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def _lock_head(session: Session, tenant_id: str) -> AuditChainHead:
    query = (select(AuditChainHead).where(AuditChainHead.tenant_id == tenant_id)
             .with_for_update().execution_options(populate_existing=True))
    head = session.scalars(query).one_or_none()
    if head is None:
        # The tenant's first event: create the head, tolerating a concurrent creator.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(AuditChainHead)
            .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        head = session.scalars(query).one()
    return head


def append(session: Session, event: AuditEvent) -> None:
    """Link ``event`` (not yet flushed) to the end of its tenant's chain, in ``session``."""
    head = _lock_head(session, event.tenant_id)
    event.chain_seq = head.seq + 1
    event.prev_hash = head.hash
    event.hash = event_hash(head.hash, fields_of(event))
    head.seq, head.hash = event.chain_seq, event.hash


@dataclass(frozen=True)
class ChainReport:
    tenant_id: str
    events: int
    head_hash: bytes
    broken_at_seq: int | None = None
    broken_event_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify_chain(db: sessionmaker[Session], tenant_id: str) -> ChainReport:
    """Walk the tenant's chain in order (streamed) and report the first broken link."""
    expected_seq, expected_prev = 1, GENESIS
    with db() as session:
        head = session.get(AuditChainHead, tenant_id)
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
            .order_by(AuditEvent.chain_seq).execution_options(yield_per=1000)
        )
        for event in rows:
            problem = None
            if event.chain_seq != expected_seq:
                problem = (f"event #{expected_seq} is missing (deleted?); the chain jumps to "
                           f"#{event.chain_seq}")
            elif event.prev_hash != expected_prev:
                problem = "it does not link to the event before it"
            elif event.hash != event_hash(event.prev_hash, fields_of(event)):
                problem = "its contents do not match its hash (edited?)"
            if problem:
                return ChainReport(tenant_id, expected_seq - 1, expected_prev,
                                   broken_at_seq=expected_seq, broken_event_id=event.id,
                                   reason=problem)
            expected_seq, expected_prev = expected_seq + 1, event.hash
            session.expunge(event)  # keep memory flat on long chains
    count = expected_seq - 1
    if head is None:
        if count:
            return ChainReport(tenant_id, count, expected_prev, broken_at_seq=count,
                               reason="the chain head is missing")
        return ChainReport(tenant_id, 0, GENESIS)
    if (head.seq, head.hash) != (count, expected_prev):
        return ChainReport(tenant_id, count, expected_prev, broken_at_seq=count + 1,
                           reason=f"the chain head says {head.seq} events; the newest "
                                  f"{head.seq - count} are missing (deleted?)")
    return ChainReport(tenant_id, count, expected_prev)
