"""Redis stores: what lets any number of api replicas share sessions, limits and tokens.

All four stores share one client (one connection pool). Keys are ``<prefix>:<kind>:<hash>``:
callers' keys are hashed (``core.cache.keys``), so neither session ids nor tokens nor the
emails and IPs in rate-limit keys appear in Redis. Every redis-py error becomes
``CacheUnavailable``; the pool reconnects by itself once Redis answers again.
"""

from __future__ import annotations

import asyncio
import json
import math
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from core.cache.keys import require_positive_ttl, storage_key
from core.cache.protocol import Cache, RateDecision, RateHit
from core.clock import Clock
from core.errors import CacheUnavailable

KEY_PREFIX = "cipherslip"
# A request waits at most about twice these (one retry) before answering 503, instead of
# hanging a worker on a Redis that stopped answering.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 1.0
# Idle pooled connections are checked before use, so a restarted Redis costs no failed request.
HEALTH_CHECK_INTERVAL_SECONDS = 10
# One immediate retry on a fresh connection covers a connection Redis closed while idle.
RETRIES = 1


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``); connects lazily."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=Retry(NoBackoff(), RETRIES),
    )


def connect_async(url: str) -> aioredis.Redis:
    """``connect`` for the event loop (the same timeouts and retry)."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
        retry=AsyncRetry(NoBackoff(), RETRIES),
    )


@contextmanager
def _unavailable_on_error(operation: str) -> Iterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        # The type is enough to diagnose; the message is ours, so no key or value leaks.
        raise CacheUnavailable(
            f"the cache cannot {operation} ({type(error).__name__})"
        ) from error


class _Keys:
    def __init__(self, prefix: str, kind: str) -> None:
        self._namespace = f"{prefix}:{kind}:"

    def __call__(self, raw: str) -> str:
        return self._namespace + storage_key(raw)


class RedisSessionStore:
    def __init__(self, client: redis.Redis, *, url: str, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._url = url
        self._key = _Keys(prefix, "session")
        # An asyncio client belongs to the event loop it first ran in: one per loop (a
        # process normally has one; tests start several).
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()

    def load(self, session_id: str) -> dict[str, Any] | None:
        with _unavailable_on_error("load a session"):
            stored = self._client.get(self._key(session_id))
        return _state(stored)

    async def load_async(self, session_id: str) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = connect_async(self._url)
        with _unavailable_on_error("load a session"):
            stored = await client.get(self._key(session_id))
        return _state(stored)

    def save(self, session_id: str, state: dict[str, Any], ttl_seconds: int) -> None:
        require_positive_ttl(ttl_seconds)
        encoded = json.dumps(state, separators=(",", ":"))
        with _unavailable_on_error("save a session"):
            self._client.set(self._key(session_id), encoded, ex=ttl_seconds)

    def delete(self, session_id: str) -> None:
        with _unavailable_on_error("delete a session"):
            self._client.delete(self._key(session_id))


# INCR each key; a new counter gets its window's TTL (relative, not EXPIREAT: the window comes
# from our clock, the TTL from Redis's). Returns the counts.
_COUNT_ATTEMPTS = """
local counts = {}
for index, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[index]) end
  counts[index] = count
end
return counts
"""


class RedisRateLimiter:
    """Fixed windows like ``MemoryRateLimiter``: one counter per key and window start, so a
    window's counter is never reset, only abandoned (and expired) when the next one begins."""

    def __init__(self, client: redis.Redis, clock: Clock, *, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._clock = clock
        self._key = _Keys(prefix, "rate")
        # One script call counts every key of a request: one round trip, one reply, atomic.
        self._count = client.register_script(_COUNT_ATTEMPTS)

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        return self.hit_all([RateHit(key, limit, window_seconds)])[0]

    def hit_all(self, hits: Sequence[RateHit]) -> list[RateDecision]:
        if not hits:
            return []
        now = self._clock.now().timestamp()
        starts = [now - now % one.window_seconds for one in hits]
        counters = [f"{self._key(one.key)}:{int(window_start)}"
                    for one, window_start in zip(hits, starts, strict=True)]
        with _unavailable_on_error("count an attempt"):
            counts = self._count(keys=counters, args=[one.window_seconds for one in hits])
        decisions = []
        for one, window_start, count in zip(hits, starts, counts, strict=True):
            if count <= one.limit:
                decisions.append(RateDecision(retry_after=0, first_refusal=False))
            else:
                decisions.append(RateDecision(
                    retry_after=max(1, math.ceil(window_start + one.window_seconds - now)),
                    first_refusal=count == one.limit + 1))
        return decisions


class RedisReplayCache:
    def __init__(self, client: redis.Redis, *, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._key = _Keys(prefix, "replay")

    def first_use(self, key: str, ttl_seconds: int) -> bool:
        require_positive_ttl(ttl_seconds)
        with _unavailable_on_error("check a replay"):
            recorded = self._client.set(self._key(key), b"1", nx=True, ex=ttl_seconds)
        return bool(recorded)


class RedisTokenStore:
    def __init__(self, client: redis.Redis, *, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._key = _Keys(prefix, "token")

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        require_positive_ttl(ttl_seconds)
        with _unavailable_on_error("store a token"):
            self._client.set(self._key(key), value.encode(), ex=ttl_seconds)

    def take(self, key: str) -> str | None:
        with _unavailable_on_error("use a token"):
            stored = self._client.getdel(self._key(key))
        return _text(stored)

    def peek(self, key: str) -> str | None:
        with _unavailable_on_error("read a token"):
            stored = self._client.get(self._key(key))
        return _text(stored)


def _state(stored: bytes | str | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    state: dict[str, Any] = json.loads(stored)
    return state


def _text(stored: bytes | str | None) -> str | None:
    if isinstance(stored, bytes):
        return stored.decode()
    return stored


def create_redis_cache(url: str, clock: Clock, *, prefix: str = KEY_PREFIX) -> Cache:
    client = connect(url)

    def probe() -> None:
        with _unavailable_on_error("answer a ping"):
            client.ping()

    return Cache(
        sessions=RedisSessionStore(client, url=url, prefix=prefix),
        rate_limiter=RedisRateLimiter(client, clock, prefix=prefix),
        replay_cache=RedisReplayCache(client, prefix=prefix),
        tokens=RedisTokenStore(client, prefix=prefix),
        probe=probe, release=client.close,
    )
