"""The production guard refuses development backends and weak secrets, all in one message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.production import (
    Component,
    ProductionGuardError,
    enforce_production,
    production_problems,
)
from core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
STRONG = "s" * 40

PRODUCTION: dict[str, object] = {
    "env": "production",
    "base_url": "https://secrets.example.com",
    "database_url": "postgresql+psycopg://cipherslip@db.internal/cipherslip",
    "blob_backend": "s3",
    "cache_backend": "redis",
    "redis_url": "rediss://cache.internal:6380/0",
    "kms_backend": "aws",
    "kms_key_id": "alias/cipherslip",
    "vault_url": "https://vault.internal:8100",
    "vault_token": STRONG,
    "oidc_discovery_url": "https://example.okta.com/.well-known/openid-configuration",
    "oidc_client_secret": "a-real-client-secret-from-the-idp",
    "smtp_host": "smtp.example.com",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "mail_from": "Cipherslip <noreply@example.com>",
    "slack_signing_secret": STRONG,
    "slack_bot_token": "xoxb-a-real-bot-token",
}


def test_a_real_production_configuration_passes() -> None:
    settings = Settings.model_validate(PRODUCTION)
    components: tuple[Component, ...] = ("api", "vault", "scheduler")
    for component in components:
        assert production_problems(settings, component) == []


def test_development_defaults_are_refused_with_every_problem_listed() -> None:
    with pytest.raises(ProductionGuardError) as refused:
        enforce_production(Settings(env="production"), "api")
    message = refused.value.message
    for named in ["SQLite", "BLOB_BACKEND is local", "CACHE_BACKEND is memory",
                  "development identity provider", "OIDC_CLIENT_SECRET",
                  "BASE_URL is not HTTPS", "development mail sink", "MAIL_FROM",
                  "VAULT_TOKEN is missing"]:
        assert named in message, named
    assert len(refused.value.problems) == 9
    assert message.startswith("cipherslip api refuses to start")


@pytest.mark.parametrize(
    ("component", "change", "words"),
    [
        ("vault", {"kms_backend": "local"}, "KMS_BACKEND is local"),
        ("vault", {"vault_token": "short"}, "VAULT_TOKEN is missing or shorter"),
        ("scheduler", {"database_url": "sqlite:///x.db"}, "SQLite"),
        ("scheduler", {"blob_backend": "local"}, "BLOB_BACKEND is local"),
        ("api", {"oidc_discovery_url": "http://idp.example.com/.well-known/x"}, "not HTTPS"),
        ("api", {"oidc_discovery_url": "http://127.0.0.1:9400/x"}, "development identity"),
        ("api", {"vault_url": "http://vault.internal:8100"}, "travel in clear"),
        ("api", {"smtp_host": "localhost", "smtp_port": 1025}, "development mail sink"),
        ("api", {"oidc_client_secret": "cipherslip-dev-secret"}, "CLIENT_SECRET"),
        ("api", {"slack_signing_secret": ""}, "SLACK_SIGNING_SECRET is empty"),
        ("scheduler", {"slack_client_id": "1.2", "slack_signing_secret": STRONG},
         "SLACK_CLIENT_SECRET is empty"),
        ("api", {"slack_bot_token": "xoxb-1", "slack_signing_secret": STRONG,
                 "slack_api_url": "http://slack.internal/api/"}, "SLACK_API_URL is not HTTPS"),
        ("api", {"slack_app_token": "xapp-1"}, "Socket Mode is for development"),
    ],
)
def test_each_development_choice_is_named(component: Component, change: dict[str, object],
                                          words: str) -> None:
    problems = production_problems(Settings.model_validate({**PRODUCTION, **change}), component)
    assert len(problems) == 1 and words in problems[0]


def test_development_environment_is_not_guarded() -> None:
    assert production_problems(Settings(), "api") == []


@pytest.mark.parametrize("command", ["api", "vault", "scheduler"])
def test_processes_refuse_to_start(command: str, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIPHERSLIP_")}
    environment |= {"CIPHERSLIP_ENV": "production", "CIPHERSLIP_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cli.main", command], cwd=REPO,
                            env=environment, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2, result.stderr
    assert "refuses to start with CIPHERSLIP_ENV=production" in result.stderr
    assert result.stderr.count("  - ") >= 2


def test_check_command_reports_every_process(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIPHERSLIP_")}
    environment |= {"CIPHERSLIP_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "cli.main", "check"], cwd=REPO,
                            env=environment, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 1
    for component in ("api:", "vault:", "scheduler:"):
        assert component in result.stdout
    ready = {**environment, **{f"CIPHERSLIP_{k.upper()}": str(v) for k, v in PRODUCTION.items()}}
    result = subprocess.run([sys.executable, "-m", "cli.main", "check"], cwd=REPO, env=ready,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("ready for production") == 3
