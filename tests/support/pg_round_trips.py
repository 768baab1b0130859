"""Count the round trips a process makes to PostgreSQL, from outside it: a TCP proxy that reads
the client's side of the wire protocol.

A round trip is a message after which the client waits for the server's ReadyForQuery: a
simple ``Query`` ('Q') or the ``Sync`` ('S') closing an extended-protocol batch (what psycopg
sends for a parameterized statement: Parse/Bind/Describe/Execute, then Sync). BEGIN, COMMIT,
ROLLBACK and the pool's liveness pings are round trips too, and are counted as such.
Connect with ``sslmode=disable`` (and ``gssencmode=disable``) so that the stream is readable.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ROUND_TRIP_MESSAGES = frozenset(b"QS")


@dataclass
class RoundTripCounter:
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, number: int) -> None:
        with self._lock:
            self.count += number

    def read(self) -> int:
        with self._lock:
            return self.count


class _FrontendParser:
    """Splits the client's byte stream into messages: first the untyped startup message,
    then typed ones (1 byte type, 4 bytes length including itself, payload)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._started = False

    def feed(self, data: bytes) -> int:
        self._buffer += data
        round_trips = 0
        while True:
            if not self._started:
                if len(self._buffer) < 4:
                    return round_trips
                (length,) = struct.unpack("!I", self._buffer[:4])
                if len(self._buffer) < length:
                    return round_trips
                del self._buffer[:length]
                self._started = True
                continue
            if len(self._buffer) < 5:
                return round_trips
            kind = self._buffer[0]
            (length,) = struct.unpack("!I", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return round_trips
            del self._buffer[:1 + length]
            if kind in ROUND_TRIP_MESSAGES:
                round_trips += 1


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                parser: _FrontendParser | None, counter: RoundTripCounter) -> None:
    try:
        while data := await reader.read(65536):
            if parser is not None:
                counter.add(parser.feed(data))
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@contextmanager
def counting_proxy(upstream_host: str, upstream_port: int) -> Iterator[
        tuple[int, RoundTripCounter]]:
    """(local port to connect to instead of PostgreSQL, its counter), in a thread of its own."""
    counter = RoundTripCounter()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port_box: list[int] = []

    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(upstream_host,
                                                                     upstream_port)
        await asyncio.gather(
            _pipe(client_reader, server_writer, _FrontendParser(), counter),
            _pipe(server_reader, client_writer, None, counter),
        )

    async def serve() -> asyncio.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_box.append(server.sockets[0].getsockname()[1])
        ready.set()
        return server

    async def shut_down(server: asyncio.Server) -> None:
        server.close()
        pipes = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(serve())
        loop.run_forever()
        # Closed here, in its own thread: pipes left to the garbage collector would try to
        # close their sockets on a loop that no longer runs.
        loop.run_until_complete(shut_down(server))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield port_box[0], counter
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
