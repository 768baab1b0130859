"""Personal API tokens: for scripts, CI jobs and the CLI, on the same ``/api/v1`` routes.

A token is ``cipherslip_pat_`` + 43 base62 characters (256 random bits) + a 6-character
base62 CRC-32 of those 43: the prefix lets secret scanners recognise a leaked token, and the
checksum lets them (and us, before any database lookup) tell a real one from a string that
merely looks like it, as GitHub's tokens do. Only its SHA-256 is stored, with its last four
characters as a hint. It is shown once, at creation.

What a token may do is its scopes (``SCOPES``); what its owner may do still applies on top
(an ``audit:read`` token of someone who is no longer a super admin reads nothing).
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, RandomSource, as_utc
from core.db.models import ApiToken, User
from core.errors import AccessDenied, InvalidInput, InvalidToken, NotFound
from core.services import audit
from core.services.audit import AuditLog, actor_of
from core.services.identity import BASIC, SUPER_ADMIN, ClientInfo, Principal, TokenRef

TOKEN_PREFIX = "cipherslip_pat_"  # noqa: S105 - the public prefix, not a token
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY_LENGTH, _CHECKSUM_LENGTH = 43, 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + _BODY_LENGTH + _CHECKSUM_LENGTH

WRITE, READ, REVEAL, AUDIT_READ = "secrets:write", "secrets:read", "secrets:reveal", "audit:read"
SCOPES = {
    WRITE: "create secrets and revoke your own",
    READ: "list your secrets and read their details",
    REVEAL: "reveal secrets shared with you",
    AUDIT_READ: "read and export the audit log (super admins only)",
}
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
NAME_MAX = 100
# Last use is recorded at most this often per token (unless the address changes): a token in
# a busy CI job should not cost a write on every request.
LAST_USED_EVERY = timedelta(seconds=60)


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def new_token(random: RandomSource) -> str:
    body = _base62(int.from_bytes(random.token_bytes(32), "big"), _BODY_LENGTH)
    return TOKEN_PREFIX + body + _checksum(body)


def well_formed(token: str) -> bool:
    """Prefix, length, alphabet and checksum: no database needed to refuse a typo."""
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return False
    rest = token[len(TOKEN_PREFIX):]
    if any(character not in _ALPHABET for character in rest):
        return False
    return _checksum(rest[:_BODY_LENGTH]) == rest[_BODY_LENGTH:]


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a token acts for, what it may do, and how the audit log names it."""

    principal: Principal
    scopes: frozenset[str]
    ref: TokenRef


@dataclass(frozen=True)
class TokenSummary:
    id: str
    name: str
    hint: str
    scopes: tuple[str, ...]
    owner_email: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if as_utc(self.expires_at) <= now else "active"


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    summary: TokenSummary


def _summary(row: ApiToken, owner_email: str) -> TokenSummary:
    return TokenSummary(
        id=row.id, name=row.name, hint=row.hint, scopes=tuple(row.scopes.split()),
        owner_email=owner_email, created_at=row.created_at, expires_at=row.expires_at,
        last_used_at=row.last_used_at, last_used_ip=row.last_used_ip, revoked_at=row.revoked_at,
    )


def clean_scopes(scopes: list[str], principal: Principal) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}; scopes are: {', '.join(SCOPES)}",
                           field="scopes")
    if not scopes:
        raise InvalidInput("choose at least one scope", field="scopes")
    if AUDIT_READ in scopes and not principal.is_super_admin:
        raise AccessDenied("only super admins can give a token the audit:read scope")
    return tuple(scope for scope in SCOPES if scope in scopes)


