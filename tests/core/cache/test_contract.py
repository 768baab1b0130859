"""One contract for both cache backends: in-process memory and a real Redis.

Memory expiry follows the injected clock; Redis expiry follows Redis's own clock, so
``Backend.let_pass`` moves the clock and, for Redis, also sleeps.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from core.cache.memory import (
    MemoryRateLimiter,
    MemoryReplayCache,
    MemorySessionStore,
    MemoryTokenStore,
)
from core.cache.protocol import Cache, RateHit
from core.cache.redis import create_redis_cache
from tests.support.async_client import run_async
from tests.support.clock import MovableClock
from tests.support.requirements import require_redis

# 45 s into a minute, so a 60 s window has exactly 15 s left.
START = datetime(2031, 5, 6, 7, 8, 45, tzinfo=UTC)
SESSION_ID = "Yq3Jk2x0cW9Zx8mB1nVtR4eL7uHs5oPd6aFg9iKjQwE"
STATE: dict[str, Any] = {"user": {"user_id": "u-1", "email": "alice@example.com"},
                         "csrf": "token", "flags": [1, 2.5, True, None]}


@dataclass(frozen=True)
class Backend:
    name: str
    cache: Cache
    clock: MovableClock
    # Everything the backend stores (keys and values), as text, to search for leaks.
    dump: Callable[[], str]
    let_pass: Callable[[float], None]


def _memory_backend() -> Backend:
    clock = MovableClock(START)
    sessions = MemorySessionStore(clock)
    tokens = MemoryTokenStore(clock)
    cache = Cache(sessions=sessions, rate_limiter=MemoryRateLimiter(clock),
                  replay_cache=MemoryReplayCache(clock), tokens=tokens)

    def dump() -> str:
        return repr(sessions._sessions._entries) + repr(tokens._tokens._entries)

    def let_pass(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return Backend("memory", cache, clock, dump, let_pass)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        yield _memory_backend()
        return
    url = require_redis()
    # A prefix of its own: other runs may share database 15.
    prefix = f"cipherslip-test-{secrets.token_hex(8)}"
    clock = MovableClock(START)
    cache = create_redis_cache(url, clock, prefix=prefix)
    inspector = redis.Redis.from_url(url)

    def dump() -> str:
        stored = []
        for key in inspector.scan_iter(match=f"{prefix}:*"):
            stored.append(f"{key!r}={inspector.get(key)!r}")
        return "\n".join(stored)

    def let_pass(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))
        time.sleep(seconds + 0.1)

    try:
        yield Backend("redis", cache, clock, dump, let_pass)
    finally:
        keys = list(inspector.scan_iter(match=f"{prefix}:*"))
        if keys:
            inspector.delete(*keys)
        inspector.close()
        cache.close()


# --- sessions -------------------------------------------------------------------------------
def test_session_round_trip_returns_a_copy(backend: Backend) -> None:
    sessions = backend.cache.sessions
    sessions.save(SESSION_ID, STATE, 600)
    loaded = sessions.load(SESSION_ID)
    assert loaded == STATE
    assert loaded is not None
    loaded["user"]["email"] = "mallory@example.com"
    assert sessions.load(SESSION_ID) == STATE


def test_session_loads_the_same_on_the_event_loop(backend: Backend) -> None:
    store = backend.cache.sessions
    store.save(SESSION_ID, STATE, 60)
    assert run_async(store.load_async(SESSION_ID)) == STATE
    assert run_async(store.load_async(SESSION_ID)) == STATE  # a second event loop works too
    assert run_async(store.load_async("unknown-" + SESSION_ID[8:])) is None
    store.delete(SESSION_ID)
    assert run_async(store.load_async(SESSION_ID)) is None


def test_unknown_session_is_none(backend: Backend) -> None:
    assert backend.cache.sessions.load(SESSION_ID) is None


def test_saving_again_replaces_the_state(backend: Backend) -> None:
    sessions = backend.cache.sessions
    sessions.save(SESSION_ID, STATE, 600)
    sessions.save(SESSION_ID, {"guest": {"email": "bob@example.org"}}, 600)
    assert sessions.load(SESSION_ID) == {"guest": {"email": "bob@example.org"}}


def test_delete_forgets_and_ignores_unknown_ids(backend: Backend) -> None:
    sessions = backend.cache.sessions
    sessions.save(SESSION_ID, STATE, 600)
    sessions.delete(SESSION_ID)
    sessions.delete(SESSION_ID)
    assert sessions.load(SESSION_ID) is None


def test_session_expires_after_its_ttl(backend: Backend) -> None:
    sessions = backend.cache.sessions
    sessions.save(SESSION_ID, STATE, 1)
    sessions.save("other" + SESSION_ID[5:], STATE, 600)
    backend.let_pass(1)
    assert sessions.load(SESSION_ID) is None
    assert sessions.load("other" + SESSION_ID[5:]) == STATE


def test_session_ids_are_stored_hashed(backend: Backend) -> None:
    backend.cache.sessions.save(SESSION_ID, STATE, 600)
    stored = backend.dump()
    assert hashlib.sha256(SESSION_ID.encode()).hexdigest() in stored
    assert SESSION_ID not in stored


def test_state_must_be_json(backend: Backend) -> None:
    sessions = backend.cache.sessions
    sessions.save(SESSION_ID, {"pair": (1, 2)}, 600)
    assert sessions.load(SESSION_ID) == {"pair": [1, 2]}
    with pytest.raises(TypeError):
        sessions.save(SESSION_ID, {"when": datetime.now(UTC)}, 600)


def test_ttls_below_one_second_are_refused(backend: Backend) -> None:
    cache = backend.cache
    with pytest.raises(ValueError, match="ttl"):
        cache.sessions.save(SESSION_ID, STATE, 0)
    with pytest.raises(ValueError, match="ttl"):
        cache.replay_cache.first_use("signature", 0)
    with pytest.raises(ValueError, match="ttl"):
        cache.tokens.put("token", "value", -1)


# --- rate limits ----------------------------------------------------------------------------
def test_rate_limit_counts_and_refuses_once_first(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    decisions = [limiter.hit("reveal:user:u-1", limit=3, window_seconds=60) for _ in range(5)]
    assert [decision.allowed for decision in decisions] == [True, True, True, False, False]
    assert [decision.first_refusal for decision in decisions] == [
        False, False, False, True, False]
    assert [decision.retry_after for decision in decisions] == [0, 0, 0, 15, 15]


def test_retry_after_counts_down_to_the_window_end(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    limiter.hit("login:ip:192.0.2.1", limit=1, window_seconds=60)
    backend.clock.advance(timedelta(seconds=10.5))
    decision = limiter.hit("login:ip:192.0.2.1", limit=1, window_seconds=60)
    assert (decision.retry_after, decision.first_refusal) == (5, True)


def test_a_new_window_starts_from_zero(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    for _ in range(3):
        limiter.hit("create:user:u-1", limit=2, window_seconds=60)
    backend.clock.advance(timedelta(seconds=15))
    decisions = [limiter.hit("create:user:u-1", limit=2, window_seconds=60) for _ in range(3)]
    assert [decision.allowed for decision in decisions] == [True, True, False]
    assert decisions[2].first_refusal
    assert decisions[2].retry_after == 60


def test_keys_are_counted_apart(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    assert limiter.hit("magic-link:email:a@example.org", limit=1, window_seconds=60).allowed
    assert limiter.hit("magic-link:email:b@example.org", limit=1, window_seconds=60).allowed
    assert not limiter.hit("magic-link:email:a@example.org", limit=1, window_seconds=60).allowed


def test_hit_all_counts_each_key_as_hit_does(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    hits = [RateHit("reveal:user:u-9", 2, 60), RateHit("reveal:ip:192.0.2.9", 3, 60)]
    rounds = [limiter.hit_all(hits) for _ in range(4)]
    assert [[decision.allowed for decision in decisions] for decisions in rounds] == [
        [True, True], [True, True], [False, True], [False, False]]
    assert [[decision.first_refusal for decision in decisions] for decisions in rounds] == [
        [False, False], [False, False], [True, False], [False, True]]
    assert rounds[2][0].retry_after == 15
    # The same counters as hit's: one more single hit on the first key is the fifth.
    assert not limiter.hit("reveal:user:u-9", limit=4, window_seconds=60).allowed
    assert limiter.hit_all([]) == []


def test_concurrent_hits_are_all_counted(backend: Backend) -> None:
    limiter = backend.cache.rate_limiter
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(
            lambda _: limiter.hit("flood", limit=10, window_seconds=60), range(40)))
    assert sum(decision.allowed for decision in decisions) == 10
    assert sum(decision.first_refusal for decision in decisions) == 1


# --- replay cache ---------------------------------------------------------------------------
def test_first_use_is_true_once(backend: Backend) -> None:
    replay = backend.cache.replay_cache
    assert replay.first_use("sig-1", 60)
    assert not replay.first_use("sig-1", 60)
    assert replay.first_use("sig-2", 60)


def test_a_key_is_new_again_after_its_ttl(backend: Backend) -> None:
    replay = backend.cache.replay_cache
    assert replay.first_use("sig-1", 1)
    backend.let_pass(1)
    assert replay.first_use("sig-1", 60)
    assert not replay.first_use("sig-1", 60)


def test_concurrent_first_uses_let_exactly_one_through(backend: Backend) -> None:
    replay = backend.cache.replay_cache
    barrier = threading.Barrier(8)

    def use(_: int) -> bool:
        barrier.wait()
        return replay.first_use("sig-race", 60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(use, range(8))) == [False] * 7 + [True]


# --- tokens ---------------------------------------------------------------------------------
def test_token_is_taken_once_and_peeked_freely(backend: Backend) -> None:
    tokens = backend.cache.tokens
    tokens.put("link-token", "secret-id:42", 60)
    assert tokens.peek("link-token") == "secret-id:42"
    assert tokens.peek("link-token") == "secret-id:42"
    assert tokens.take("link-token") == "secret-id:42"
    assert tokens.take("link-token") is None
    assert tokens.peek("link-token") is None


def test_put_replaces_and_unknown_tokens_are_none(backend: Backend) -> None:
    tokens = backend.cache.tokens
    assert tokens.take("never-stored") is None
    tokens.put("link-token", "first", 60)
    tokens.put("link-token", "second ✓", 60)
    assert tokens.take("link-token") == "second ✓"


def test_token_expires_after_its_ttl(backend: Backend) -> None:
    tokens = backend.cache.tokens
    tokens.put("short", "value", 1)
    tokens.put("long", "value", 600)
    backend.let_pass(1)
    assert tokens.peek("short") is None
    assert tokens.take("short") is None
    assert tokens.take("long") == "value"


def test_concurrent_takes_give_the_value_to_one_taker(backend: Backend) -> None:
    tokens = backend.cache.tokens
    tokens.put("contested", "value", 60)
    barrier = threading.Barrier(8)

    def take(_: int) -> str | None:
        barrier.wait()
        return tokens.take("contested")

    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(take, range(8)))
    assert taken.count("value") == 1
    assert taken.count(None) == 7


def test_tokens_are_stored_under_hashed_keys(backend: Backend) -> None:
    backend.cache.tokens.put("raw-token-kept-out-of-keys", "value", 60)
    assert "raw-token-kept-out-of-keys" not in backend.dump()


# --- readiness ------------------------------------------------------------------------------
def test_check_ready_passes_when_the_backend_answers(backend: Backend) -> None:
    backend.cache.check_ready()
