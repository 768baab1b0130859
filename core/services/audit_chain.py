"""Tamper evidence for the audit log: one hash chain per tenant, linked by a sequencer.

Each linked event stores its position (``chain_seq``), the hash of its predecessor and its own
hash ``SHA-256("cipherslip-audit-v1" 0x00 || prev_hash || canonical JSON of its fields)``.
Editing a linked event breaks its hash; deleting one leaves a gap in the sequence; deleting
the newest ones disagrees with the chain head.

Requests never touch the chain: they insert events unlinked (no position, no hashes), so no
request waits for another's. The sequencer (:func:`link_pending`, run by the scheduler every
second) links committed events in batches: it holds the tenant's head row while it links,
and skips a tenant whose head another sequencer holds, so replicas never fork the chain. It
links what it sees committed, in id order, so an event committed before another began is
always linked before it; an event whose transaction commits late is linked after those that
were linked while it was in flight (never skipped, never inserted into the past).

Until it is linked (normally within a second or two) an event can be edited or deleted
without a trace; ``verify`` reports how many wait and how long the oldest has waited.

A chain without a secret only catches edits by someone who does not rewrite every later
hash too; keep a copy of the head hash that ``cipherslip audit verify`` prints somewhere the
database's administrators cannot write, and compare.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
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
# Fields added after chains existed: hashed only when set, so earlier events (and events
# without them) hash exactly as before and keep verifying.
OPTIONAL_HASHED_FIELDS = ("api_token_id", "api_token_name")
LINK_BATCH_SIZE = 1000
_UNLINKED = AuditEvent.chain_seq.is_(None)
AUDIT_EVENTS = cast(Table, AuditEvent.__table__)


def canonical_fields(values: Mapping[str, Any]) -> bytes:
    fields = {}
    for name in HASHED_FIELDS:
        value = values[name]
        if isinstance(value, datetime):
            value = as_utc(value).isoformat(timespec="microseconds")
        fields[name] = value
    for name in OPTIONAL_HASHED_FIELDS:
        if values.get(name) is not None:
            fields[name] = values[name]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: bytes, values: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(DOMAIN + prev_hash + canonical_fields(values)).digest()


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS + OPTIONAL_HASHED_FIELDS}


def _lock_head(session: Session, tenant_id: str) -> AuditChainHead | None:
    """The tenant's head row, locked until the transaction ends; None while another
    sequencer holds it (PostgreSQL; SQLite has one writer at a time anyway)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    query = (select(AuditChainHead).where(AuditChainHead.tenant_id == tenant_id)
             .with_for_update(skip_locked=postgres)
             .execution_options(populate_existing=True))
    head = session.scalars(query).one_or_none()
    if head is None:
        dialect = postgresql if postgres else sqlite
        created = session.scalar(
            dialect.insert(AuditChainHead)
            .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
            .returning(AuditChainHead.tenant_id)
        )
        if created is None:
            return None  # another sequencer created it and holds it now
        head = session.scalars(query).one()
    return head


def _link_batch(session: Session, tenant_id: str, batch_size: int) -> int:
    head = _lock_head(session, tenant_id)
    if head is None:
        return 0
    columns = [AuditEvent.id, *(AUDIT_EVENTS.c[name]
                                for name in HASHED_FIELDS + OPTIONAL_HASHED_FIELDS
                                if name != "chain_seq")]
    rows = session.execute(
        select(*columns).where(AuditEvent.tenant_id == tenant_id, _UNLINKED)
        .order_by(AuditEvent.id).limit(batch_size)
    ).all()
    seq, prev_hash = head.seq, head.hash
    links = []
    for row in rows:
        seq += 1
        digest = event_hash(prev_hash, {**row._mapping, "chain_seq": seq})
        links.append({"event_id": row.id, "seq": seq, "prev": prev_hash, "digest": digest})
        prev_hash = digest
    if links:
        # One executemany; the condition keeps a row linked by anyone else untouched
        # (there is no one else while we hold the head, but a fork must be impossible).
        session.connection().execute(
            update(AUDIT_EVENTS)
            .where(AuditEvent.id == bindparam("event_id"), _UNLINKED)
            .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"),
                    hash=bindparam("digest")),
            links,
        )
        head.seq, head.hash = seq, prev_hash
    return len(links)


def link_pending(
    db: sessionmaker[Session], *, tenant_id: str | None = None,
    batch_size: int = LINK_BATCH_SIZE,
) -> int:
    """Link every committed unlinked event (of one tenant, or all) into its tenant's chain;
    returns how many were linked. Safe to run from any number of processes at once."""
    with db() as session:
        query = select(AuditEvent.tenant_id).where(_UNLINKED).distinct()
        if tenant_id is not None:
            query = query.where(AuditEvent.tenant_id == tenant_id)
        tenants = list(session.scalars(query))
    linked = 0
    for tenant in tenants:
        while True:
            with db.begin() as session:
                count = _link_batch(session, tenant, batch_size)
            linked += count
            if count < batch_size:
                break
    return linked


@dataclass(frozen=True)
class ChainReport:
    tenant_id: str
    events: int  # linked, and intact up to the first broken link
    head_hash: bytes
    unlinked: int = 0
    oldest_unlinked_at: datetime | None = None
    broken_at_seq: int | None = None
    broken_event_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def unlinked_age_seconds(self, now: datetime) -> float | None:
        if self.oldest_unlinked_at is None:
            return None
        return max(0.0, (now - as_utc(self.oldest_unlinked_at)).total_seconds())


def _unlinked(session: Session, tenant_id: str) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.time))
        .where(AuditEvent.tenant_id == tenant_id, _UNLINKED)
    ).one()
    return int(count), oldest


def verify_chain(db: sessionmaker[Session], tenant_id: str) -> ChainReport:
    """Walk the tenant's linked events in order (streamed) and report the first broken
    link, and how many events still wait for the sequencer."""
    expected_seq, expected_prev = 1, GENESIS
    with db() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for the head and every event: the sequencer may link more while
            # we read, and a head newer than the events we saw would look like deletions.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = session.get(AuditChainHead, tenant_id)
        unlinked, oldest = _unlinked(session, tenant_id)
        intact = ChainReport(tenant_id, 0, GENESIS, unlinked=unlinked,
                             oldest_unlinked_at=oldest)
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.tenant_id == tenant_id, ~_UNLINKED)
            .order_by(AuditEvent.chain_seq).execution_options(yield_per=1000)
        )
        for event in rows:
            problem = None
            if event.chain_seq != expected_seq:
                problem = (f"event #{expected_seq} is missing (deleted?); the chain jumps to "
                           f"#{event.chain_seq}")
            elif event.prev_hash != expected_prev:
                problem = "it does not link to the event before it"
            elif event.hash != event_hash(expected_prev, fields_of(event)):
                problem = "its contents do not match its hash (edited?)"
            if problem:
                return replace(intact, events=expected_seq - 1, head_hash=expected_prev,
                               broken_at_seq=expected_seq, broken_event_id=event.id,
                               reason=problem)
            expected_seq, expected_prev = expected_seq + 1, event.hash or GENESIS
            session.expunge(event)  # keep memory flat on long chains
    intact = replace(intact, events=expected_seq - 1, head_hash=expected_prev)
    if head is None:
        if intact.events:
            return replace(intact, broken_at_seq=intact.events,
                           reason="the chain head is missing")
        return intact
    if (head.seq, head.hash) != (intact.events, expected_prev):
        return replace(intact, broken_at_seq=intact.events + 1,
                       reason=f"the chain head says {head.seq} events; the newest "
                              f"{head.seq - intact.events} are missing (deleted?)")
    return intact
