"""What a chat unfurl of a share link may show: metadata, never content or key material.

The link's holder sees as much on the share page before signing in (label, creator, expiry,
views left), and looking does not use a view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock
from core.db.models import Secret
from core.services.states import PENDING, effective_status


@dataclass(frozen=True)
class LinkPreview:
    share_code: str
    label: str | None
    creator_name: str
    status: str
    expires_at: datetime
    views_used: int
    view_limit: int | None


@dataclass(frozen=True, kw_only=True)
class LinkPreviews:
    db: sessionmaker[Session]
    clock: Clock

    def find(self, tenant_id: str, share_code: str) -> LinkPreview | None:
        """The tenant's secret with this (normalized) share code; None for unknown or not
        yet shared codes."""
        with self.db() as session:
            secret = session.scalar(select(Secret).where(Secret.tenant_id == tenant_id,
                                                         Secret.share_code == share_code))
            if secret is None or secret.status == PENDING:
                return None
            return LinkPreview(
                share_code=secret.share_code, label=secret.label,
                creator_name=secret.creator.name, status=effective_status(secret, self.clock.now()),
                expires_at=secret.expires_at, views_used=secret.views_used,
                view_limit=secret.view_limit,
            )
