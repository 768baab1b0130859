"""``cipherslip <command>``: the entry point operators and ``make run`` use."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from cli.audit import add_commands as add_audit_commands
from core.jobs import JobReport
from core.logging import configure_logging
from core.production import Component, ProductionGuardError, enforce_production, production_problems
from core.settings import Settings

KEEP_ALIVE_SECONDS = 75


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options of every Cipherslip server (the test stack uses them too)."""
    return {
        "log_config": None,
        "access_log": False,  # our own access log leaves query strings out
        # Client IPs feed rate limits and the audit log: only named proxies may set them.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        # Longer than load balancers keep idle connections (60 s for most), so a proxy never
        # sends a request on a connection we are closing (uvicorn's default is 5 s).
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


def _serve(
    factory: str, host: str, port: int, settings: Settings, component: str, *, workers: int = 1
) -> None:
    configure_logging(settings.log_level, settings.log_format, component=component,
                      development_warnings=settings.development_warnings)
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers,
                **server_options(settings))


def workers_refused(settings: Settings, workers: int) -> str | None:
    """Why ``--workers`` cannot be used with these settings, if it cannot."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers > 1 and settings.cache_backend == "memory":
        # Each worker would have its own sessions and rate limits: a sign-in on one worker
        # would be unknown to the next request's, and every limit would multiply.
        return (f"--workers {workers} needs sessions and rate limits shared between the "
                "workers: set CIPHERSLIP_CACHE_BACKEND=redis (and CIPHERSLIP_REDIS_URL)")
    return None


def refused(settings: Settings, component: Component) -> bool:
    """Print why this process must not start (production guard), if it must not."""
    try:
        enforce_production(settings, component)
    except ProductionGuardError as exc:
        print(exc.message, file=sys.stderr)
        return True
    return False


def cmd_api(args: argparse.Namespace) -> int:
    settings = Settings()
    if refused(settings, "api"):
        return 2
    if len(settings.vault_token) < 32:
        print("cipherslip api refuses to start: CIPHERSLIP_VAULT_TOKEN must be the vault's "
              "service token (at least 32 characters)", file=sys.stderr)
        return 2
    problem = workers_refused(settings, args.workers)
    if problem is not None:
        print(f"cipherslip api refuses to start: {problem}", file=sys.stderr)
        return 2
    _serve("api.app:app_from_env", args.host, args.port, settings, "api", workers=args.workers)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """What the production guard would say about this environment, for every process."""
    settings = Settings()
    problems = {component: production_problems(settings.model_copy(update={"env": "production"}),
                                               component)
                for component in ("api", "vault", "scheduler")}
    for component, found in problems.items():
        print(f"{component}: " + ("ready for production" if not found else
                                  "\n  - " + "\n  - ".join(found)))
    return 1 if any(problems.values()) else 0


def cmd_vault(args: argparse.Namespace) -> int:
    # The vault's own entry point: it refuses to start, in one line, on a weak token or an
    # unusable KMS, and configures its own (key-safe) logging.
    from vault.__main__ import main as vault_main

    return vault_main(["--host", args.host, "--port", str(args.port),
                       "--workers", str(args.workers)])


def cmd_migrate(_args: argparse.Namespace) -> int:
    from core.db.migrate import upgrade_to_head

    settings = Settings()
    configure_logging(settings.log_level, "text", component="migrate",
                      development_warnings=settings.development_warnings)
    upgrade_to_head(settings.effective_database_url)
    print("database is at the latest schema")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from scheduler.jobs import AuditSequencer, PurgeJobs
    from scheduler.runner import run_forever
    from scheduler.services import build_scheduler_services

    settings = Settings()
    if refused(settings, "scheduler"):
        return 2
    configure_logging(settings.log_level, settings.log_format, component="scheduler",
                      development_warnings=settings.development_warnings)
    services = build_scheduler_services(settings)
    jobs = PurgeJobs(db=services.db, lifecycle=services.lifecycle,
                     clock=services.clock)
    notice_jobs: list[Callable[[], JobReport]] = []
    if settings.slack_enabled:
        from bot.app import build_notifier, build_request_notices

        notice_jobs = [build_notifier(settings, services).run,
                       build_request_notices(settings, services).run]

    def notices() -> list[JobReport]:
        return [job() for job in notice_jobs]
    try:
        if args.once:
            sequencer = AuditSequencer(db=services.db)
            reports = [sequencer.run(), *jobs.run_all(), *notices()]
            for report in reports:
                print(f"{report.name}: {len(report.processed)} done, {report.failed} to retry")
        else:
            run_forever(jobs, args.interval, notices if notice_jobs else None,
                        AuditSequencer(db=services.db),
                        ready_file=args.ready_file)
    finally:
        services.close()
    return 0


def cmd_dev_idp(args: argparse.Namespace) -> int:
    """The development OpenID provider (anyone signs in as any email): make run, compose."""
    import uvicorn as server
    from oidc_provider_mock import app as provider_app

    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # it speaks plain HTTP
    server.run(provider_app(), interface="wsgi", host=args.host, port=args.port,
               log_config=None)
    return 0


def cmd_mail_sink(args: argparse.Namespace) -> int:
    from cli.mail_sink import run_mail_sink

    return run_mail_sink(args.port, Settings().data_dir / "mail")


def cmd_slack_socket(_args: argparse.Namespace) -> int:
    from cli.slack_socket import run_socket_mode

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, component="bot",
                      development_warnings=settings.development_warnings)
    return run_socket_mode(settings)


def cmd_dev(args: argparse.Namespace) -> int:
    from cli.dev import run_dev_stack

    return run_dev_stack(port=args.port, vault_port=args.vault_port, idp_port=args.idp_port,
                         smtp_port=args.smtp_port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cipherslip", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    api = commands.add_parser("api", help="serve the api and web pages")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=1,
                     help="worker processes (each one core); more than 1 needs Redis")
    api.set_defaults(run=cmd_api)

    vault = commands.add_parser("vault", help="serve the vault (key custody; needs KMS access)")
    vault.add_argument("--host", default="127.0.0.1")
    vault.add_argument("--port", type=int, default=8100)
    vault.add_argument("--workers", type=int, default=1, help="worker processes")
    vault.set_defaults(run=cmd_vault)

    check = commands.add_parser("check", help="list what would stop a production start")
    check.set_defaults(run=cmd_check)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.set_defaults(run=cmd_migrate)

    scheduler = commands.add_parser("scheduler", help="run the purge jobs (any number of replicas)")
    scheduler.add_argument("--interval", type=float, default=15, help="seconds between passes")
    scheduler.add_argument("--once", action="store_true", help="one pass, then exit")
    scheduler.add_argument("--ready-file", type=Path, default=None,
                           help="create this file once the jobs are scheduled")
    scheduler.set_defaults(run=cmd_scheduler)

    socket = commands.add_parser(
        "slack-socket", help="the Slack app over Socket Mode (development, no public URL)")
    socket.set_defaults(run=cmd_slack_socket)

    idp = commands.add_parser("dev-idp", help="development OpenID provider (never production)")
    idp.add_argument("--host", default="127.0.0.1")
    idp.add_argument("--port", type=int, default=9400)
    idp.set_defaults(run=cmd_dev_idp)

    sink = commands.add_parser("mail-sink", help="development SMTP server that prints mail")
    sink.add_argument("--port", type=int, default=1025)
    sink.set_defaults(run=cmd_mail_sink)

    add_audit_commands(commands)

    dev = commands.add_parser("dev", help="run everything locally on embedded defaults")
    dev.add_argument("--port", type=int, default=8000, help="api+web port")
    dev.add_argument("--vault-port", type=int, default=8100)
    dev.add_argument("--idp-port", type=int, default=9400, help="development OIDC provider port")
    dev.add_argument("--smtp-port", type=int, default=1025, help="development mail sink port")
    dev.set_defaults(run=cmd_dev)
    return parser


def hide_library_deprecations() -> None:
    """Authlib turns its own deprecation warnings on ("always") when it is imported, and
    prints them at every start: notes for us (we track our dependencies), not for whoever
    runs the product."""
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)


def main(argv: Sequence[str] | None = None) -> int:
    hide_library_deprecations()
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
