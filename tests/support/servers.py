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


class UvicornThread:
    """Serve an ASGI app on 127.0.0.1; ``stop()`` and ``start()`` simulate an outage."""

    def __init__(self, app: Any, port: int | None = None, *, sock: socket.socket | None = None,
                 **options: Any) -> None:
        self.app = app
        self.options = options
        self._sock = sock if sock is not None else bound_socket(port or 0)
        self.port = int(self._sock.getsockname()[1])
        self._server: uvicorn.Server | None = None
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
        self._server = uvicorn.Server(config)
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
            self._server.should_exit = True
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
