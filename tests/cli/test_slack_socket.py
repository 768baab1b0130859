"""`cipherslip slack-socket` says what is missing instead of half-starting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(("environment", "complaint"), [
    ({}, "xapp-"),
    ({"CIPHERSLIP_SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "app-level token"),
    ({"CIPHERSLIP_SLACK_APP_TOKEN": "xapp-1-abc"}, "CIPHERSLIP_SLACK_BOT_TOKEN"),
])
def test_socket_mode_names_what_is_missing(
    tmp_path: Path, environment: dict[str, str], complaint: str
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CIPHERSLIP_")}
    env.update({"CIPHERSLIP_DATA_DIR": str(tmp_path), **environment})
    result = subprocess.run([sys.executable, "-m", "cli.main", "slack-socket"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert complaint in result.stderr
