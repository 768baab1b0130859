"""Where the CLI keeps its server and token: ``$CIPHERSLIP_CONFIG_DIR`` or the user's
configuration directory, in a file only its owner may read (0600). ``CIPHERSLIP_TOKEN`` and
``CIPHERSLIP_SERVER`` override it (CI jobs)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str
    token_id: str | None = None


def config_dir() -> Path:
    explicit = os.environ.get("CIPHERSLIP_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cipherslip"


def config_file() -> Path:
    return config_dir() / "credentials.json"


def save(credentials: Credentials) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created 0600 from the start: never readable by others, not even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"server": credentials.server, "token": credentials.token,
                   "token_id": credentials.token_id}, handle)
    path.chmod(0o600)
    return path


def load() -> Credentials | None:
    token, server = os.environ.get("CIPHERSLIP_TOKEN"), os.environ.get("CIPHERSLIP_SERVER")
    stored: dict[str, str | None] = {}
    path = config_file()
    if path.exists():
        stored = json.loads(path.read_text())
    token = token or stored.get("token")
    server = server or stored.get("server")
    if not token or not server:
        return None
    return Credentials(server=server.rstrip("/"), token=token,
                       token_id=stored.get("token_id") if token == stored.get("token") else None)


def forget() -> bool:
    path = config_file()
    if path.exists():
        path.unlink()
        return True
    return False
