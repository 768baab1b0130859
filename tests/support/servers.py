"""Real servers on loopback for tests: ASGI apps under uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UvicornThread:
    """Serve an ASGI app on 127.0.0.1; ``stop()`` and ``start()`` simulate an outage."""

    def __init__(self, app: Any, port: int | None = None, **options: Any) -> None:
        self.app = app
        self.port = port or free_port()
        self.options = options
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, lifespan="on",
            **{"log_config": None, **self.options, "timeout_graceful_shutdown": 1},
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[UvicornThread]:
    server = UvicornThread(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
