"""docker-compose.yml, the Dockerfile and .dockerignore, checked against the code.

No Docker engine is needed: the files are parsed (YAML merge keys resolved by
``yaml.safe_load``, ``${VAR:?…}`` placeholders replaced by a dummy token) and compared with
``cli.main.build_parser()`` (every command a container runs must parse) and
``core.settings.Settings`` (every ``CIPHERSLIP_*`` variable must be a field, and each
service's values must build a valid ``Settings``), plus the isolation rules of docs/ARCHITECTURE.md:
only the vault has KMS settings and KMS credentials, and the vault is never published.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ValidationError

from cli.main import build_parser
from core.blobstore.s3_cors import browser_cors_configuration
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"

PREFIX = "CIPHERSLIP_"
# Stands in for every ${VAR:?…} value (the vault token, the database password).
DUMMY_SECRET = "0123456789abcdef0123456789abcdef01234567"
assert len(DUMMY_SECRET) == 40

# The services that must exist, with the command each one runs.
EXPECTED_COMMANDS = {
    "migrate": ["migrate"],
    "api": ["api", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"],
    "vault": ["vault", "--host", "0.0.0.0", "--port", "8100", "--workers", "2"],
    "scheduler": ["scheduler"],
    "dev-idp": ["dev-idp", "--host", "0.0.0.0", "--port", "9400"],
}
APP_SERVICES = ("api", "scheduler")  # talk to the database and the blob store
KMS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
DEPENDENCY_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}|\$"
)


# --- loading -----------------------------------------------------------------------------


def interpolate(value: str) -> str:
    """Compose's interpolation, strictly: ``${VAR:?msg}`` becomes the dummy secret,
    ``${VAR:-default}`` its default, ``$$`` a dollar; a bare ``$VAR`` or a ``${VAR}`` that
    would silently become empty fails."""

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "$$":
            return "$"
        if text == "$":
            raise AssertionError(f"unescaped '$' in {value!r}: write '$$' for the shell")
        op = match.group("op")
        if op in {":?", "?"}:
            return DUMMY_SECRET
        if op in {":-", "-"}:
            return match.group("arg")
        raise AssertionError(f"{text} has neither a default (:-) nor a required marker (:?)")

    return _INTERPOLATION.sub(replace, value)


def _interpolated(node: Any) -> Any:
    if isinstance(node, str):
        return interpolate(node)
    if isinstance(node, dict):
        return {key: _interpolated(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolated(item) for item in node]
    return node


@cache
def raw_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@cache
def compose() -> dict[str, Any]:
    document = _interpolated(raw_compose())
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def _env_value(value: object) -> str:
    if isinstance(value, bool):  # Compose passes YAML booleans on as "true"/"false"
        return str(value).lower()
    return "" if value is None else str(value)


def environment(service: str, *, document: dict[str, Any] | None = None) -> dict[str, str]:
    source = (document or compose())["services"][service].get("environment") or {}
    if isinstance(source, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in source)
        return {name: value for name, value in pairs}
    assert isinstance(source, dict)
    return {name: _env_value(value) for name, value in source.items()}


def cipherslip_variables(service: str) -> dict[str, str]:
    return {name: value for name, value in environment(service).items()
            if name.startswith(PREFIX)}


def settings_of(service: str) -> Settings:
    """``Settings(**values)`` from the service's CIPHERSLIP_* variables (field = the name
    without the prefix, lower case); raises ``ValidationError`` on a bad value."""
    values: dict[str, Any] = {name.removeprefix(PREFIX).lower(): value
                              for name, value in cipherslip_variables(service).items()}
    return Settings(**values)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending = f"{pending} {stripped}" if pending else stripped
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, arguments = pending.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_stages() -> list[tuple[str, list[Instruction]]]:
    """(stage name, its instructions) in order; the last stage is the default target."""
    stages: list[tuple[str, list[Instruction]]] = []
    for instruction in dockerfile_instructions():
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else ""
            stages.append((name, []))
        elif stages:
            stages[-1][1].append(instruction)
    return stages


def dockerfile_entrypoint() -> list[str]:
    entrypoints = [i for i in dockerfile_stages()[-1][1] if i.keyword == "ENTRYPOINT"]
    assert entrypoints, "the runtime stage has no ENTRYPOINT"
    argv = json.loads(entrypoints[-1].arguments)
    assert isinstance(argv, list)
    return [str(word) for word in argv]


def cipherslip_image_services() -> list[str]:
    """Services that run the image the Dockerfile builds."""
    built_images = {service.get("image") for service in services().values()
                    if "build" in service}
    return sorted(name for name, service in services().items()
                  if "build" in service or service.get("image") in built_images)


def argv_of(service: str) -> list[str]:
    definition = services()[service]
    entrypoint = definition.get("entrypoint", dockerfile_entrypoint())
    command = definition.get("command", [])
    if isinstance(entrypoint, str):
        entrypoint = shlex.split(entrypoint)
    if isinstance(command, str):
        command = shlex.split(command)
    return [str(word) for word in [*entrypoint, *command]]


def subcommand_path(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """The chain of subcommands ``argv`` names (``["audit", "verify"]``), each one checked to
    exist in ``build_parser()``, however deeply the commands nest."""
    path: list[str] = []
    current = parser
    remaining = list(argv)
    while True:
        actions = [action for action in current._actions
                   if isinstance(action, argparse._SubParsersAction)]
        if not actions:
            return path
        choices: dict[str, argparse.ArgumentParser] = actions[0].choices
        assert remaining, f"'cipherslip {' '.join(path)}' needs a subcommand: {sorted(choices)}"
        word = remaining.pop(0)
        assert word in choices, (
            f"'cipherslip {' '.join([*path, word])}' is not a command; "
            f"choose from {sorted(choices)}"
        )
        path.append(word)
        current = choices[word]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings read CIPHERSLIP_* variables too: only the compose file's values may count."""
    for name in list(os.environ):
        if name.upper().startswith(PREFIX):
            monkeypatch.delenv(name)
    yield


