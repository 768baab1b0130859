"""Builds every service from settings, in one place; tests pass replacements by keyword."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.factory import create_blob_store
from core.blobstore.protocol import BlobStore
from core.cache.factory import create_cache
from core.cache.protocol import Cache, RateLimiter, ReplayCache, SessionStore, TokenStore
from core.clock import Clock, RandomSource, SystemClock, SystemRandom
from core.db.engine import create_db_engine, create_session_factory
from core.mail.factory import create_mailer
from core.mail.protocol import Mailer
from core.metrics import Metrics
from core.services.admin import AdminService
from core.services.api_tokens import ApiTokenService
from core.services.audit import AuditLog
from core.services.cli_login import CliLoginService
from core.services.downloads import DownloadService
from core.services.drafts import DraftService
from core.services.file_uploads import FileUploadService
from core.services.lifecycle import Lifecycle
from core.services.link_preview import LinkPreviews
from core.services.magic_links import MagicLinkService
from core.services.manage import ManageService
from core.services.requests import RequestService
from core.services.reveal import RevealService
from core.services.sharing import SharingService
from core.services.tenants import TenantDirectory
from core.services.users import UserDirectory
from core.settings import Settings
from core.vault_client.http import create_vault_client
from core.vault_client.protocol import VaultClient


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    clock: Clock
    random: RandomSource
    blob_store: BlobStore
    vault: VaultClient
    mailer: Mailer
    rate_limiter: RateLimiter
    sessions: SessionStore
    replay_cache: ReplayCache
    tokens: TokenStore
    # Readiness probe (and connections) of the backend behind the four stores above.
    cache: Cache
    tenants: TenantDirectory
    users: UserDirectory
    audit: AuditLog
    lifecycle: Lifecycle
    sharing: SharingService
    requests: RequestService
    reveal: RevealService
    manage: ManageService
    magic_links: MagicLinkService
    admin: AdminService
    metrics: Metrics
    files: FileUploadService
    downloads: DownloadService
    drafts: DraftService
    link_previews: LinkPreviews
    api_tokens: ApiTokenService
    cli_login: CliLoginService

    def close(self) -> None:
        self.vault.close()
        self.cache.close()
        self.engine.dispose()


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    random: RandomSource | None = None,
    blob_store: BlobStore | None = None,
    vault: VaultClient | None = None,
    mailer: Mailer | None = None,
    engine: Engine | None = None,
) -> Services:
    clock = clock or SystemClock()
    random = random or SystemRandom()
    engine = engine or create_db_engine(settings.effective_database_url,
                                        pool_size=settings.db_pool_size)
    db = create_session_factory(engine)
    blob_store = blob_store or create_blob_store(settings)
    vault = vault or create_vault_client(settings)
    mailer = mailer or create_mailer(settings)
    cache = create_cache(settings, clock)
    rate_limiter = cache.rate_limiter
    tenants = TenantDirectory(settings)
    users = UserDirectory(db=db, tenants=tenants, clock=clock, random=random,
                          super_admin_emails=settings.super_admin_emails,
                          role_ttl=timedelta(seconds=settings.session_ttl_seconds))
    metrics = Metrics(db, clock)
    audit_log = AuditLog(clock, metrics)
    files = FileUploadService(db=db, blob_store=blob_store, clock=clock, random=random)
    downloads = DownloadService(db=db, blob_store=blob_store, tokens=cache.tokens,
                                replay_cache=cache.replay_cache, audit_log=audit_log,
                                random=random)
    lifecycle = Lifecycle(db=db, blob_store=blob_store, clock=clock, audit_log=audit_log,
                          notices=settings.slack_enabled)
    api_tokens = ApiTokenService(db=db, clock=clock, random=random, audit_log=audit_log)
    drafts = DraftService(db=db, users=users, clock=clock, random=random)
    sharing = SharingService(
        settings=settings, engine=engine, db=db, blob_store=blob_store, vault=vault,
        users=users, audit_log=audit_log, rate_limiter=rate_limiter, clock=clock, random=random,
        files=files, drafts=drafts, lifecycle=lifecycle,
    )
    return Services(
        settings=settings, engine=engine, db=db, clock=clock, random=random,
        blob_store=blob_store, vault=vault, mailer=mailer, rate_limiter=rate_limiter,
        sessions=cache.sessions, replay_cache=cache.replay_cache, tokens=cache.tokens,
        cache=cache, tenants=tenants, users=users, audit=audit_log, metrics=metrics,
        files=files, downloads=downloads, drafts=drafts,
        link_previews=LinkPreviews(db=db, clock=clock),
        api_tokens=api_tokens,
        cli_login=CliLoginService(tokens=api_tokens, store=cache.tokens, random=random),
        lifecycle=lifecycle,
        sharing=sharing,
        requests=RequestService(settings=settings, engine=engine, db=db, users=users,
                                audit_log=audit_log, clock=clock, random=random,
                                sharing=sharing, drafts=drafts),
        reveal=RevealService(
            settings=settings, engine=engine, blob_store=blob_store, vault=vault,
            lifecycle=lifecycle, audit_log=audit_log, rate_limiter=rate_limiter, clock=clock,
            metrics=metrics, downloads=downloads,
        ),
        manage=ManageService(
            settings=settings, db=db, lifecycle=lifecycle, audit_log=audit_log, clock=clock
        ),
        admin=AdminService(db=db, lifecycle=lifecycle, audit_log=audit_log, clock=clock),
        magic_links=MagicLinkService(
            settings=settings, db=db, mailer=mailer, audit_log=audit_log,
            rate_limiter=rate_limiter, clock=clock, random=random,
        ),
    )
