"""Requests: a signed-in requester asks named responders for a secret (SPEC §1 *Request*).

The requester's browser makes the link key and the request's key check; the server keeps the
request's options and who may answer. A responder's answer is an ordinary secret, made through
``SharingService`` with the requester as its only recipient and the request's limits, and
completing it fulfils the request in the same transaction (``request_states.fulfil``).
Statuses change only in ``core.services.request_states``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cipherslip_crypto.sharecode import generate_share_code, normalize_share_code
from sqlalchemy import ColumnElement, Engine, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, RandomSource
from core.db.engine import autocommit_connection, transaction
from core.db.models import Secret, SecretRequest, SecretRequestResponder, User
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.services import audit, policy, request_states
from core.services.audit import AuditLog, actor_of
from core.services.drafts import REQUEST_DRAFT, DraftOptions, DraftOwner, DraftService, NewDraft
from core.services.identity import ClientInfo, Principal, Viewer
from core.services.request_lists import RequestSummary, status_is, summaries
from core.services.request_records import audited
from core.services.request_rules import (
    ANY,
    REQUESTER,
    RESPONDER,
    NewRequest,
    RequestEntry,
    RequestView,
    check_new_request,
)
from core.services.request_states import RequestStatus, effective_status
from core.services.sharing import CreatedSecret, SharingService
from core.services.states import EXTERNAL, INTERNAL
from core.services.users import UserDirectory, escape_like
from core.settings import Settings


@dataclass(frozen=True, kw_only=True)
class RequestService:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    users: UserDirectory
    audit_log: AuditLog
    clock: Clock
    random: RandomSource
    sharing: SharingService
    drafts: DraftService

    def _checked(self, tenant_id: str, new: NewRequest) -> tuple[list[str], str | None]:
        responders, label = check_new_request(new)
        outsiders: list[str] = []
        if new.audience == INTERNAL:
            with self.db() as session:
                outsiders = self.users.non_org_emails(session, tenant_id, responders)
        if outsiders:
            raise InvalidInput("not members of your organization: " + ", ".join(outsiders),
                               field="responders")
        return responders, label

    def draft(self, owner: DraftOwner, new: NewRequest) -> NewDraft:
        """``/secrets request`` in Slack: the options, checked by the request's rules, kept
        for the web page that makes the request's key."""
        responders, label = self._checked(owner.tenant_id, new)
        return self.drafts.store(owner, DraftOptions(
            audience=new.audience, recipients=responders, format=new.expected_format or ANY,
            label=label, expires_in_seconds=new.answer_expires_in_seconds,
            view_limit=new.answer_view_limit, open_for_seconds=new.open_for_seconds))

    def start(self, principal: Principal, new: NewRequest,
              draft_token: str | None = None) -> tuple[str, str, datetime]:
        """A pending request: (id, code, open until). Its key check comes next (``open``):
        the browser derives it from the link key and this id. A draft from Slack is used up
        with it."""
        responders, label = self._checked(principal.tenant_id, new)
        if draft_token is not None:
            self.drafts.open(principal, draft_token, REQUEST_DRAFT)  # refuse before storing
        now = self.clock.now()
        request_id = str(uuid.UUID(bytes=self.random.token_bytes(16), version=4))
        open_until = now + timedelta(seconds=new.open_for_seconds)
        for _attempt in range(5):
            code = generate_share_code(self.random)
            try:
                with self.db.begin() as session:
                    session.add(SecretRequest(
                        id=request_id, tenant_id=principal.tenant_id, request_code=code,
                        requester_id=principal.user_id, audience=new.audience, label=label,
                        expected_format=new.expected_format, status=RequestStatus.PENDING,
                        created_at=now, open_until=open_until,
                        answer_expires_in_seconds=new.answer_expires_in_seconds,
                        answer_view_limit=new.answer_view_limit,
                        responders=[SecretRequestResponder(email=email)
                                    for email in responders]))
                    if draft_token is not None:
                        session.flush()
                        self.drafts.use_for_request(session, principal, draft_token,
                                                    request_id)
                return request_id, code, open_until
            except IntegrityError:  # a 60-bit code collision: draw again
                continue
        raise Conflict("could not allocate a request code; try again")

    def open(self, principal: Principal, request_id: str, key_check: bytes,
             client: ClientInfo) -> RequestView:
        """pending → open, with the key check the requester's browser derived."""
        policy.check_key_check(key_check)
        with self.db() as session:
            request = session.get(SecretRequest, request_id)
            if request is None or request.tenant_id != principal.tenant_id or (
                    request.requester_id != principal.user_id):
                raise NotFound("no such request of yours")
            event = self.audit_log.values(
                audit.REQUEST_CREATED, tenant_id=principal.tenant_id,
                actor=actor_of(principal), client=client, secret=audited(request))
        with autocommit_connection(self.engine) as connection, transaction(connection):
            if not request_states.confirm(connection, request_id, principal.user_id,
                                          key_check=key_check, now=self.clock.now(),
                                          event=event):
                raise Conflict("this request is already open, or was not confirmed within "
                               "an hour; start over")
        self.audit_log.counted(event)
        return self.view(principal, request.request_code, client)

    def entry(self, code_text: str) -> RequestEntry:
        """What a visitor's sign-in page may say before anyone is proven: who asks, and
        whether an emailed link can prove a responder (external requests)."""
        code = normalize_share_code(code_text)
        with self.db() as session:
            request = session.scalar(select(SecretRequest).where(
                SecretRequest.request_code == code))
            if request is None or request.status == RequestStatus.PENDING:
                raise NotFound("no request has this code")
            return RequestEntry(request.id, code, request.tenant_id, request.audience,
                                request.requester.name)

    def _load(self, session: Session, viewer: Viewer, code_text: str) -> SecretRequest:
        code = normalize_share_code(code_text)
        request = session.scalar(select(SecretRequest).where(
            SecretRequest.request_code == code, SecretRequest.tenant_id == viewer.tenant_id))
        if request is None or request.status == RequestStatus.PENDING:
            raise NotFound("no request has this code")
        return request

    def _role(self, session: Session, viewer: Viewer, request: SecretRequest,
              client: ClientInfo) -> str:
        asked = viewer.email in {responder.email for responder in request.responders}
        if isinstance(viewer, Principal):
            if request.requester_id == viewer.user_id:
                return REQUESTER
            if asked:
                return RESPONDER
        elif asked and request.audience == EXTERNAL and request.id in viewer.request_ids:
            return RESPONDER  # an external responder who confirmed an emailed link for it
        self.audit_log.record(session, audit.ACCESS_DENIED, tenant_id=viewer.tenant_id,
                              actor=actor_of(viewer), client=client,
                              secret=audited(request), status=audit.FAILURE,
                              status_detail="not_a_responder")
        session.commit()
        raise AccessDenied("this request was not sent to you")

    def view(self, viewer: Viewer, code: str, client: ClientInfo) -> RequestView:
        with self.db() as session:
            request = self._load(session, viewer, code)
            role = self._role(session, viewer, request, client)
            answer_code = None
            if role == REQUESTER and request.answer_secret_id is not None:
                answer_code = session.scalar(select(Secret.share_code).where(
                    Secret.id == request.answer_secret_id))
            return RequestView(
                request_id=request.id, request_code=request.request_code, role=role,
                status=effective_status(request.status, request.open_until, self.clock.now()),
                label=request.label, expected_format=request.expected_format,
                requester_name=request.requester.name,
                requester_email=request.requester.email, created_at=request.created_at,
                open_until=request.open_until,
                answer_expires_in_seconds=request.answer_expires_in_seconds,
                answer_view_limit=request.answer_view_limit, key_check=request.key_check,
                responders=([responder.email for responder in request.responders]
                            if role == REQUESTER else []),
                answered_by=request.answered_by if role == REQUESTER else None,
                answer_share_code=answer_code)

    def answering_principal(self, viewer: Viewer, code: str,
                            client: ClientInfo) -> tuple[Principal, RequestView]:
        """Who makes the answer: a colleague as themselves; an external responder (a guest)
        as the requester's secret, acted on by the guest's address (``answering_for``)."""
        view = self.view(viewer, code, client)
        if view.role != RESPONDER:
            raise AccessDenied("only the people asked can answer a request")
        if isinstance(viewer, Principal):
            return viewer, view
        with self.db() as session:
            requester_id = session.scalar(select(SecretRequest.requester_id).where(
                SecretRequest.id == view.request_id))
        assert requester_id is not None
        return Principal(tenant_id=viewer.tenant_id, user_id=requester_id, email=viewer.email,
                         name=viewer.email, answering_for=view.request_id), view

    def start_answer(self, viewer: Viewer, code: str, client: ClientInfo, *,
                     content_format: str, public_key: bytes,
                     plaintext_size: int | None) -> CreatedSecret:
        """A responder's answer, pending like any new secret: its only recipient is the
        requester, its limits the request's. Completing it fulfils the request."""
        principal, view = self.answering_principal(viewer, code, client)
        if view.status != RequestStatus.OPEN:
            raise Conflict(f"this request is {view.status}; it takes no answer")
        if view.expected_format is not None and content_format != view.expected_format:
            raise InvalidInput(f"this request asks for {view.expected_format}",
                               field="format")
        return self.sharing.create(principal, policy.NewSecretRequest(
            audience=INTERNAL, recipients=[view.requester_email], format=content_format,
            label=view.label[:policy.LABEL_MAX_CHARS] if view.label else None,
            expires_in_seconds=view.answer_expires_in_seconds,
            view_limit=view.answer_view_limit, public_key=public_key,
            plaintext_size=plaintext_size), answering=view.request_id)

    def cancel(self, principal: Principal, code: str, client: ClientInfo) -> RequestView:
        with self.db() as session:
            request = self._load(session, principal, code)
            if request.requester_id != principal.user_id:
                raise AccessDenied("only its requester can cancel a request")
            event = self.audit_log.values(
                audit.REQUEST_CANCELLED, tenant_id=principal.tenant_id,
                actor=actor_of(principal), client=client, secret=audited(request))
        with autocommit_connection(self.engine) as connection, transaction(connection):
            now = self.clock.now()
            if not request_states.cancel(connection, request.id, principal.user_id, now, event):
                status = effective_status(request.status, request.open_until, now)
                raise Conflict(f"this request is already {status}")
        self.audit_log.counted(event)
        return self.view(principal, code, client)

    def list_own(self, principal: Principal) -> list[RequestSummary]:
        return summaries(self.db, self.clock.now(), principal.tenant_id,
                         SecretRequest.requester_id == principal.user_id)

    def list_tenant(self, admin: Principal, *, status: str = "", query: str = "",
                    limit: int = 200) -> list[RequestSummary]:
        """The admin console's list (super admins; the route checks): every request of the
        organization, newest first, by status and by a requester's or responder's address or
        a request code."""
        if not admin.is_super_admin:
            raise AccessDenied("super admins only")
        conditions: list[ColumnElement[bool]] = []
        if status:
            if status not in {state.value for state in RequestStatus} - {"pending"}:
                raise InvalidInput("status is open, fulfilled, expired or cancelled",
                                   field="status")
            conditions.append(status_is(status, self.clock.now()))
        text = query.strip().lower()
        if text:
            like = f"%{escape_like(text)}%"
            asked = select(SecretRequestResponder.request_id).where(
                SecretRequestResponder.email.like(like, escape="\\"))
            conditions.append(or_(SecretRequest.request_code == text.upper(),
                                  User.email.like(like, escape="\\"),
                                  SecretRequest.id.in_(asked)))
        return summaries(self.db, self.clock.now(), admin.tenant_id, *conditions, limit=limit)