# --- commands ------------------------------------------------------------------------------


def test_the_stack_has_every_part() -> None:
    expected = {*EXPECTED_COMMANDS, "postgres", "redis", "moto", "s3-kms-init", "mailpit"}
    assert expected <= set(services())
    assert set(EXPECTED_COMMANDS) <= set(cipherslip_image_services())


def test_the_image_entrypoint_is_cipherslip() -> None:
    assert dockerfile_entrypoint() == ["cipherslip"]


@pytest.mark.parametrize("service", sorted(EXPECTED_COMMANDS))
def test_each_process_runs_its_command(service: str) -> None:
    assert argv_of(service) == ["cipherslip", *EXPECTED_COMMANDS[service]]


def test_every_cipherslip_container_runs_a_real_subcommand() -> None:
    parser = build_parser()
    for service in cipherslip_image_services():
        argv = argv_of(service)
        assert argv[:1] == ["cipherslip"], f"{service} runs {argv}, not cipherslip"
        assert subcommand_path(parser, argv[1:]), f"{service} runs no subcommand"
        try:
            parser.parse_args(argv[1:])  # the options too: names, types, required values
        except SystemExit as exc:
            pytest.fail(f"{service}: `{shlex.join(argv)}` does not parse (exit {exc.code})")


def test_subcommand_check_follows_nested_commands() -> None:
    parser = build_parser()
    assert subcommand_path(parser, ["audit", "verify"]) == ["audit", "verify"]
    with pytest.raises(AssertionError, match="not a command"):
        subcommand_path(parser, ["audit", "verfy"])
    with pytest.raises(AssertionError, match="needs a subcommand"):
        subcommand_path(parser, ["audit"])
    with pytest.raises(AssertionError, match="not a command"):
        subcommand_path(parser, ["serve"])


# --- settings ------------------------------------------------------------------------------


def test_every_cipherslip_variable_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    unknown = {
        f"{service}: {name}"
        for service in services()
        for name in environment(service)
        if name.startswith(PREFIX) and name.removeprefix(PREFIX).lower() not in fields
    }
    assert not unknown, f"not fields of core.settings.Settings: {sorted(unknown)}"


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("service", sorted(EXPECTED_COMMANDS))
def test_each_service_builds_valid_settings(service: str) -> None:
    try:
        settings_of(service)
    except ValidationError as exc:
        pytest.fail(f"{service}: its CIPHERSLIP_* values are not valid settings:\n{exc}")


