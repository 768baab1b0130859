"""The whole product on loopback for tests: api + web, a separate vault, a real IdP."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from api.app import create_app
from bot.app import build_notifier
from cli.main import server_options
from core.services.container import Services, build_services
from core.services.notice_outbox import NoticeOutbox
from core.settings import Settings
from scheduler.jobs import PurgeJobs
from tests.support.client import BrowserLikeClient
from tests.support.clock import MovableClock
from tests.support.servers import UvicornThread, bound_socket
from tests.support.smtp import SmtpServer, smtp_server
from vault.app import create_vault_app


class Vault(Protocol):
    """What the api needs to know of a vault: a thread of ours or a process."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


@dataclass
class VaultServer:
    server: UvicornThread
    token: str
    master_key_file: Path

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def vault_server(directory: Path) -> Iterator[VaultServer]:
    token = secrets.token_urlsafe(32)
    master_key_file = directory / "master.key"
    settings = Settings(vault_token=token, kms_backend="local",
                        kms_master_key_file=master_key_file, data_dir=directory)
    server = UvicornThread(create_vault_app(settings))
    server.start()
    try:
        yield VaultServer(server, token, master_key_file)
    finally:
        server.stop()


class LogCapture(logging.Handler):
    """Every record any logger emits while the stack runs, formatted with its arguments."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: v for k, v in record.__dict__.items() if k not in _PLAIN}
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()} {extras}")

    def text(self) -> str:
        return "\n".join(self.lines)


_PLAIN = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextmanager
def capture_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


@dataclass
class Stack:
    settings: Settings
    services: Services
    api: UvicornThread
    vault: Vault
    clock: MovableClock
    smtp: SmtpServer
    clients: list[BrowserLikeClient] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.api.url

    def stored_blobs(self, secret_id: str) -> list[Path]:
        """Ciphertext files of a secret in the (local) blob store."""
        directory = self.settings.effective_blob_dir / self.settings.tenant_id / secret_id
        return sorted(path for path in directory.glob("*") if path.is_file())

    def purge_jobs(self) -> PurgeJobs:
        """The scheduler's jobs over this stack's database and blob store, on its clock."""
        return PurgeJobs(db=self.services.db, lifecycle=self.services.lifecycle,
                         clock=self.clock)

    def notifier(self) -> NoticeOutbox:
        """The creator-notice job the scheduler runs (Slack must be configured)."""
        return build_notifier(self.settings, self.services)

    def user(self, email: str) -> BrowserLikeClient:
        client = BrowserLikeClient(self.base_url, email).sign_in()
        self.clients.append(client)
        return client

    def anonymous(self) -> BrowserLikeClient:
        client = BrowserLikeClient(self.base_url, "nobody@example.com")
        self.clients.append(client)
        return client


@contextmanager
def running_stack(
    *, data_dir: Path, database_url: str, discovery_url: str, vault: Vault,
    **overrides: Any,
) -> Iterator[Stack]:
    # Bound now, served later: the base URL must name the port before the app exists.
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    with smtp_server() as smtp:
        options: dict[str, Any] = {
            "base_url": f"http://127.0.0.1:{port}", "data_dir": data_dir,
            "database_url": database_url, "vault_url": vault.url, "vault_token": vault.token,
            "oidc_discovery_url": discovery_url, "internal_domains": ("example.com",),
            "log_format": "text", "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
            "mail_from": "Cipherslip <noreply@example.com>",
            # Keeps the suite fast; the timing property is measured by bench/.
            "magic_link_response_seconds": 0.05,
        }
        settings = Settings(**{**options, **overrides})
        clock = MovableClock()
        services = build_services(settings, clock=clock)
        api = UvicornThread(create_app(settings, services), sock=sock,
                            **server_options(settings))
        api.start()
        stack = Stack(settings, services, api, vault, clock, smtp)
        try:
            yield stack
        finally:
            for client in stack.clients:
                client.close()
            api.stop()
