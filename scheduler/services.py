"""What ``cipherslip scheduler`` is given: the database, the blob store and a clock — no
vault client, no cache, no mailer. The scheduler destroys content; it never needs a key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.factory import create_blob_store
from core.blobstore.protocol import BlobStore
from core.clock import Clock, SystemClock
from core.db.engine import create_db_engine, create_session_factory
from core.services.audit import AuditLog
from core.services.lifecycle import Lifecycle
from core.services.tenants import TenantDirectory
from core.settings import Settings


@dataclass
class SchedulerServices:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    clock: Clock
    blob_store: BlobStore
    lifecycle: Lifecycle
    tenants: TenantDirectory  # which Slack workspaces reach a tenant, for creator notices

    def close(self) -> None:
        self.engine.dispose()


def build_scheduler_services(
    settings: Settings, *, clock: Clock | None = None, blob_store: BlobStore | None = None,
    engine: Engine | None = None,
) -> SchedulerServices:
    clock = clock or SystemClock()
    # Its jobs run one at a time per kind: a few connections are plenty.
    engine = engine or create_db_engine(settings.effective_database_url, pool_size=4)
    db = create_session_factory(engine)
    blob_store = blob_store or create_blob_store(settings)
    lifecycle = Lifecycle(db=db, blob_store=blob_store, clock=clock, audit_log=AuditLog(clock),
                          notices=settings.slack_enabled)
    return SchedulerServices(settings=settings, engine=engine, db=db, clock=clock,
                             blob_store=blob_store, lifecycle=lifecycle,
                             tenants=TenantDirectory(settings))