def test_settings_check_catches_bad_values(clean_environment: None) -> None:
    with pytest.raises(ValidationError):
        Settings(blob_backend="s4")


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_use_the_scale_out_backends(service: str) -> None:
    settings = settings_of(service)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.blob_backend == "s3"
    assert settings.s3_endpoint_url
    assert settings.base_url == "http://localhost:8000"
    assert settings.log_format == "json"
    if service == "api":
        assert settings.vault_url == "http://vault:8100"
        variables = cipherslip_variables(service)
        assert variables["CIPHERSLIP_CACHE_BACKEND"] == "redis"
        assert variables["CIPHERSLIP_REDIS_URL"].startswith("redis://redis:")


def test_the_scheduler_holds_no_key_credential_and_no_cache() -> None:
    """It destroys content and never needs a key: no vault token or URL, no Redis, and no
    route to the vault."""
    variables = cipherslip_variables("scheduler")
    for name in ("CIPHERSLIP_VAULT_TOKEN", "CIPHERSLIP_VAULT_URL", "CIPHERSLIP_REDIS_URL",
                 "CIPHERSLIP_KMS_KEY_ID"):
        assert name not in variables, name
    assert "keys" not in (services()["scheduler"].get("networks") or [])
    assert set(services()["scheduler"]["depends_on"]) == {"migrate", "s3-kms-init"}


def test_migrate_uses_the_same_database_as_the_app() -> None:
    url = cipherslip_variables("migrate")["CIPHERSLIP_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://")
    for service in APP_SERVICES:
        assert cipherslip_variables(service)["CIPHERSLIP_DATABASE_URL"] == url


def test_the_vault_token_comes_from_outside_the_file() -> None:
    raw = raw_compose()
    holders = [service for service in raw["services"]
               if "CIPHERSLIP_VAULT_TOKEN" in environment(service, document=raw)]
    assert sorted(holders) == ["api", "vault"]
    for service in holders:
        value = environment(service, document=raw)["CIPHERSLIP_VAULT_TOKEN"]
        assert re.fullmatch(r"\$\{CIPHERSLIP_VAULT_TOKEN:\?[^}]+\}", value), (
            f"{service}: the vault token must be ${{CIPHERSLIP_VAULT_TOKEN:?…}}, not {value!r}"
        )


def test_the_development_stack_says_so() -> None:
    # The dev IdP and mail sink are development backends; production would refuse them.
    for service in cipherslip_image_services():
        env = cipherslip_variables(service).get("CIPHERSLIP_ENV", "development")
        assert env == "development", service


# --- isolation -----------------------------------------------------------------------------


def test_only_the_vault_has_kms_settings() -> None:
    vault = cipherslip_variables("vault")
    assert vault["CIPHERSLIP_KMS_BACKEND"] == "aws"
    assert vault["CIPHERSLIP_KMS_KEY_ID"]
    assert vault["CIPHERSLIP_KMS_ENDPOINT_URL"]
    assert vault["CIPHERSLIP_KMS_REGION"]
    others = {f"{service}: {name}" for service in services() if service != "vault"
              for name in environment(service) if name.startswith(f"{PREFIX}KMS_")}
    assert not others, f"KMS settings outside the vault: {sorted(others)}"


def test_only_the_vault_has_kms_credentials() -> None:
    vault = environment("vault")
    for name in KMS_CREDENTIAL_VARIABLES:
        assert vault.get(name), f"the vault needs its own {name}"
        sharing = [service for service in services() if service != "vault"
                   and environment(service).get(name) == vault[name]]
        assert not sharing, f"{sharing} hold the vault's {name}"
    for service in APP_SERVICES:
        env = environment(service)
        assert env.get("AWS_ACCESS_KEY_ID"), f"{service} needs S3 credentials"
        assert env["AWS_ACCESS_KEY_ID"] != vault["AWS_ACCESS_KEY_ID"]


def test_the_vault_holds_nothing_but_keys() -> None:
    vault = cipherslip_variables("vault")
    storage = [name for name in vault if name.removeprefix(PREFIX).startswith(
        ("DATABASE_", "BLOB_", "S3_", "REDIS_", "CACHE_", "SMTP_", "OIDC_"))]
    assert not storage, f"the vault needs none of {storage}"


def test_the_vault_is_not_published() -> None:
    vault = services()["vault"]
    assert not vault.get("ports"), "the vault must be reachable from inside the stack only"
    assert vault.get("network_mode") != "host"


