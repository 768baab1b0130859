"""A request's rules and shapes: who may be asked, what a request says, how it is seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cipherslip_crypto.meta import FORMATS

from core.errors import InvalidInput
from core.services import policy
from core.services.request_states import RequestStatus
from core.services.states import EXTERNAL, INTERNAL

RESPONDERS_MAX = 64
ANY = "any"  # a draft's expected format when any will do
INSTRUCTIONS_MAX_CHARS = 500
OPEN_MIN, OPEN_MAX = timedelta(hours=1), timedelta(days=7)
REQUESTER, RESPONDER = "requester", "responder"


@dataclass(frozen=True)
class NewRequest:
    audience: str  # of the responders: internal (org users) or external (email addresses)
    responders: list[str]
    label: str | None
    expected_format: str | None  # None: any format
    open_for_seconds: int
    answer_expires_in_seconds: int
    answer_view_limit: int | None


@dataclass(frozen=True)
class RequestView:
    """A request as the requester or one of its responders sees it."""

    request_id: str
    request_code: str
    role: str  # requester | responder
    status: RequestStatus
    label: str | None
    expected_format: str | None
    requester_name: str
    requester_email: str
    created_at: datetime
    open_until: datetime
    answer_expires_in_seconds: int
    answer_view_limit: int | None
    key_check: bytes | None
    responders: list[str]  # the requester's view only
    answered_by: str | None
    answer_share_code: str | None  # the requester's view, once fulfilled


@dataclass(frozen=True)
class RequestEntry:
    request_id: str
    request_code: str
    tenant_id: str
    audience: str
    requester_name: str


def check_new_request(request: NewRequest) -> tuple[list[str], str | None]:
    """The rules of a request (and of its answer, as SPEC §2): responders and label back."""
    if request.audience not in (INTERNAL, EXTERNAL):
        raise InvalidInput("audience must be 'internal' (team members) or 'external' (email "
                           "addresses)", field="audience")
    responders = policy.normalize_recipients(request.responders, maximum=RESPONDERS_MAX,
                                             field="responders", per="request")
    label = (request.label or "").strip() or None
    if label is not None and len(label) > INSTRUCTIONS_MAX_CHARS:
        raise InvalidInput(f"the instructions are at most {INSTRUCTIONS_MAX_CHARS} characters, "
                           f"got {len(label)}", field="label")
    if request.expected_format is not None and request.expected_format not in FORMATS:
        raise InvalidInput(f"expected_format is one of {', '.join(FORMATS)}, or null "
                           "for any", field="expected_format")
    if not OPEN_MIN.total_seconds() <= request.open_for_seconds <= OPEN_MAX.total_seconds():
        raise InvalidInput("a request stays open from 1 hour to 7 days",
                           field="open_for_seconds")
    policy.check_expiry(request.answer_expires_in_seconds)
    policy.check_view_limit(request.answer_view_limit)
    return responders, label


