"""Blocking calls from the event loop on the hot path: one plain thread pool per process.

Starlette's ``run_in_threadpool`` goes through anyio, which around every call enters a cancel
scope, takes a capacity limiter and checks for cancellation; under load (50 requests in
flight) that cost the api about 0.5 ms of CPU per reveal (its two requests), a tenth of it,
measured with the peer bench's load against anyio's pool in the same run. The hot path's
requests (the api's lean routes, the vault's key routes) hand their one blocking call to
``BlockingCalls`` instead: ``loop.run_in_executor`` on a ``ThreadPoolExecutor``, in a copy of
the caller's context (the request id reaches the log lines written in the thread).

As with anyio's default, a caller that is cancelled stops waiting but the call runs to its
end (a thread cannot be interrupted).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BlockingCalls:
    """The pool starts on first use, and afresh after ``close`` (an app whose server stops
    and starts again, as the outage tests do, keeps working)."""

    def __init__(self, threads: int, name: str) -> None:
        self._threads = threads
        self._name = name
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        # Only the event loop's thread gets here, so the pool is never made twice.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
