"""The audit chain under real concurrency: two ``cipherslip api`` processes on one PostgreSQL
database create and reveal secrets at the same time while ``cipherslip scheduler`` links the
chain. Afterwards every event is linked exactly once, in the order its requests happened,
``cipherslip audit verify`` passes, and editing one event fails it at that very event."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import pytest
import redis
from sqlalchemy import create_engine, select, update

from bench.processes import process
from cli.dev import _wait_until_up
from core.db.models import AuditEvent
from tests.support.async_client import (
    Person,
    Shared,
    create_text,
    reveal_refused,
    reveal_text,
    run_async,
    signed_in,
)
from tests.support.databases import postgres_database
from tests.support.requirements import require_redis
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
SECRETS_PER_WORKER, WORKERS = 8, 6
REDIS_DB = 14


def cipherslip(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *arguments]


@pytest.fixture
def two_apis(tmp_path: Path, idp: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Base URLs of two api processes sharing PostgreSQL and Redis, a vault and a scheduler."""
    redis_url = require_redis().rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    vault_port, ports = free_port(), [free_port(), free_port()]
    with postgres_database() as database_url, ExitStack() as stack:
        environment = {
            **{name: value for name, value in os.environ.items()
               if not name.startswith("CIPHERSLIP_")},
            "CIPHERSLIP_DATA_DIR": str(tmp_path / "data"),
            "CIPHERSLIP_BLOB_DIR": str(tmp_path / "blobs"),
            "CIPHERSLIP_DATABASE_URL": database_url,
            "CIPHERSLIP_CACHE_BACKEND": "redis", "CIPHERSLIP_REDIS_URL": redis_url,
            "CIPHERSLIP_VAULT_URL": f"http://127.0.0.1:{vault_port}",
            "CIPHERSLIP_VAULT_TOKEN": secrets.token_urlsafe(32),
            "CIPHERSLIP_KMS_BACKEND": "local",
            "CIPHERSLIP_OIDC_DISCOVERY_URL": idp,
            "CIPHERSLIP_INTERNAL_DOMAINS": "example.com",
            "CIPHERSLIP_REVEAL_RATE_PER_USER": "10000", "CIPHERSLIP_REVEAL_RATE_PER_IP": "10000",
            "CIPHERSLIP_CREATE_RATE_PER_USER": "10000",
            "CIPHERSLIP_LOG_FORMAT": "text",
        }
        vault = stack.enter_context(process(cipherslip("vault", "--port", str(vault_port)),
                                            environment, tmp_path / "vault.log"))
        _wait_until_up(f"http://127.0.0.1:{vault_port}/healthz", vault)
        for number, port in enumerate(ports):
            api = stack.enter_context(process(
                cipherslip("api", "--port", str(port)),
                {**environment, "CIPHERSLIP_BASE_URL": f"http://127.0.0.1:{port}"},
                tmp_path / f"api{number}.log"))
            _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        stack.enter_context(process(cipherslip("scheduler"), environment,
                                    tmp_path / "scheduler.log"))
        yield [f"http://127.0.0.1:{port}" for port in ports], environment


async def exchange(apis: list[str], creators: list[Person], colleagues: list[Person]) -> list[
        Shared]:
    """Each worker creates on one api and reveals (twice: the second is refused) on the other,
    all workers at once."""
    shared: list[Shared] = []

    async def worker(number: int, session: aiohttp.ClientSession) -> None:
        here, there = apis[number % 2], apis[(number + 1) % 2]
        creator, colleague = creators[number % 2], colleagues[number % 2]
        for index in range(SECRETS_PER_WORKER):
            made = await create_text(session, here, creator, colleague.email,
                                     f"secret {number}-{index}")
            assert await reveal_text(session, there, colleague, made) == (
                f"secret {number}-{index}")
            assert await reveal_refused(session, here, colleague, made) == 410
            shared.append(made)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        await asyncio.gather(*(worker(number, session) for number in range(WORKERS)))
    return shared


def test_two_api_processes_never_fork_skip_or_reorder_the_chain(
    two_apis: tuple[list[str], dict[str, str]],
) -> None:
    apis, environment = two_apis
    creators = [signed_in(apis[number], f"creator{number}@example.com") for number in (0, 1)]
    colleagues = [signed_in(apis[number], f"colleague{number}@example.com")
                  for number in (1, 0)]
    shared = run_async(exchange(apis, creators, colleagues))
    expected = 3 * len(shared)  # created, opened, refused as burned

    verify = cipherslip("audit", "verify", "--tenant", "default")
    deadline = time.monotonic() + 30
    while True:  # the scheduler's sequencer links within a second or two
        verified = subprocess.run(verify, env=environment, cwd=REPO, capture_output=True,
                                  text=True, check=False)
        if "none waiting" in verified.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert verified.returncode == 0, verified.stderr
    assert f"{expected} events linked, chain intact" in verified.stdout
    assert "none waiting to be linked" in verified.stdout

    engine = create_engine(environment["CIPHERSLIP_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            chain = connection.execute(
                select(AuditEvent.id, AuditEvent.chain_seq, AuditEvent.secret_id,
                       AuditEvent.activity_name)
                .where(AuditEvent.tenant_id == "default").order_by(AuditEvent.chain_seq)
            ).all()
        # Linked exactly once: positions 1..N, no gap, no repeat.
        assert [row.chain_seq for row in chain] == list(range(1, expected + 1))
        # In commit order: each secret's events appear as its requests happened.
        for made in shared:
            mine = [row.activity_name for row in chain if row.secret_id == made.secret_id]
            assert mine == ["paper_secret_created", "paper_secret_opened_internal",
                            "paper_secret_access_denied"]

        edited = chain[expected // 2]
        with engine.begin() as connection:
            connection.execute(update(AuditEvent).where(AuditEvent.id == edited.id)
                               .values(actor_email="mallory@example.com"))
    finally:
        engine.dispose()
    broken = subprocess.run(verify, env=environment, cwd=REPO, capture_output=True, text=True,
                            check=False)
    assert broken.returncode == 1
    assert f"BROKEN at event #{edited.chain_seq} (id {edited.id})" in broken.stderr
    assert "edited" in broken.stderr