def test_the_vault_shares_no_network_with_the_data_stores() -> None:
    def networks(service: str) -> set[str]:
        found = services()[service].get("networks") or ["default"]
        return set(found)

    for store in ("postgres", "redis"):
        assert not networks("vault") & networks(store), f"the vault can reach {store}"
    assert networks("vault") & networks("api"), "the api cannot reach the vault"


def test_the_kms_key_the_vault_uses_is_the_one_provisioned() -> None:
    init = environment("s3-kms-init")
    assert init["KMS_KEY_ALIAS"] == cipherslip_variables("vault")["CIPHERSLIP_KMS_KEY_ID"]
    for service in APP_SERVICES:
        assert init["BUCKET"] == cipherslip_variables(service)["CIPHERSLIP_S3_BUCKET"]
    assert services()["s3-kms-init"].get("restart", "no") == "no"


def test_browsers_can_reach_the_bucket_that_allows_them() -> None:
    """File parts go from the browser straight to S3: the endpoint must resolve both inside
    the stack and on the host, and the bucket's CORS rule must name the web origin."""
    app = cipherslip_variables("api")
    endpoint = urlsplit(app["CIPHERSLIP_S3_ENDPOINT_URL"])
    assert endpoint.hostname is not None and endpoint.hostname.endswith(".localhost")
    assert endpoint.hostname in services()["moto"]["networks"]["backend"]["aliases"]
    assert endpoint.port in _published_container_ports("moto")
    script = " ".join(services()["s3-kms-init"]["command"])
    rule = re.search(r"put-bucket-cors .*?--cors-configuration '(.+?)'", script, re.DOTALL)
    assert rule is not None, "the init job sets no CORS rule"
    assert json.loads(rule.group(1)) == browser_cors_configuration(app["CIPHERSLIP_BASE_URL"])


# --- scale-out and start-up order ------------------------------------------------------------


def test_scheduler_runs_two_replicas() -> None:
    assert services()["scheduler"]["deploy"]["replicas"] == 2


def _depends_on(service: str) -> dict[str, str]:
    found = services()[service].get("depends_on") or {}
    if isinstance(found, list):
        return dict.fromkeys(found, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in found.items()}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_start_after_migrations_succeeded(service: str) -> None:
    assert _depends_on(service).get("migrate") == "service_completed_successfully"


def test_migrate_is_one_shot() -> None:
    assert services()["migrate"].get("restart", "no") == "no"
    assert _depends_on("migrate") == {"postgres": "service_healthy"}


def test_dependencies_exist_and_their_conditions_can_be_met() -> None:
    for service in services():
        for dependency, condition in _depends_on(service).items():
            assert dependency in services(), f"{service} depends on unknown {dependency}"
            assert condition in DEPENDENCY_CONDITIONS, f"{service}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services()[dependency], (
                    f"{service} waits for {dependency} to be healthy; it has no healthcheck"
                )


def _published_container_ports(service: str) -> set[int]:
    ports: set[int] = set()
    for entry in services()[service].get("ports") or []:
        target = entry["target"] if isinstance(entry, dict) else str(entry).split(":")[-1]
        ports.add(int(str(target).split("/")[0]))
    return ports


def test_api_is_published_and_checked_on_healthz() -> None:
    assert _published_container_ports("api") == {8000}
    probe = " ".join(services()["api"]["healthcheck"]["test"])
    assert "/healthz" in probe
    assert ":8000/" in probe