@dataclass(frozen=True, kw_only=True)
class ApiTokenService:
    db: sessionmaker[Session]
    clock: Clock
    random: RandomSource
    audit_log: AuditLog

    def create(self, principal: Principal, *, name: str, scopes: list[str],
               lifetime: timedelta | None, client: ClientInfo) -> IssuedToken:
        name = " ".join(name.split())
        if not name or len(name) > NAME_MAX:
            raise InvalidInput(f"name the token (1 to {NAME_MAX} characters)", field="name")
        lifetime = lifetime or DEFAULT_LIFETIME
        if not timedelta(hours=1) <= lifetime <= MAX_LIFETIME:
            raise InvalidInput("a token lasts from 1 hour to 365 days", field="expires_in_days")
        chosen = clean_scopes(scopes, principal)
        token, now = new_token(self.random), self.clock.now()
        row = ApiToken(id=str(uuid.uuid4()), tenant_id=principal.tenant_id,
                       user_id=principal.user_id, name=name, token_hash=token_hash(token),
                       hint=token[-4:], scopes=" ".join(chosen), created_at=now,
                       expires_at=now + lifetime)
        with self.db.begin() as session:
            session.add(row)
            self.audit_log.record(session, audit.API_TOKEN_CREATED,
                                  tenant_id=principal.tenant_id, actor=actor_of(principal),
                                  client=_with_token(client, row),
                                  status_detail=" ".join(chosen))
            summary = _summary(row, principal.email)
        return IssuedToken(token, summary)

    def list_own(self, principal: Principal) -> list[TokenSummary]:
        with self.db() as session:
            rows = session.scalars(
                select(ApiToken).where(ApiToken.tenant_id == principal.tenant_id,
                                       ApiToken.user_id == principal.user_id)
                .order_by(ApiToken.created_at.desc())).all()
            return [_summary(row, principal.email) for row in rows]

    def list_tenant(self, admin: Principal) -> list[TokenSummary]:
        """Every token of the tenant (the admin console); the caller checked the role."""
        with self.db() as session:
            rows = session.execute(
                select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.tenant_id == admin.tenant_id)
                .order_by(ApiToken.created_at.desc()).limit(1000)).all()
            return [_summary(row, email) for row, email in rows]

    def revoke(self, principal: Principal, token_id: str, client: ClientInfo) -> None:
        """By its owner, or by a super admin of the tenant; revoked at once, for good."""
        with self.db.begin() as session:
            row = session.scalar(select(ApiToken).where(
                ApiToken.id == token_id, ApiToken.tenant_id == principal.tenant_id))
            if row is None or (row.user_id != principal.user_id
                               and not principal.is_super_admin):
                raise NotFound("no such token")
            if row.revoked_at is not None:
                return
            row.revoked_at, row.revoked_by = self.clock.now(), principal.email
            self.audit_log.record(session, audit.API_TOKEN_REVOKED,
                                  tenant_id=principal.tenant_id, actor=actor_of(principal),
                                  client=_with_token(client, row))

    def authenticate(self, token: str, ip: str | None) -> TokenPrincipal:
        """The owner and scopes of a live token; InvalidToken for anything else."""
        if not well_formed(token):
            raise InvalidToken
        now = self.clock.now()
        with self.db() as session:
            found = session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == token_hash(token))).one_or_none()
            if found is None:
                raise InvalidToken
            row, user = found
            if row.revoked_at is not None or as_utc(row.expires_at) <= now:
                raise InvalidToken
            principal = Principal(tenant_id=row.tenant_id, user_id=user.id, email=user.email,
                                  name=user.name,
                                  role=SUPER_ADMIN if user.is_super_admin else BASIC)
            result = TokenPrincipal(principal, frozenset(row.scopes.split()),
                                    TokenRef(row.id, row.name))
            stale = row.last_used_at is None or as_utc(row.last_used_at) <= now - LAST_USED_EVERY
            if stale or row.last_used_ip != ip:
                session.execute(update(ApiToken).where(ApiToken.id == row.id)
                                .values(last_used_at=now, last_used_ip=ip))
                session.commit()
        return result


def _with_token(client: ClientInfo, row: ApiToken) -> ClientInfo:
    """The event about a token names it, as events made with one do."""
    return ClientInfo(ip=client.ip, user_agent=client.user_agent,
                      api_token=TokenRef(row.id, row.name))
