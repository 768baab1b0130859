"""The CLI installs on its own: a fresh venv, ``pip install ./client``, and no server code
or server dependency comes with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[2] / "client"
SERVER_ONLY = {"fastapi", "sqlalchemy", "uvicorn", "slack-bolt", "boto3", "redis", "alembic"}


@pytest.mark.timeout(300)
def test_the_cli_installs_alone_and_runs(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    installed = subprocess.run([*pip, "install", "--quiet", "--disable-pip-version-check",
                                str(CLIENT_DIR)], capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    packages = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True,
                              text=True, check=True).stdout.lower()
    names = {line.split("==")[0] for line in packages.splitlines()}
    assert "cipherslip-cli" in names
    assert not names & SERVER_ONLY, names & SERVER_ONLY
    helped = subprocess.run([str(venv / "bin" / "slip"), "--help"], capture_output=True,
                            text=True, check=False, cwd=tmp_path)
    assert helped.returncode == 0 and "slip login --server" in helped.stdout
    # And it is the installed copy that ran, not the repository's.
    located = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import cipherslip_cli; print(cipherslip_cli.__file__)"],
                             capture_output=True, text=True, check=True, cwd=tmp_path)
    assert str(venv) in located.stdout
