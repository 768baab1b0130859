"""The audit log (docs/ARCHITECTURE.md): event names are a contract; events are stored OCSF-like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Row, Table, insert
from sqlalchemy.orm import Session

from core.clock import Clock, as_utc
from core.db.models import AuditEvent
from core.metrics import Metrics
from core.services.identity import ClientInfo, Principal, Viewer

AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
# Built once; each event's columns travel as parameters.
AUDIT_INSERT = insert(AUDIT_EVENTS)

SECRET_CREATED = "paper_secret_created"  # noqa: S105 - an event name, not a password
OPENED_INTERNAL = "paper_secret_opened_internal"
OPENED_EXTERNAL = "paper_secret_opened"
REVOKED = "paper_secret_revoked"
REVOKED_ADMIN = "paper_secret_revoked_admin"
MAGIC_LINK_CREATED = "paper_secret_magic_link_created"
ACCESS_DENIED = "paper_secret_access_denied"
FILE_DOWNLOADED = "paper_secret_file_downloaded"
API_TOKEN_CREATED = "paper_secret_api_token_created"  # noqa: S105 - an event name
API_TOKEN_REVOKED = "paper_secret_api_token_revoked"  # noqa: S105 - an event name
REQUEST_CREATED = "paper_secret_request_created"
REQUEST_FULFILLED = "paper_secret_request_fulfilled"
REQUEST_CANCELLED = "paper_secret_request_cancelled"
EVENT_NAMES = (SECRET_CREATED, OPENED_INTERNAL, OPENED_EXTERNAL, REVOKED, REVOKED_ADMIN,
               MAGIC_LINK_CREATED, ACCESS_DENIED, FILE_DOWNLOADED, API_TOKEN_CREATED,
               API_TOKEN_REVOKED)

SUCCESS = "Success"
FAILURE = "Failure"


class AuditedSecret(Protocol):
    """What an event says about its secret (a ``Secret`` row, or a lighter query result)."""

    @property
    def id(self) -> str: ...
    @property
    def share_code(self) -> str: ...
    @property
    def audience(self) -> str: ...
    @property
    def secret_type(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    email: str | None
    uid: str | None = None


def actor_of(viewer: Viewer) -> Actor:
    if isinstance(viewer, Principal) and viewer.answering_for is None:
        return Actor(viewer.email, viewer.user_id)
    return Actor(viewer.email)


class AuditLog:
    def __init__(self, clock: Clock, metrics: Metrics | None = None) -> None:
        self._clock = clock
        self._metrics = metrics

    def values(
        self,
        activity_name: str,
        *,
        tenant_id: str,
        actor: Actor,
        client: ClientInfo,
        secret: AuditedSecret | None = None,
        status: str = SUCCESS,
        status_detail: str | None = None,
    ) -> dict[str, Any]:
        """The columns of an event, unlinked: the chain sequencer links it after commit
        (``core.services.audit_chain``), so recording one waits for no other request."""
        return {
            "tenant_id": tenant_id,
            "time": self._clock.now(),
            "activity_name": activity_name,
            "actor_email": actor.email,
            "actor_uid": actor.uid,
            "src_ip": client.ip,
            "user_agent": (client.user_agent or "")[:512] or None,
            "secret_id": secret.id if secret else None,
            "share_code": secret.share_code if secret else None,
            "mode": secret.audience if secret else None,
            "secret_type": secret.secret_type if secret else None,
            "status": status,
            "status_detail": status_detail,
            "api_token_id": client.api_token.id if client.api_token else None,
            "api_token_name": client.api_token.name if client.api_token else None,
        }

    def counted(self, values: dict[str, Any]) -> None:
        """Count a recorded event in the metrics (once it is stored)."""
        if self._metrics is not None:
            self._metrics.audited(values["activity_name"], values["mode"],
                                  values["status_detail"])

    def record(
        self,
        session: Session | Connection,
        activity_name: str,
        *,
        tenant_id: str,
        actor: Actor,
        client: ClientInfo,
        secret: AuditedSecret | None = None,
        status: str = SUCCESS,
        status_detail: str | None = None,
    ) -> None:
        """Add an event to ``session``: it commits (or rolls back) with the change it audits
        (on an autocommitting connection, it is stored at once)."""
        values = self.values(activity_name, tenant_id=tenant_id, actor=actor, client=client,
                             secret=secret, status=status, status_detail=status_detail)
        session.execute(AUDIT_INSERT, values)
        self.counted(values)


def to_ocsf(event: AuditEvent | Row[Any]) -> dict[str, Any]:
    """The exported shape: OCSF-like nesting with Cipherslip's ``secret`` object."""
    return {
        "id": event.id,
        "activity_name": event.activity_name,
        "time": as_utc(event.time).isoformat(),
        "actor": {"user": {"email": event.actor_email, "uid": event.actor_uid}},
        "src_endpoint": {"ip": event.src_ip},
        "http_request": {"user_agent": event.user_agent},
        **({"api_token": {"id": event.api_token_id, "name": event.api_token_name}}
           if getattr(event, "api_token_id", None) else {}),
        "secret": {
            "id": event.secret_id,
            "share_code": event.share_code,
            "mode": event.mode,
            "type": event.secret_type,
        },
        "status": event.status,
        "status_detail": event.status_detail,
        "tenant_id": event.tenant_id,
        # OCSF's metadata.sequence, plus the chain links anyone can re-verify (null until
        # the sequencer has linked the event, normally within seconds).
        "metadata": {
            "sequence": event.chain_seq,
            "prev_hash": event.prev_hash.hex() if event.prev_hash is not None else None,
            "hash": event.hash.hex() if event.hash is not None else None,
        },
    }
