"""``cipherslip dev``: the whole product on embedded defaults, as separate processes.

Starts the development OIDC provider, the vault and the api+web server, each in its own
process (the vault's isolation is real even locally), prints how to sign in, and stops every
process it started on Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core.db.migrate import upgrade_to_head
from core.settings import Settings

OIDC_PORT = 9400
VAULT_PORT = 8100


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - fixed local URL
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f}s")


def dev_environment(port: int, data_dir: Path) -> dict[str, str]:
    """Environment shared by the dev processes. The vault token is fresh each run."""
    environment = dict(os.environ)
    environment.setdefault("CIPHERSLIP_DATA_DIR", str(data_dir))
    environment.setdefault("CIPHERSLIP_BASE_URL", f"http://127.0.0.1:{port}")
    environment.setdefault("CIPHERSLIP_VAULT_URL", f"http://127.0.0.1:{VAULT_PORT}")
    environment.setdefault(
        "CIPHERSLIP_OIDC_DISCOVERY_URL",
        f"http://127.0.0.1:{OIDC_PORT}/.well-known/openid-configuration",
    )
    environment.setdefault("CIPHERSLIP_OIDC_PROVIDER_NAME", "the dev SSO")
    environment.setdefault("CIPHERSLIP_LOG_FORMAT", "text")
    environment["CIPHERSLIP_VAULT_TOKEN"] = secrets.token_urlsafe(32)
    # The dev IdP speaks plain HTTP on loopback.
    environment["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    return environment


def run_dev_stack(port: int = 8000) -> int:
    settings = Settings()
    environment = dev_environment(port, settings.data_dir)
    upgrade_to_head(Settings(_env_file=None, **_settings_overrides(environment)).effective_database_url)
    cipherslip = [sys.executable, "-m", "cli.main"]
    processes: list[subprocess.Popen[bytes]] = []

    def start(command: list[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=environment)  # noqa: S603 - fixed argv
        processes.append(process)
        return process

    try:
        idp = start([sys.executable, "-m", "oidc_provider_mock", "--port", str(OIDC_PORT)])
        _wait_until_up(f"http://127.0.0.1:{OIDC_PORT}/.well-known/openid-configuration", idp)
        vault = start([*cipherslip, "vault", "--port", str(VAULT_PORT)])
        _wait_until_up(f"http://127.0.0.1:{VAULT_PORT}/healthz", vault)
        api = start([*cipherslip, "api", "--port", str(port)])
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        print(_banner(environment["CIPHERSLIP_BASE_URL"]), flush=True)  # noqa: T201
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("a Cipherslip process stopped; shutting down the others", flush=True)  # noqa: T201
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"cipherslip dev: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        _stop_all(processes)


def _settings_overrides(environment: dict[str, str]) -> dict[str, str]:
    prefix = "CIPHERSLIP_"
    return {key[len(prefix):].lower(): value for key, value in environment.items()
            if key.startswith(prefix) and key != "CIPHERSLIP_ENV"}


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


def _banner(base_url: str) -> str:
    return f"""
  Cipherslip is running: {base_url}

  Sign in: click "Sign in", then type any email address (for example alice@example.com)
  in the development identity provider's "sub" box and press Authorize. Emails on
  example.com count as members of your organization. Use another browser profile or a
  private window to be a second person (bob@example.com) and reveal what alice shares.

  Processes: api+web {base_url}, vault http://127.0.0.1:{VAULT_PORT}, dev OIDC provider
  http://127.0.0.1:{OIDC_PORT}. Data lives in ./.cipherslip. Press Ctrl-C to stop them all.
"""
