"""The org directory: users become known when they sign in with SSO."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.clock import Clock, RandomSource, as_utc
from core.db.models import User
from core.errors import AccessDenied
from core.services.identity import BASIC, SUPER_ADMIN, Principal
from core.services.tenants import TenantDirectory


@dataclass(frozen=True)
class DirectoryEntry:
    email: str
    name: str


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, kw_only=True)
class UserDirectory:
    db: sessionmaker[Session]
    tenants: TenantDirectory
    clock: Clock
    random: RandomSource
    super_admin_emails: tuple[str, ...] = ()
    # A role granted by the IdP's group counts for requests without a session (Slack) only
    # this long after the sign-in that granted it, as a web session would.
    role_ttl: timedelta = timedelta(hours=8)

    def sign_in(
        self, *, issuer: str, subject: str, email: str, name: str, in_admin_group: bool = False
    ) -> Principal:
        """Record an SSO sign-in (creating the user on first sight) and return who it is.

        Super admins are named in settings or are members of the IdP's admin group; the role
        is decided at each sign-in, so removing someone takes effect at their next one.
        """
        email = email.strip().lower()
        tenant = self.tenants.for_sign_in(issuer, email)
        is_admin = in_admin_group or email in self.super_admin_emails
        try:
            principal = self._record_sign_in(tenant.id, issuer, subject, email, name,
                                                 is_admin=is_admin)
        except IntegrityError:
            # Two first sign-ins raced (two tabs); the other one created the row.
            principal = self._record_sign_in(tenant.id, issuer, subject, email, name,
                                                 is_admin=is_admin)
        if is_admin:
            return dataclasses.replace(principal, role=SUPER_ADMIN)
        return principal

    def principal_for_email(self, tenant_id: str, email: str) -> Principal | None:
        """The tenant's user holding this (verified) address, with the role of their last
        sign-in, for requests that carry no session (Slack); None if they never signed in."""
        email = email.strip().lower()
        with self.db() as session:
            user = session.scalar(
                select(User).where(User.tenant_id == tenant_id, User.email == email)
            )
            if user is None:
                return None
            recent = as_utc(user.last_login_at) > self.clock.now() - self.role_ttl
            is_admin = (user.is_super_admin and recent) or email in self.super_admin_emails
            return Principal(tenant_id, user.id, user.email, user.name,
                             role=SUPER_ADMIN if is_admin else BASIC)

    def _record_sign_in(
        self, tenant_id: str, issuer: str, subject: str, email: str, name: str, *, is_admin: bool
    ) -> Principal:
        now = self.clock.now()
        with self.db.begin() as session:
            user = session.scalar(
                select(User).where(
                    User.tenant_id == tenant_id, User.issuer == issuer, User.subject == subject
                )
            )
            holder = session.scalar(
                select(User).where(User.tenant_id == tenant_id, User.email == email)
            )
            # Secrets are addressed by email: one account may hold an address, never two.
            if holder is not None and holder is not user:
                raise AccessDenied(
                    "this email address already belongs to another account; "
                    "ask your administrator"
                )
            if user is None:
                user = User(
                    id=str(uuid.UUID(bytes=self.random.token_bytes(16), version=4)),
                    tenant_id=tenant_id, issuer=issuer, subject=subject, email=email,
                    name=name or email, created_at=now, last_login_at=now,
                    is_super_admin=is_admin,
                )
                session.add(user)
            else:
                user.email, user.name, user.last_login_at = email, name or email, now
                user.is_super_admin = is_admin
            return Principal(tenant_id, user.id, user.email, user.name)

    def search(self, tenant_id: str, query: str, limit: int = 10) -> list[DirectoryEntry]:
        pattern = f"%{escape_like(query.strip().lower())}%"
        with self.db() as session:
            rows = session.execute(
                select(User.email, User.name)
                .where(User.tenant_id == tenant_id)
                .where(or_(User.email.like(pattern, escape="\\"),
                           func.lower(User.name).like(pattern, escape="\\")))
                .order_by(User.email)
                .limit(limit)
            ).all()
        return [DirectoryEntry(email, name) for email, name in rows]

    def non_org_emails(self, session: Session, tenant_id: str, emails: Iterable[str]) -> list[str]:
        """Emails that are neither a known user of the tenant nor on its internal domains."""
        tenant = self.tenants.get(tenant_id)
        candidates = [email for email in emails if not tenant.owns_domain(email)]
        if not candidates:
            return []
        known = set(
            session.scalars(
                select(User.email).where(User.tenant_id == tenant_id, User.email.in_(candidates))
            )
        )
        return [email for email in candidates if email not in known]
