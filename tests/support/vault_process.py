"""``cipherslip vault`` as a process of the test's own, on a free port, that a fault test can
kill (SIGKILL: a crash, connections reset mid-request) and start again on the same port with
the same master key."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.dev import _wait_until_up
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]


class VaultProcess:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.token = secrets.token_urlsafe(32)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        environment = {
            **{name: value for name, value in os.environ.items()
               if not name.startswith("CIPHERSLIP_")},
            "CIPHERSLIP_DATA_DIR": str(self.directory),
            "CIPHERSLIP_VAULT_TOKEN": self.token, "CIPHERSLIP_KMS_BACKEND": "local",
            "CIPHERSLIP_DEVELOPMENT_WARNINGS": "false", "CIPHERSLIP_LOG_FORMAT": "text",
        }
        with (self.directory / "vault.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "vault", "--port", str(self.port)],
                env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        _wait_until_up(f"{self.url}/healthz", self.process)

    def kill(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None


@contextmanager
def vault_process(directory: Path) -> Iterator[VaultProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    vault = VaultProcess(directory)
    vault.start()
    try:
        yield vault
    finally:
        vault.kill()
