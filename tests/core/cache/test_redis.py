"""What only the Redis backend has: its key layout, and an outage as ``CacheUnavailable``."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import redis

from core.cache.redis import RedisSessionStore, create_redis_cache
from core.errors import CacheUnavailable
from tests.support.async_client import run_async
from tests.support.clock import MovableClock
from tests.support.requirements import require_redis
from tests.support.servers import free_port

pytestmark = pytest.mark.redis


def _sha(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@pytest.fixture
def prefix() -> Iterator[str]:
    url = require_redis()
    prefix = f"cipherslip-test-{secrets.token_hex(8)}"
    yield prefix
    inspector = redis.Redis.from_url(url)
    keys = list(inspector.scan_iter(match=f"{prefix}:*"))
    if keys:
        inspector.delete(*keys)
    inspector.close()


def test_keys_are_namespaced_by_kind_and_hashed(prefix: str) -> None:
    url = require_redis()
    clock = MovableClock(datetime(2031, 5, 6, 7, 8, 45, tzinfo=UTC))
    cache = create_redis_cache(url, clock, prefix=prefix)
    cache.sessions.save("session-id", {"csrf": "x"}, 600)
    cache.rate_limiter.hit("login:ip:192.0.2.1", limit=5, window_seconds=60)
    cache.replay_cache.first_use("signature", 30)
    cache.tokens.put("token", "value", 90)
    inspector = redis.Redis.from_url(url, decode_responses=True)
    window_start = int(clock.now().timestamp()) // 60 * 60
    expected = {
        f"{prefix}:session:{_sha('session-id')}": 600,
        f"{prefix}:rate:{_sha('login:ip:192.0.2.1')}:{window_start}": 60,
        f"{prefix}:replay:{_sha('signature')}": 30,
        f"{prefix}:token:{_sha('token')}": 90,
    }
    try:
        assert set(inspector.scan_iter(match=f"{prefix}:*")) == set(expected)
        for key, ttl in expected.items():
            assert ttl - 2 <= inspector.ttl(key) <= ttl
    finally:
        inspector.close()
        cache.close()


def test_default_prefix_is_cipherslip() -> None:
    store = RedisSessionStore(redis.Redis.from_url("redis://127.0.0.1:1/0"),
                              url="redis://127.0.0.1:1/0")
    assert store._key("id") == f"cipherslip:session:{_sha('id')}"


@pytest.mark.parametrize("operation", [
    lambda cache: cache.sessions.load("session-id"),
    lambda cache: run_async(cache.sessions.load_async("session-id")),
    lambda cache: cache.sessions.save("session-id", {"user": "alice"}, 60),
    lambda cache: cache.sessions.delete("session-id"),
    lambda cache: cache.rate_limiter.hit("login:ip:192.0.2.1", limit=1, window_seconds=60),
    lambda cache: cache.replay_cache.first_use("signature", 60),
    lambda cache: cache.tokens.put("tk-7f3a", "val-9b2c", 60),
    lambda cache: cache.tokens.take("tk-7f3a"),
    lambda cache: cache.tokens.peek("tk-7f3a"),
    lambda cache: cache.check_ready(),
], ids=["load", "load_async", "save", "delete", "hit", "first_use", "put", "take", "peek",
        "check_ready"])
def test_unreachable_redis_raises_cache_unavailable_without_keys(
    operation: Callable[..., object],
) -> None:
    # Nothing listens on a port just freed: every command is refused at once.
    cache = create_redis_cache(f"redis://127.0.0.1:{free_port()}/0", MovableClock())
    try:
        with pytest.raises(CacheUnavailable) as raised:
            operation(cache)
    finally:
        cache.close()
    assert raised.value.code == "cache_unavailable"
    for leak in ("session-id", "alice", "192.0.2.1", "signature", "tk-7f3a", "val-9b2c"):
        assert leak not in raised.value.message
