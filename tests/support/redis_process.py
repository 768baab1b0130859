"""A private ``redis-server`` on a free port, for fault tests: pause it (a hung server), kill
it (every key lost, unless it persists), start it again on the same port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.requirements import missing
from tests.support.servers import free_port


class RedisProcess:
    """A private ``redis-server`` that a test may pause, kill and restart. Without
    ``persistent`` it keeps nothing; with it, an append-only file as the compose file sets."""

    def __init__(self, executable: str, directory: Path, *, persistent: bool = False) -> None:
        self.executable = executable
        self.directory = directory
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes" if self.persistent else "no",
             "--appendfsync", "everysec", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted, nothing is answered (a hung server)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Kill it: connections are refused and every key is lost."""
        if self.process is None:
            return
        self.process.kill()  # SIGKILL works on a stopped process too
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(directory: Path, *, persistent: bool = False) -> Iterator[RedisProcess]:
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server", "no `redis-server` on PATH (apt-get install -y redis-server)")
    assert executable is not None
    server = RedisProcess(executable, directory, persistent=persistent)
    try:
        server.start()
        yield server
    finally:
        server.stop()
