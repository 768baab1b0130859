"""``cipherslip dev``: the whole product on embedded defaults, as separate processes.

Starts the development OIDC provider, the vault and the api+web server, each in its own
process (the vault's isolation is real even locally), prints how to sign in, and stops every
process it started on Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core.settings import Settings

DEFAULT_IDP_PORT = 9400
DEFAULT_VAULT_PORT = 8100
DEFAULT_SMTP_PORT = 1025


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process behind {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - fixed local URL
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f}s")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process for port {port} exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f}s")


def dev_environment(
    port: int, vault_port: int, idp_port: int, smtp_port: int, data_dir: Path
) -> dict[str, str]:
    """Environment shared by the dev processes; variables already set win, except the vault
    token, which is fresh each run so nothing but these processes can use the vault."""
    environment = dict(os.environ)
    environment.setdefault("CIPHERSLIP_DATA_DIR", str(data_dir))
    environment.setdefault("CIPHERSLIP_BASE_URL", f"http://127.0.0.1:{port}")
    environment.setdefault("CIPHERSLIP_VAULT_URL", f"http://127.0.0.1:{vault_port}")
    environment.setdefault(
        "CIPHERSLIP_OIDC_DISCOVERY_URL",
        f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration",
    )
    environment.setdefault("CIPHERSLIP_OIDC_PROVIDER_NAME", "the dev SSO")
    # The development IdP signs anyone in and sends no email_verified claim.
    environment.setdefault("CIPHERSLIP_OIDC_REQUIRE_VERIFIED_EMAIL", "false")
    environment.setdefault("CIPHERSLIP_SMTP_HOST", "127.0.0.1")
    environment.setdefault("CIPHERSLIP_SMTP_PORT", str(smtp_port))
    environment.setdefault("CIPHERSLIP_SMTP_SECURITY", "none")
    environment.setdefault("CIPHERSLIP_LOG_FORMAT", "text")
    environment["CIPHERSLIP_VAULT_TOKEN"] = secrets.token_urlsafe(32)
    # The dev IdP speaks plain HTTP on loopback.
    environment["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    return environment


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_dev_stack(
    port: int = 8000, vault_port: int = DEFAULT_VAULT_PORT, idp_port: int = DEFAULT_IDP_PORT,
    smtp_port: int = DEFAULT_SMTP_PORT,
) -> int:
    environment = dev_environment(port, vault_port, idp_port, smtp_port, Settings().data_dir)
    cipherslip = [sys.executable, "-m", "cli.main"]
    # Same environment as the servers, so it migrates exactly the database they will use.
    migrated = subprocess.run([*cipherslip, "migrate"], env=environment, check=False)  # noqa: S603
    if migrated.returncode != 0:
        return migrated.returncode
    processes: list[subprocess.Popen[bytes]] = []
    # `kill` or a process manager stops the stack like Ctrl-C does: children never outlive it.
    signal.signal(signal.SIGTERM, _interrupt)

    def start(command: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=environment)  # noqa: S603 - fixed argv
        processes.append(process)
        return process

    try:
        idp = start([*cipherslip, "dev-idp", "--port", str(idp_port)])
        _wait_until_up(f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration", idp)
        sink = start([*cipherslip, "mail-sink", "--port", str(smtp_port)])
        _wait_for_port(smtp_port, sink)
        vault = start([*cipherslip, "vault", "--port", str(vault_port)])
        _wait_until_up(f"http://127.0.0.1:{vault_port}/healthz", vault)
        api = start([*cipherslip, "api", "--port", str(port)])
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        start([*cipherslip, "scheduler"])
        if environment.get("CIPHERSLIP_SLACK_APP_TOKEN"):
            start([*cipherslip, "slack-socket"])  # your development Slack app, no tunnel
        banner = _banner(environment["CIPHERSLIP_BASE_URL"], vault_port, idp_port, smtp_port)
        print(banner, flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("a Cipherslip process stopped; stopping the others", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"cipherslip dev: {exc}", file=sys.stderr)
        return 1
    finally:
        _stop_all(processes)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(base_url: str, vault_port: int, idp_port: int, smtp_port: int) -> str:
    return f"""
  Cipherslip is running: {base_url}

  Sign in: click "Sign in", then type any email address (for example alice@example.com)
  in the development identity provider's "sub" box and press Authorize. Emails on
  example.com count as members of your organization. Use another browser profile or a
  private window to be a second person (bob@example.com) and reveal what alice shares.

  External recipients (any address) get a sign-in link by email: the development mail sink
  prints each message here and keeps it in ./.cipherslip/mail.

  Processes: api+web {base_url}, vault http://127.0.0.1:{vault_port}, dev OIDC provider
  http://127.0.0.1:{idp_port}, mail sink 127.0.0.1:{smtp_port}, and the scheduler that purges
  expired secrets. Data lives in ./.cipherslip. Press Ctrl-C to stop them all.
"""
