"""How a request appears in the audit log: as the event's object, like a secret, with the
type ``request`` and its request code in the code field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, select

from core.db.models import SecretRequest

REQUEST_TYPE = "request"
_REQUESTS = cast(Table, SecretRequest.__table__)


@dataclass(frozen=True)
class AuditedRequest:
    """``core.services.audit.AuditedSecret`` for a request."""

    id: str
    share_code: str  # the request code
    audience: str
    secret_type: str = REQUEST_TYPE


def audited(request: SecretRequest) -> AuditedRequest:
    return AuditedRequest(request.id, request.request_code, request.audience)


def answered_request(connection: Connection, request_id: str) -> AuditedRequest:
    row = connection.execute(select(_REQUESTS.c.request_code, _REQUESTS.c.audience)
                             .where(_REQUESTS.c.id == request_id)).one()
    return AuditedRequest(request_id, row.request_code, row.audience)