def test_postgres_is_16_with_a_healthcheck() -> None:
    postgres = services()["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert services()["redis"]["image"].startswith("redis:7")


# --- the image -----------------------------------------------------------------------------


def test_the_image_runs_as_an_unprivileged_user() -> None:
    name, runtime = dockerfile_stages()[-1]
    users = [instruction.arguments for instruction in runtime if instruction.keyword == "USER"]
    assert users, f"the runtime stage {name!r} never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_the_image_is_python_311_slim() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    bases = [i.arguments for i in dockerfile_instructions() if i.keyword == "FROM"]
    assert bases[-1].startswith("${PYTHON_IMAGE} ")


SECRET_SOURCE = re.compile(
    r"(^|/)(\.env(\..*)?|\.cipherslip|\.aws|\.ssh|[^/]*\.(key|pem|p12|pfx)|id_[a-z0-9]+)$"
)
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|ACCESS_KEY")


def test_the_image_copies_no_secrets() -> None:
    for instruction in dockerfile_instructions():
        if instruction.keyword in {"COPY", "ADD"}:
            words = shlex.split(instruction.arguments)
            if any(word.startswith("--from=") for word in words):
                continue  # from another build stage, not from the build context
            *sources, _destination = [word for word in words if not word.startswith("--")]
            for source in sources:
                assert source not in {".", "./", "*"}, (
                    f"`{instruction.keyword} {instruction.arguments}` copies the whole context"
                )
                assert not SECRET_SOURCE.search(source.rstrip("/")), source
        if instruction.keyword in {"ENV", "ARG"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments) or [
                instruction.arguments.split()[0]]
            for name in names:
                assert not SECRET_NAME.search(name.upper()), f"{instruction.keyword} {name}"


def test_the_build_context_leaves_secrets_out() -> None:
    rules = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert "*" in rules  # an allowlist: only what the Dockerfile copies
    for secret in ("**/.env", "**/.cipherslip/"):
        assert secret in rules
    assert not any(rule.startswith("!") and ".env" in rule for rule in rules)


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """An allowlist forgets a new directory silently; the build then fails at its COPY."""
    allowed = {line.strip()[1:].rstrip("/") for line in DOCKERIGNORE.read_text(
        encoding="utf-8").splitlines() if line.strip().startswith("!")}
    for instruction in dockerfile_instructions():
        if instruction.keyword != "COPY":
            continue
        words = shlex.split(instruction.arguments)
        if any(word.startswith("--from=") for word in words):
            continue
        *sources, _destination = [word for word in words if not word.startswith("--")]
        for source in sources:
            top = source.removeprefix("./").split("/")[0]
            assert top in allowed, f"`COPY {instruction.arguments}`: .dockerignore leaves {top} out"
            assert (ROOT / source).exists(), source


def test_the_image_installs_runtime_dependencies_only() -> None:
    runs = " ".join(i.arguments for i in dockerfile_instructions() if i.keyword == "RUN")
    assert "[dev]" not in runs
    assert re.search(r"pip install \.(\s|$)", runs)


def test_the_browser_bundles_are_built_in_a_node_stage() -> None:
    stages = dict(dockerfile_stages())
    node_stages = [name for name, instructions in stages.items()
                   if any("npm ci" in i.arguments for i in instructions if i.keyword == "RUN")]
    assert len(node_stages) == 1
    node = stages[node_stages[0]]
    assert any("node build.mjs" in i.arguments for i in node if i.keyword == "RUN")
    copies = [i.arguments for i in dockerfile_instructions() if i.keyword == "COPY"]
    assert any(f"--from={node_stages[0]}" in c and "web/static/dist" in c for c in copies)


def test_dev_tools_match_the_dev_extra_and_the_compose_build() -> None:
    stages = dict(dockerfile_stages())
    dev_runs = [i.arguments for i in stages["python-deps-yes"] if i.keyword == "RUN"]
    specs = {spec for run in dev_runs for spec in shlex.split(run)
             if re.match(r"[a-z0-9-]+(\[[a-z,]+\])?[<>=]", spec)}
    assert specs == {"oidc-provider-mock>=0.3", "aiosmtpd>=1.4"}
    dev_extra = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]["dev"]
    assert specs <= set(dev_extra), "keep the Dockerfile's dev tools in step with pyproject"
    # Production builds leave them out; the compose stack (which runs dev-idp) asks for them.
    assert re.search(r"^ARG DEV_TOOLS=no$", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    for service in cipherslip_image_services():
        build = services()[service].get("build")
        if isinstance(build, dict):
            variant = build.get("args", {}).get("DEV_TOOLS", "no")
            assert f"python-deps-{variant}" in stages, f"{service}: DEV_TOOLS={variant}"


# --- the interpolation helper itself ----------------------------------------------------------


def test_interpolation_is_strict() -> None:
    assert interpolate("${TOKEN:?set it}") == DUMMY_SECRET
    assert interpolate("a${X:-b}c") == "abc"
    assert interpolate("$$HOME") == "$HOME"
    with pytest.raises(AssertionError, match="neither a default"):
        interpolate("${TOKEN}")
    with pytest.raises(AssertionError, match="unescaped"):
        interpolate("$HOME")


def test_redis_keeps_its_state_across_restarts() -> None:
    redis_service = services()["redis"]
    command = redis_service["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    [volume] = redis_service["volumes"]
    name, _, mount = volume.partition(":")
    assert mount == "/data" and name in compose()["volumes"]
