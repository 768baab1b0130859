"""Settings choose the backend; the memory one says it is for development."""

from __future__ import annotations

import logging

import pytest

from core.cache.factory import create_cache
from core.cache.memory import MemoryRateLimiter, MemorySessionStore
from core.cache.redis import RedisRateLimiter, RedisSessionStore
from core.settings import Settings
from tests.support.clock import MovableClock


def test_memory_is_the_default_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="core.cache.memory"):
        cache = create_cache(Settings(), MovableClock())
    assert isinstance(cache.sessions, MemorySessionStore)
    assert isinstance(cache.rate_limiter, MemoryRateLimiter)
    warnings = [record.getMessage() for record in caplog.records
                if record.levelno == logging.WARNING]
    assert len(warnings) == 4
    assert all("single process only, for development" in warning for warning in warnings)
    cache.check_ready()


def test_redis_backend_connects_lazily() -> None:
    # Nothing listens there: building must not need Redis, only using it.
    settings = Settings(cache_backend="redis", redis_url="redis://127.0.0.1:1/0")
    cache = create_cache(settings, MovableClock())
    assert isinstance(cache.sessions, RedisSessionStore)
    assert isinstance(cache.rate_limiter, RedisRateLimiter)
    cache.close()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIPHERSLIP_CACHE_BACKEND", "redis")
    monkeypatch.setenv("CIPHERSLIP_REDIS_URL", "rediss://cache.internal:6380/2")
    settings = Settings()
    assert (settings.cache_backend, settings.redis_url) == (
        "redis", "rediss://cache.internal:6380/2")
