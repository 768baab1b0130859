"""Running the ``slip`` CLI as a separate process, the way a person or a CI job does: only
its own package on the path, a config directory of the test's own, and the server and token
(when given) in the environment."""

from __future__ import annotations

import os
from pathlib import Path

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"
SLIP = ["-m", "cipherslip_cli"]  # after sys.executable


def slip_environment(config_dir: Path, *, server: str | None = None,
                     token: str | None = None) -> dict[str, str]:
    """This process's environment without any CIPHERSLIP_* of the machine's own."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("CIPHERSLIP_")}
    environment |= {"CIPHERSLIP_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(CLIENT_DIR)}
    if server is not None:
        environment["CIPHERSLIP_SERVER"] = server
    if token is not None:
        environment["CIPHERSLIP_TOKEN"] = token
    return environment
