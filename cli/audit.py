"""``cipherslip audit verify | link | export``: operator access to the audit
log straight from the database, with the same code as the console and API."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


def _database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    from core.db.engine import create_db_engine, create_session_factory

    engine = create_db_engine(settings.effective_database_url)
    return engine, create_session_factory(engine)


def cmd_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select, union

    from core.clock import SystemClock
    from core.db.models import AuditChainHead, AuditEvent
    from core.services.audit_chain import verify_chain
    from core.services.tenants import TenantDirectory

    settings = Settings()
    engine, db = _database(settings)
    try:
        if args.tenant:
            tenants = [args.tenant]
        else:
            # Configured tenants and any tenant with events, even one since removed.
            with db() as session:
                stored = session.scalars(union(select(AuditChainHead.tenant_id),
                                               select(AuditEvent.tenant_id))).all()
            configured = [tenant.id for tenant in TenantDirectory(settings).all()]
            tenants = sorted(set(configured) | set(stored))
        broken = 0
        now = SystemClock().now()
        for tenant_id in tenants:
            report = verify_chain(db, tenant_id)
            age = report.unlinked_age_seconds(now)
            waiting = (f"; {report.unlinked} not linked yet (oldest {age:.0f} s)"
                       if age is not None else "; none waiting to be linked")
            if report.ok:
                print(f"tenant {tenant_id}: {report.events} events linked, chain intact, "
                      f"head {report.head_hash.hex()}{waiting}")
            else:
                broken += 1
                event = f" (id {report.broken_event_id})" if report.broken_event_id else ""
                print(f"tenant {tenant_id}: BROKEN at event #{report.broken_at_seq}{event}: "
                      f"{report.reason}; {report.events} events before it are intact{waiting}",
                      file=sys.stderr)
        return 1 if broken else 0
    finally:
        engine.dispose()


def cmd_link(args: argparse.Namespace) -> int:
    """What the scheduler's sequencer does every second, now (before a verify or a backup)."""
    from core.services.audit_chain import link_pending

    engine, db = _database(Settings())
    try:
        linked = link_pending(db, tenant_id=args.tenant)
        print(f"linked {linked} events")
        return 0
    finally:
        engine.dispose()


def cmd_export(args: argparse.Namespace) -> int:
    from core.errors import InvalidInput
    from core.services.admin import audit_conditions, export_lines

    settings = Settings()
    try:
        conditions = audit_conditions(args.tenant or settings.tenant_id, args.filter,
                                      args.actor, args.ip)
    except InvalidInput as exc:
        print(f"cipherslip audit export: {exc.message}", file=sys.stderr)
        return 2
    engine, db = _database(settings)
    try:
        with ExitStack() as stack:
            out: TextIO = (stack.enter_context(Path(args.output).open("w", encoding="utf-8"))
                           if args.output else sys.stdout)
            for line in export_lines(db, conditions):
                out.write(line)
        return 0
    finally:
        engine.dispose()


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="verify or export the audit log")
    actions = audit.add_subparsers(dest="audit_command", required=True)

    verify = actions.add_parser("verify", help="walk the hash chains; exit 1 if one is broken")
    verify.add_argument("--tenant", help="only this tenant (default: all)")
    verify.set_defaults(run=cmd_verify)

    link = actions.add_parser(
        "link", help="link events waiting for the sequencer now (the scheduler does it every "
                     "second)")
    link.add_argument("--tenant", help="only this tenant (default: all)")
    link.set_defaults(run=cmd_link)

    export = actions.add_parser("export", help="write matching events as JSON Lines")
    export.add_argument("--filter", default="", help='e.g. activity_name starts with "paper_"')
    export.add_argument("--actor", default="", help="only this actor email")
    export.add_argument("--ip", default="", help="only this client IP")
    export.add_argument("--tenant", help="tenant id (default: the default tenant)")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(run=cmd_export)
