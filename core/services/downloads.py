"""Download links for file secrets.

Revealing a file takes a view and returns a link to its ciphertext, valid for 10 minutes and
only for the person who revealed it. The api streams the bytes (with HTTP Range, so a
browser can resume) or, when the store can presign, redirects to a short-lived storage URL so
the api never carries them. The first use of a link records `paper_secret_file_downloaded`.
After the last view the ciphertext stays for this same window, then the scheduler purges it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from cipherslip_crypto.encoding import b64url_encode
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.cache.protocol import ReplayCache, TokenStore
from core.clock import RandomSource
from core.db.models import Secret
from core.errors import NotFound
from core.services import audit
from core.services.audit import AuditLog, actor_of
from core.services.identity import ClientInfo, Guest, Viewer

DOWNLOAD_WINDOW = timedelta(minutes=10)
WINDOW_SECONDS = int(DOWNLOAD_WINDOW.total_seconds())


def viewer_key(viewer: Viewer) -> str:
    return f"guest:{viewer.email}" if isinstance(viewer, Guest) else f"user:{viewer.user_id}"


@dataclass(frozen=True)
class DownloadTicket:
    token: str
    secret_id: str
    blob_key: str
    viewer: str


@dataclass(frozen=True, kw_only=True)
class DownloadService:
    db: sessionmaker[Session]
    blob_store: BlobStore
    tokens: TokenStore
    replay_cache: ReplayCache
    audit_log: AuditLog
    random: RandomSource

    def issue(self, viewer: Viewer, secret_id: str, blob_key: str) -> str:
        """A fresh link for this viewer to this secret's ciphertext."""
        token = b64url_encode(self.random.token_bytes(24))
        ticket = {"secret_id": secret_id, "blob_key": blob_key, "viewer": viewer_key(viewer)}
        self.tokens.put(f"download:{token}", json.dumps(ticket), WINDOW_SECONDS)
        return f"/api/v1/downloads/{token}"

    def resolve(self, viewer: Viewer, token: str) -> DownloadTicket:
        stored = self.tokens.peek(f"download:{token}")
        ticket = json.loads(stored) if stored else None
        # Someone else's link is as unknown as an expired one.
        if ticket is None or ticket["viewer"] != viewer_key(viewer):
            raise NotFound("this download link expired (links last 10 minutes); reveal again "
                           "if views are left")
        return DownloadTicket(token, ticket["secret_id"], ticket["blob_key"], ticket["viewer"])

    def record(self, viewer: Viewer, ticket: DownloadTicket, client: ClientInfo) -> None:
        """Audit the first use of a link (resumed or ranged requests are the same download)."""
        if not self.replay_cache.first_use(f"downloaded:{ticket.token}", WINDOW_SECONDS):
            return
        with self.db.begin() as session:
            secret = session.get(Secret, ticket.secret_id)
            self.audit_log.record(session, audit.FILE_DOWNLOADED, tenant_id=viewer.tenant_id,
                                  actor=actor_of(viewer), client=client, secret=secret)

    def presigned_url(self, ticket: DownloadTicket) -> str | None:
        return self.blob_store.presign_get(ticket.blob_key, WINDOW_SECONDS)

    def size(self, ticket: DownloadTicket) -> int:
        return self.blob_store.size(ticket.blob_key)

    def stream(self, ticket: DownloadTicket, start: int, end: int | None) -> Iterator[bytes]:
        return self.blob_store.open_range(ticket.blob_key, start, end)
