"""With Redis unreachable, what needs a session or a rate limit answers 503, the rest keeps
working, and everything recovers when Redis is back, without restarting the api — also when
it is killed under a load of concurrent reveals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.db.models import Secret
from tests.support.databases import sqlite_database
from tests.support.faults import reveals_through_outage
from tests.support.redis_process import RedisProcess, private_redis
from tests.support.stack import Stack, VaultServer, running_stack

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    directory = tmp_path / "redis"
    directory.mkdir()
    with private_redis(directory) as server:
        yield server


@pytest.fixture
def redis_stack(
    tmp_path: Path, idp: str, vault: VaultServer, redis_server: RedisProcess
) -> Iterator[Stack]:
    # One database is enough: the outage under test is the cache's.
    with sqlite_database(tmp_path) as database_url, running_stack(
        data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=vault,
        cache_backend="redis", redis_url=redis_server.url,
    ) as stack:
        try:
            yield stack
        finally:
            stack.services.cache.close()


def _get(stack: Stack, path: str) -> httpx.Response:
    return httpx.get(stack.base_url + path, timeout=30)


def _assert_cache_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "cache_unavailable"


def _assert_healthy_but_not_ready(stack: Stack) -> None:
    assert _get(stack, "/healthz").status_code == 200
    ready = _get(stack, "/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "database": "ok", "blob_store": "ok", "vault": "ok", "cache": "unavailable"}


def test_hung_redis_answers_503_where_needed_and_recovers(
    redis_stack: Stack, redis_server: RedisProcess,
) -> None:
    stack = redis_stack
    alice = stack.user("alice@example.com")
    assert alice.http.get("/api/v1/me").json()["email"] == "alice@example.com"
    link = alice.create_text("kept through the outage", ["alice@example.com"])
    assert _get(stack, "/readyz").json()["checks"]["cache"] == "ok"

    redis_server.pause()
    try:
        _assert_cache_unavailable(alice.http.get("/api/v1/me"))
        # State changes fail for the same reason, not for a CSRF token that could not be read.
        response, _ = alice.start_secret(["bob@example.com"])
        _assert_cache_unavailable(response)
        page = alice.http.get("/secrets")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "Cache unavailable" in page.text
        _assert_healthy_but_not_ready(stack)
    finally:
        redis_server.resume()

    # The same session, with no restart of anything.
    assert alice.http.get("/api/v1/me").json()["email"] == "alice@example.com"
    assert alice.http.get("/secrets").status_code == 200
    assert alice.reveal(link) == "kept through the outage"
    assert _get(stack, "/readyz").status_code == 200


def test_killed_redis_answers_503_and_a_restart_needs_a_new_sign_in(
    redis_stack: Stack, redis_server: RedisProcess,
) -> None:
    stack = redis_stack
    alice = stack.user("alice@example.com")
    assert alice.http.get("/api/v1/me").status_code == 200

    redis_server.stop()
    _assert_cache_unavailable(alice.http.get("/api/v1/me"))
    # The rate limit on sign-in needs the cache too.
    visitor = httpx.Client(base_url=stack.base_url, timeout=30)
    try:
        assert visitor.get("/auth/login").status_code == 503
        # A visitor's first page mints a CSRF token; a session that cannot be saved must not
        # come back as a page whose forms would then fail.
        assert visitor.get("/verify").status_code == 503
        assert "set-cookie" not in visitor.get("/healthz").headers
    finally:
        visitor.close()
    _assert_healthy_but_not_ready(stack)

    redis_server.start()
    # Redis kept nothing, so the old cookie is just unknown: sign in again.
    assert alice.http.get("/api/v1/me").status_code == 401
    alice.sign_in()
    assert alice.http.get("/api/v1/me").json()["email"] == "alice@example.com"
    assert _get(stack, "/readyz").status_code == 200


READERS, SECRETS = 8, 40


def test_redis_killed_under_concurrent_reveals_and_restarted_with_its_append_only_file(
    tmp_path: Path, idp: str, vault: VaultServer,
) -> None:
    """As deployed (compose keeps an append-only file): sessions outlive the restart, every
    answer meanwhile is a 200 or a 503 naming the cache, and no view is used without its
    content."""
    directory = tmp_path / "redis"
    directory.mkdir()
    with private_redis(directory, persistent=True) as redis_server, sqlite_database(
        tmp_path) as database_url, running_stack(
            data_dir=tmp_path, database_url=database_url, discovery_url=idp, vault=vault,
            cache_backend="redis", redis_url=redis_server.url,
            reveal_rate_per_user=10_000, reveal_rate_per_ip=10_000,
            create_rate_per_user=10_000) as stack:
        alice, bob = stack.user("alice@example.com"), stack.user("bob@example.com")
        links = [alice.create_text(f"secret {n}", ["bob@example.com"]) for n in range(SECRETS)]
        time.sleep(1.2)  # the sessions reach the append-only file (fsync every second)
        seen = reveals_through_outage(bob, links, down=redis_server.stop,
                                      up=redis_server.start, readers=READERS)
        outcomes, delivered = seen.outcomes, seen.delivered
        try:
            assert set(outcomes) <= {"200", "503 cache_unavailable"}, outcomes
            assert outcomes["503 cache_unavailable"] > 0, outcomes
            # The same session goes on: no new sign-in, no restart of the api.
            delivered = seen.reveal_the_rest(bob, links)
            assert delivered == {link.secret_id: f"secret {n}" for n, link in enumerate(links)}
            with stack.services.db() as session:
                assert session.scalar(select(func.sum(Secret.views_used))) == SECRETS
        finally:
            stack.services.cache.close()
