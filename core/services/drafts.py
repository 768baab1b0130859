"""Drafts: a secret's options chosen in Slack, handed to the web page that takes the content.

Content is never typed into Slack, so ``/share-secret`` stops at a draft: the options,
validated by the same rules as a secret, and a single-use token for the encryption page. The
page needs an SSO session of the same person (the Slack user's email), and creating the
secret uses the draft up in the same transaction that stores the secret.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.meta import FORMATS
from sqlalchemy import Connection, Row, Table, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, RandomSource, as_utc
from core.db.models import Draft
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.services import policy
from core.services.identity import Principal
from core.services.states import INTERNAL
from core.services.users import UserDirectory

DRAFT_TTL = timedelta(minutes=30)
SECRET_DRAFT, REQUEST_DRAFT = "secret", "request"
COMMANDS = {SECRET_DRAFT: "/share-secret", REQUEST_DRAFT: "/secrets request"}
TOKEN_BYTES = 32


@dataclass(frozen=True)
class DraftOptions:
    audience: str
    recipients: list[str]
    format: str
    label: str | None
    expires_in_seconds: int
    view_limit: int | None
    # Set for a request's draft (``/secrets request``): how long it stays open. Its
    # recipients are then the people asked, ``format`` the expected one ("any"), and the
    # expiry and views the answer's.
    open_for_seconds: int | None = None

    @property
    def kind(self) -> str:
        return SECRET_DRAFT if self.open_for_seconds is None else REQUEST_DRAFT


@dataclass(frozen=True)
class DraftOwner:
    """Who made the draft in Slack: the web page must be signed in as this email."""

    tenant_id: str
    email: str
    slack_team_id: str
    slack_user_id: str


@dataclass(frozen=True)
class NewDraft:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenDraft:
    options: DraftOptions
    expires_at: datetime


def token_hash(token: str) -> bytes:
    return hashlib.sha256(b64url_decode(token, field="draft")).digest()


@dataclass(frozen=True, kw_only=True)
class DraftService:
    db: sessionmaker[Session]
    users: UserDirectory
    clock: Clock
    random: RandomSource

    def check_options(self, tenant_id: str, options: DraftOptions) -> DraftOptions:
        """The options as a secret would store them; InvalidInput names the field at fault."""
        if options.audience not in policy.RECIPIENTS_MAX:
            raise InvalidInput("choose Team members or External recipients", field="audience")
        if options.format not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
        recipients = policy.normalize_recipients(
            options.recipients, maximum=policy.RECIPIENTS_MAX[options.audience]
        )
        if options.audience == INTERNAL:
            with self.db() as session:
                outsiders = self.users.non_org_emails(session, tenant_id, recipients)
            if outsiders:
                raise InvalidInput("not members of your organization: " + ", ".join(outsiders),
                                   field="recipients")
        policy.check_expiry(options.expires_in_seconds)
        return DraftOptions(
            audience=options.audience, recipients=recipients, format=options.format,
            label=policy.normalize_label(options.label),
            expires_in_seconds=options.expires_in_seconds,
            view_limit=policy.check_view_limit(options.view_limit),
        )

    def create(self, owner: DraftOwner, options: DraftOptions) -> NewDraft:
        return self.store(owner, self.check_options(owner.tenant_id, options))

    def store(self, owner: DraftOwner, options: DraftOptions) -> NewDraft:
        """Keep options already checked by the rules of what they will make (a secret's
        here; a request's by ``RequestService.draft``)."""
        token = self.random.token_bytes(TOKEN_BYTES)
        now = self.clock.now()
        draft = Draft(
            id=str(uuid.UUID(bytes=self.random.token_bytes(16), version=4)),
            tenant_id=owner.tenant_id, token_hash=hashlib.sha256(token).digest(),
            creator_email=owner.email.lower(), slack_team_id=owner.slack_team_id,
            slack_user_id=owner.slack_user_id, kind=options.kind, audience=options.audience,
            recipients=options.recipients, format=options.format, label=options.label,
            expires_in_seconds=options.expires_in_seconds, view_limit=options.view_limit,
            open_for_seconds=options.open_for_seconds, created_at=now,
            expires_at=now + DRAFT_TTL,
        )
        with self.db.begin() as session:
            session.add(draft)
        return NewDraft(b64url_encode(token), draft.expires_at)

    def _usable(
        self, session: Session | Connection, principal: Principal, token: str,
        kind: str = SECRET_DRAFT,
    ) -> Row[Any]:
        command = COMMANDS[kind]
        draft = session.execute(
            select(*cast(Table, Draft.__table__).c)
            .where(Draft.token_hash == token_hash(token), Draft.tenant_id == principal.tenant_id,
                   Draft.kind == kind)
        ).one_or_none()
        if draft is None:
            raise NotFound(f"no such draft; run {command} in Slack again")
        if draft.creator_email != principal.email:
            raise AccessDenied(
                "this draft was made in Slack by someone else: sign in with the account of "
                f"the Slack user who ran {command}"
            )
        if draft.used_at is not None:
            raise Conflict(f"this draft was already used; run {command} again for another")
        if as_utc(draft.expires_at) <= self.clock.now():
            raise Conflict(f"this draft expired (drafts last 30 minutes); run {command} again")
        return draft

    def open(self, principal: Principal, token: str, kind: str = SECRET_DRAFT) -> OpenDraft:
        """The draft's options for the page, if the signed-in user may use it (not used up)."""
        with self.db() as session:
            draft = self._usable(session, principal, token, kind)
            return OpenDraft(
                DraftOptions(audience=draft.audience, recipients=list(draft.recipients),
                             format=draft.format, label=draft.label,
                             expires_in_seconds=draft.expires_in_seconds,
                             view_limit=draft.view_limit,
                             open_for_seconds=draft.open_for_seconds),
                as_utc(draft.expires_at),
            )

    def use(
        self, session: Session | Connection, principal: Principal, token: str, secret_id: str
    ) -> None:
        """Use the draft up for ``secret_id`` inside the caller's transaction; of concurrent
        users exactly one succeeds (one conditional UPDATE)."""
        self._use(session, principal, token, SECRET_DRAFT, {"secret_id": secret_id})

    def use_for_request(self, session: Session | Connection, principal: Principal,
                        token: str, request_id: str) -> None:
        self._use(session, principal, token, REQUEST_DRAFT, {"request_id": request_id})

    def _use(self, session: Session | Connection, principal: Principal, token: str,
             kind: str, made: dict[str, str]) -> None:
        draft = self._usable(session, principal, token, kind)
        used = session.execute(
            update(Draft)
            .where(Draft.id == draft.id, Draft.used_at.is_(None))
            .values(used_at=self.clock.now(), **made)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not used:
            raise Conflict(f"this draft was already used; run {COMMANDS[kind]} again for "
                           "another")

    def discard(self, token: str) -> None:
        """Forget a draft nobody was shown (Slack refused the view holding its button)."""
        with self.db.begin() as session:
            session.execute(delete(Draft).where(Draft.token_hash == token_hash(token),
                                                Draft.used_at.is_(None)))

    def slack_owner(
        self, session: Session | Connection, secret_id: str
    ) -> tuple[str, str] | None:
        """(team id, user id) of the Slack user whose draft became this secret."""
        row = session.execute(select(Draft.slack_team_id, Draft.slack_user_id)
                              .where(Draft.secret_id == secret_id)).first()
        return (row[0], row[1]) if row else None

    def request_slack_owner(
        self, session: Session | Connection, request_id: str
    ) -> tuple[str, str] | None:
        """(team id, user id) of the Slack user whose draft became this request."""
        row = session.execute(select(Draft.slack_team_id, Draft.slack_user_id)
                              .where(Draft.request_id == request_id)).first()
        return (row[0], row[1]) if row else None
