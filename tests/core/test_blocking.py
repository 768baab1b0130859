"""core.blocking: the hot path's thread pool."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.blocking import BlockingCalls
from core.logging import request_id_var


def test_a_call_runs_in_a_pool_thread_with_the_callers_context() -> None:
    calls = BlockingCalls(2, "test-pool")

    def seen() -> tuple[str, str | None]:
        return threading.current_thread().name, request_id_var.get()

    async def caller() -> tuple[str, str | None]:
        request_id_var.set("req-42")
        return await calls.run(seen)

    thread, request_id = asyncio.run(caller())
    calls.close()
    assert thread.startswith("test-pool") and thread != threading.current_thread().name
    assert request_id == "req-42", "log lines written in the thread name the request"


def test_errors_reach_the_caller_and_the_pool_starts_again_after_close() -> None:
    calls = BlockingCalls(1, "test-pool")

    def fail(message: str) -> None:
        raise ValueError(message)

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(calls.run(fail, "refused"))
    calls.close()
    assert asyncio.run(calls.run(sum, [1, 2, 3])) == 6
    calls.close()
