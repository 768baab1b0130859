"""Magic links: how an external recipient proves an email address (docs/ARCHITECTURE.md).

Asking for a link gets the same answer, in the same time, whether or not the address is a
recipient, so the form cannot be used to learn who the recipients are. A link is a 256-bit
token carried in the URL fragment (never sent to a server until the recipient presses
Continue), stored only as its SHA-256, valid for 15 minutes, usable once, and superseded by
the next one asked for.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NoReturn

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.sharecode import normalize_share_code
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cache.protocol import RateLimiter
from core.clock import Clock, RandomSource
from core.db.models import MagicLink, Secret, SecretRequest
from core.errors import AccessDenied, InvalidInput, NotFound, RateLimited
from core.mail.messages import magic_link_message
from core.mail.protocol import Mailer
from core.services import audit
from core.services.audit import Actor, AuditedSecret, AuditLog
from core.services.identity import ClientInfo
from core.services.locations import request_path, share_path
from core.services.policy import normalize_email
from core.services.request_records import audited
from core.services.request_states import RequestStatus
from core.services.request_states import effective_status as request_effective_status
from core.services.states import ACTIVE, EXTERNAL, PENDING, effective_status
from core.settings import Settings

MAGIC_LINK_TTL = timedelta(minutes=15)
TOKEN_BYTES = 32
log = logging.getLogger(__name__)

REFUSALS = {
    "link_reused": "This sign-in link was already used. Ask for a new one on the secret's page.",
    "link_superseded": "A newer sign-in link was sent; use the latest email.",
    "link_expired": "This sign-in link expired (they last 15 minutes). Ask for a new one.",
}


@dataclass(frozen=True)
class ConfirmedLink:
    """What a used link proved: this address, for one secret or (a responder) one request."""

    tenant_id: str
    email: str
    secret_id: str | None
    share_code: str | None
    request_id: str | None = None
    request_code: str | None = None

    @property
    def next_path(self) -> str:
        if self.share_code is not None:
            return share_path(self.share_code)
        assert self.request_code is not None
        return request_path(self.request_code)


@dataclass(frozen=True)
class _LinkTarget:
    """What a new link is for, and what its email says."""

    tenant_id: str
    secret_id: str | None
    request_id: str | None
    sender_name: str
    sender_email: str
    label: str | None
    audited: AuditedSecret
    asking: bool


def token_hash(token: bytes) -> bytes:
    # A 256-bit random token needs no slow hash: the digest alone cannot be inverted.
    return hashlib.sha256(token).digest()


@dataclass(frozen=True, kw_only=True)
class MagicLinkService:
    settings: Settings
    db: sessionmaker[Session]
    mailer: Mailer
    audit_log: AuditLog
    rate_limiter: RateLimiter
    clock: Clock
    random: RandomSource
    sleep: Callable[[float], None] = field(default=time.sleep)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def request(self, share_code: str, email_text: str, client: ClientInfo) -> str:
        """Email a sign-in link if ``email`` may open the secret; the caller learns nothing
        either way. Returns the normalized address."""
        return self._evenly(email_text, client,
                            lambda email: self._target_secret(share_code, email))

    def request_for_request(self, request_code: str, email_text: str,
                            client: ClientInfo) -> str:
        """The same for an external responder of an open request."""
        return self._evenly(email_text, client,
                            lambda email: self._target_request(request_code, email))

    def _evenly(self, email_text: str, client: ClientInfo,
                target_of: Callable[[str], _LinkTarget | None]) -> str:
        """Same answer, same time, for every address (the form must not tell who may)."""
        email = normalize_email(email_text, field="email")
        self._check_rate(f"email:{email}", self.settings.magic_link_rate_per_email)
        self._check_rate(f"ip:{client.ip}", self.settings.magic_link_rate_per_ip)
        started = self.monotonic()
        try:
            target = target_of(email)
            if target is None:
                # Talk to the mail server anyway: an outage then looks the same for everyone.
                self.mailer.check_ready()
            else:
                self._send(target, email, client)
        finally:
            remaining = self.settings.magic_link_response_seconds - (self.monotonic() - started)
            if remaining > 0:
                self.sleep(remaining)
        return email

    def _check_rate(self, key: str, limit: int) -> None:
        decision = self.rate_limiter.hit(f"magic-link:{key}", limit=limit, window_seconds=60)
        if not decision.allowed:
            raise RateLimited("too many sign-in link requests; wait a minute",
                              retry_after=decision.retry_after)

    def _target_secret(self, share_code: str, email: str) -> _LinkTarget | None:
        code = normalize_share_code(share_code)
        with self.db() as session:
            secret = session.scalar(select(Secret).where(Secret.share_code == code))
            if secret is None or secret.status == PENDING:
                raise NotFound("no secret has this share code")
            if not (secret.audience == EXTERNAL
                    and effective_status(secret, self.clock.now()) == ACTIVE
                    and email in {recipient.email for recipient in secret.recipients}):
                return None
            return _LinkTarget(secret.tenant_id, secret.id, None, secret.creator.name,
                               secret.creator.email, secret.label, secret, asking=False)

    def _target_request(self, request_code: str, email: str) -> _LinkTarget | None:
        code = normalize_share_code(request_code)
        with self.db() as session:
            request = session.scalar(select(SecretRequest).where(
                SecretRequest.request_code == code))
            if request is None or request.status == RequestStatus.PENDING:
                raise NotFound("no request has this code")
            if not (request.audience == EXTERNAL
                    and request_effective_status(request.status, request.open_until,
                                                 self.clock.now()) == RequestStatus.OPEN
                    and email in {responder.email for responder in request.responders}):
                return None
            return _LinkTarget(request.tenant_id, None, request.id, request.requester.name,
                               request.requester.email, request.label, audited(request),
                               asking=True)

    def _send(self, target: _LinkTarget, email: str, client: ClientInfo) -> None:
        token = self.random.token_bytes(TOKEN_BYTES)
        link = f"{self.settings.base_url}/verify#{b64url_encode(token)}"
        try:
            message = magic_link_message(
                mail_from=self.settings.mail_from, to=email, sender_name=target.sender_name,
                sender_email=target.sender_email, label=target.label, link=link,
                product=self.settings.tenant_name, asking=target.asking,
            )
        except ValueError:
            # Our fault, not the caller's: the answer stays the one everybody gets. (The
            # logging setup withholds the exception's message, which could quote the name.)
            log.exception("magic link not sent: the message could not be built")
            return
        self.mailer.send(message)
        # Stored only once the mail went out: a failed send keeps the previous link valid.
        now = self.clock.now()
        same_target = (MagicLink.secret_id == target.secret_id if target.secret_id
                       else MagicLink.request_id == target.request_id)
        with self.db.begin() as session:
            session.execute(
                update(MagicLink)
                .where(same_target, MagicLink.email == email,
                       MagicLink.used_at.is_(None), MagicLink.superseded_at.is_(None))
                .values(superseded_at=now)
                .execution_options(synchronize_session=False)
            )
            session.add(MagicLink(
                tenant_id=target.tenant_id, secret_id=target.secret_id,
                request_id=target.request_id, email=email, token_hash=token_hash(token),
                created_at=now, expires_at=now + MAGIC_LINK_TTL,
            ))
            self.audit_log.record(
                session, audit.MAGIC_LINK_CREATED, tenant_id=target.tenant_id,
                actor=Actor(email), client=client, secret=target.audited,
            )

    def consume(self, token_text: str, client: ClientInfo) -> ConfirmedLink:
        """Use a link once: the guest session it starts is scoped to that email and secret."""
        self._check_rate(f"consume-ip:{client.ip}", self.settings.magic_link_rate_per_ip)
        try:
            token = b64url_decode(token_text, field="token")
        except InvalidInput:
            token = b""
        digest = token_hash(token)
        now = self.clock.now()
        if len(token) == TOKEN_BYTES:
            with self.db.begin() as session:
                row = session.execute(
                    update(MagicLink)
                    .where(MagicLink.token_hash == digest, MagicLink.used_at.is_(None),
                           MagicLink.superseded_at.is_(None), MagicLink.expires_at > now)
                    .values(used_at=now)
                    .returning(MagicLink.tenant_id, MagicLink.email, MagicLink.secret_id,
                               MagicLink.request_id)
                    .execution_options(synchronize_session=False)
                ).one_or_none()
                if row is not None and row.secret_id is not None:
                    secret = session.get(Secret, row.secret_id)
                    assert secret is not None  # the link cascades with its secret
                    return ConfirmedLink(row.tenant_id, row.email, row.secret_id,
                                         secret.share_code)
                if row is not None:
                    request = session.get(SecretRequest, row.request_id)
                    assert request is not None  # the link cascades with its request
                    return ConfirmedLink(row.tenant_id, row.email, None, None, request.id,
                                         request.request_code)
        self._refuse(digest, client)

    def _refuse(self, digest: bytes, client: ClientInfo) -> NoReturn:
        with self.db() as session:
            link = session.scalar(select(MagicLink).where(MagicLink.token_hash == digest))
            subject: AuditedSecret | None = None
            if link is not None and link.secret_id is not None:
                subject = session.get(Secret, link.secret_id)
            elif link is not None and link.request_id is not None:
                request = session.get(SecretRequest, link.request_id)
                subject = audited(request) if request is not None else None
        if link is None or subject is None:
            log.info("unknown sign-in link presented")
            raise AccessDenied("This sign-in link is not valid. Ask for a new one on the "
                               "secret's page.")
        reason = ("link_reused" if link.used_at is not None
                  else "link_superseded" if link.superseded_at is not None
                  else "link_expired")
        with self.db.begin() as session:
            self.audit_log.record(
                session, audit.ACCESS_DENIED, tenant_id=link.tenant_id, actor=Actor(link.email),
                client=client, secret=subject, status=audit.FAILURE, status_detail=reason,
            )
        raise AccessDenied(REFUSALS[reason])
