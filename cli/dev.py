"""``cipherslip dev``: the whole product on embedded defaults, as separate processes.

Starts the development OIDC provider, the mail sink, the vault, the api+web server and the
scheduler, each in its own process (the vault's isolation is real even locally); once every
one of them answers, prints how to sign in; stops every process it started on Ctrl-C. A port
that is already taken is named before anything starts.
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
DEV_SUPER_ADMIN = "admin@example.com"
DEVELOPMENT_SETUP = ("Development setup: local master-key file, local blob store, sessions and "
                     "rate limits in memory (production refuses them: docs/DEPLOYMENT.md).")


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
    environment.setdefault("CIPHERSLIP_SUPER_ADMIN_EMAILS", DEV_SUPER_ADMIN)
    # The banner sums the development-only backends up in one line instead.
    environment.setdefault("CIPHERSLIP_DEVELOPMENT_WARNINGS", "false")
    environment["CIPHERSLIP_VAULT_TOKEN"] = secrets.token_urlsafe(32)
    # The dev IdP speaks plain HTTP on loopback.
    environment["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    return environment


def taken_port(ports: dict[str, int]) -> str | None:
    """A one-line refusal naming the first port something else already listens on."""
    for option, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the servers bind: connections of a previous run closing (TIME_WAIT) are fine.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return (f"cipherslip dev: port {port} is already in use by another program; "
                        f"stop it, or choose another port with {option} {port + 1}")
    return None


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_dev_stack(
    port: int = 8000, vault_port: int = DEFAULT_VAULT_PORT, idp_port: int = DEFAULT_IDP_PORT,
    smtp_port: int = DEFAULT_SMTP_PORT,
) -> int:
    refusal = taken_port({"--port": port, "--vault-port": vault_port, "--idp-port": idp_port,
                          "--smtp-port": smtp_port})
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    settings = Settings()
    environment = dev_environment(port, vault_port, idp_port, smtp_port, settings.data_dir)
    data_dir = Path(environment["CIPHERSLIP_DATA_DIR"]).resolve()
    cipherslip = [sys.executable, "-m", "cli.main"]
    # Same environment as the servers, so it migrates exactly the database they will use.
    migrated = subprocess.run([*cipherslip, "migrate"], env=environment, check=False,  # noqa: S603
                              capture_output=True, text=True)
    if migrated.returncode != 0:
        print(f"cipherslip dev: the database migration failed:\n{migrated.stdout}"
              f"{migrated.stderr}", file=sys.stderr)
        return migrated.returncode
    ready_file = data_dir / "scheduler.ready"
    ready_file.unlink(missing_ok=True)
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
        scheduler = start([*cipherslip, "scheduler", "--ready-file", str(ready_file)])
        _wait_for_file(ready_file, scheduler)
        if environment.get("CIPHERSLIP_SLACK_APP_TOKEN"):
            start([*cipherslip, "slack-socket"])  # your development Slack app, no tunnel
        print(_banner(environment, data_dir, settings.internal_domains, vault_port=vault_port,
                      idp_port=idp_port, smtp_port=smtp_port), flush=True)
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


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the scheduler exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the scheduler did not start within {timeout:.0f}s")
        time.sleep(0.1)


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


def _banner(
    environment: dict[str, str], data_dir: Path, internal_domains: tuple[str, ...], *,
    vault_port: int, idp_port: int, smtp_port: int,
) -> str:
    base_url = environment["CIPHERSLIP_BASE_URL"]
    admins = environment.get("CIPHERSLIP_SUPER_ADMIN_EMAILS", "") or "nobody"
    domains = ", ".join(internal_domains)
    return f"""
  Cipherslip is running: {base_url}

  Sign in: press "Sign in", type any email address (alice@example.com) in the development
  identity provider's "sub" box and press Authorize. Addresses on {domains} are your
  organization; {admins} is a super admin (the Admin console). To be a second person
  (bob@example.com), use another browser profile or a private window.
  External recipients get their sign-in link by email: the mail sink prints it below and
  keeps it in {data_dir / "mail"}.

  Data: {data_dir} (database, encrypted blobs, master key).
  {DEVELOPMENT_SETUP}
  Processes: api+web {base_url}, vault :{vault_port}, identity provider :{idp_port},
  mail sink :{smtp_port}, scheduler. Press Ctrl-C to stop them all.
"""
