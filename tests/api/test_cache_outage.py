"""With Redis unreachable, what needs a session or a rate limit answers 503, the rest keeps
working, and everything recovers when Redis is back, without restarting the api."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.databases import sqlite_database
from tests.support.requirements import missing
from tests.support.servers import free_port
from tests.support.stack import Stack, VaultServer, running_stack

pytestmark = pytest.mark.redis


class RedisProcess:
    """A private ``redis-server`` (no persistence) that a test may pause, kill and restart."""

    def __init__(self, executable: str, directory: Path) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted, nothing is answered (a hung server)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Kill it: connections are refused and every key is lost."""
        if self.process is None:
            return
        self.process.kill()  # SIGKILL works on a stopped process too
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(directory: Path) -> Iterator[RedisProcess]:
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server", "no `redis-server` on PATH (apt-get install -y redis-server)")
    assert executable is not None
    server = RedisProcess(executable, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()


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
