"""Real servers on loopback for tests: ASGI apps under uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    """A port that was free a moment ago (for servers we cannot hand a bound socket)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound_socket(port: int = 0) -> socket.socket:
    """A listening socket, bound now: no other process can take the port before we serve."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopping at once: uvicorn polls ``should_exit`` every 0.1 s and then
    sleeps another 0.1 s before draining connections, which a suite that starts and stops a
    thousand servers pays ~0.15 s a time for. Here ``stop_now()`` wakes the loop, and the
    drain polls every few milliseconds. Behaviour is otherwise uvicorn's."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = time.monotonic() + (self.config.timeout_graceful_shutdown or 1)
        while (self.server_state.connections or self.server_state.tasks) and (
                time.monotonic() < deadline):
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()

    def stop_now(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                self._loop.call_soon_threadsafe(self._wake.set)


class UvicornThread:
    """Serve an ASGI app on 127.0.0.1; ``stop()`` and ``start()`` simulate an outage."""

    def __init__(self, app: Any, port: int | None = None, *, sock: socket.socket | None = None,
                 **options: Any) -> None:
        self.app = app
        self.options = options
        self._sock = sock if sock is not None else bound_socket(port or 0)
        self.port = int(self._sock.getsockname()[1])
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._sock.fileno() == -1:  # closed by the previous stop(): take the port back
            self._sock = bound_socket(self.port)
        config = uvicorn.Config(
            self.app, lifespan="on",
            **{"log_config": None, **self.options, "timeout_graceful_shutdown": 1},
        )
        self._server = _PromptServer(config)
        sockets = [self._sock]
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets},
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.stop_now()
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self._sock.close()


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[UvicornThread]:
    server = UvicornThread(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
