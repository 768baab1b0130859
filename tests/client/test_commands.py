"""``slip``'s commands as a script or CI job runs them: a process, a token from the
environment, the real api over HTTP; what it prints and the exit codes it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.slip import SLIP, slip_environment
from tests.support.stack import Stack

pytestmark = pytest.mark.one_database


def slip(stack: Stack, token: str, *arguments: str,
         config_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *SLIP, *arguments],
                          env=slip_environment(config_dir, server=stack.base_url, token=token),
                          capture_output=True, text=True, timeout=60, check=False)


def test_list_and_revoke_with_a_token_from_the_environment(stack: Stack,
                                                           tmp_path: Path) -> None:
    alice = stack.user("alice@example.com")
    token = alice.api("POST", "/api/v1/tokens", json={
        "name": "ci", "scopes": ["secrets:read", "secrets:write"]}).json()["token"]
    link = alice.create_text("x", ["bob@example.com"], label="Staging DB")

    listed = slip(stack, token, "list", config_dir=tmp_path)
    assert listed.returncode == 0 and link.share_code in listed.stdout
    assert "Staging DB" in listed.stdout
    # Forgiving about how the code is typed, as the web is.
    done = slip(stack, token, "revoke", link.share_code.lower().replace("-", " "),
                config_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert alice.api("GET", f"/api/v1/secrets/{link.secret_id}").json()["status"] == "revoked"
    again = slip(stack, token, "revoke", link.share_code, config_dir=tmp_path)
    assert again.returncode == 1 and "already revoked" in again.stderr
    missing = slip(stack, token, "revoke", "ZZZZ-ZZZZ-ZZZZ", config_dir=tmp_path)
    assert missing.returncode == 1 and "none of your secrets" in missing.stderr


def test_exit_codes_for_a_bad_token_a_missing_scope_and_no_server(stack: Stack,
                                                                  tmp_path: Path) -> None:
    alice = stack.user("alice@example.com")
    reveal_only = alice.api("POST", "/api/v1/tokens", json={
        "name": "r", "scopes": ["secrets:reveal"]}).json()["token"]
    bad = slip(stack, "cipherslip_pat_" + "A" * 49, "whoami", config_dir=tmp_path)
    assert bad.returncode == 3 and "not valid" in bad.stderr
    scoped = slip(stack, reveal_only, "list", config_dir=tmp_path)
    assert scoped.returncode == 1 and "secrets:read" in scoped.stderr
    assert slip(stack, reveal_only, "whoami", config_dir=tmp_path).stdout.strip() == (
        "alice@example.com")
    offline = subprocess.run(
        [sys.executable, *SLIP, "whoami"], capture_output=True, text=True,
        env=slip_environment(tmp_path, server="http://127.0.0.1:9", token=reveal_only),
        timeout=60, check=False)
    assert offline.returncode == 4 and "cannot reach" in offline.stderr
    assert slip(stack, reveal_only, "frobnicate", config_dir=tmp_path).returncode == 2


@pytest.fixture
def stack_options() -> dict[str, object]:
    return {"super_admin_emails": ("admin@example.com",)}


def test_audit_for_a_super_admin_token_pages_and_jsonl(stack: Stack, tmp_path: Path) -> None:
    admin, alice = stack.user("admin@example.com"), stack.user("alice@example.com")
    link = alice.create_text("x", ["bob@example.com"])
    auditor = admin.api("POST", "/api/v1/tokens", json={
        "name": "siem", "scopes": ["audit:read"]}).json()["token"]
    newest = slip(stack, auditor, "audit", config_dir=tmp_path)
    assert newest.returncode == 0, newest.stderr
    assert "paper_secret_created" in newest.stdout and link.share_code in newest.stdout
    exported = slip(stack, auditor, "audit", "--jsonl", "--filter",
                    'activity_name = "paper_secret_created"', config_dir=tmp_path)
    assert exported.returncode == 0, exported.stderr
    events = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [event["activity_name"] for event in events] == ["paper_secret_created"]
    bad_filter = slip(stack, auditor, "audit", "--filter", "activity_name ~ 1",
                      config_dir=tmp_path)
    assert bad_filter.returncode == 1 and "operator" in bad_filter.stderr
    writer = alice.api("POST", "/api/v1/tokens", json={
        "name": "w", "scopes": ["secrets:write"]}).json()["token"]
    assert slip(stack, writer, "audit", config_dir=tmp_path).returncode == 1


def test_login_with_a_token_from_stdin_checks_it_and_stores_it_privately(
        stack: Stack, tmp_path: Path) -> None:
    alice = stack.user("alice@example.com")
    token = alice.api("POST", "/api/v1/tokens", json={
        "name": "laptop", "scopes": ["secrets:read"]}).json()["token"]
    environment = slip_environment(tmp_path)

    def login(given: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *SLIP, "login", "--server",
                               stack.base_url, "--token-stdin"], input=given + "\n",
                              env=environment, capture_output=True, text=True, timeout=60,
                              check=False)

    refused = login("cipherslip_pat_" + "B" * 49)
    assert refused.returncode == 3 and not (tmp_path / "credentials.json").exists()
    stored = login(token)
    assert stored.returncode == 0 and "alice@example.com" in stored.stdout
    credentials = tmp_path / "credentials.json"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert json.loads(credentials.read_text())["token"] == token
    listed = subprocess.run([sys.executable, *SLIP, "list"], env=environment,
                            capture_output=True, text=True, timeout=60, check=False)
    assert listed.returncode == 0, listed.stderr
    logout = subprocess.run([sys.executable, *SLIP, "logout"],
                            env=environment, capture_output=True, text=True, timeout=60,
                            check=False)
    assert logout.returncode == 0, logout.stderr
    assert not credentials.exists()
    [revoked] = alice.api("GET", "/api/v1/tokens").json()
    assert revoked["name"] == "laptop" and revoked["state"] == "revoked"
