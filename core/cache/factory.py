"""The one place that turns settings into a cache backend (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from typing import assert_never

from core.cache.memory import create_memory_cache
from core.cache.protocol import Cache
from core.cache.redis import create_redis_cache
from core.clock import Clock
from core.settings import Settings


def create_cache(settings: Settings, clock: Clock) -> Cache:
    if settings.cache_backend == "memory":
        return create_memory_cache(clock)
    if settings.cache_backend == "redis":
        return create_redis_cache(settings.redis_url, clock)
    assert_never(settings.cache_backend)
