"""Real faults on real wires: an HTTP proxy in front of a server (e.g. moto's S3) that can be
switched to answer 503, so clients see a genuine outage rather than a stubbed one."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tests.support.client import BrowserLikeClient, RevealFailed, ShareLink
from tests.support.servers import UvicornThread

T = TypeVar("T")

UNAVAILABLE = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code>'
               b"<Message>Please reduce your request rate.</Message></Error>")


class FaultProxy:
    def __init__(self, target_url: str) -> None:
        self.target_url = target_url.rstrip("/")
        self.failing = False
        # Or only some requests: called with (method, path) for each, True answers 503.
        self.fails: Callable[[str, str], bool] = lambda _method, _path: False
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        self.seen.append((request.method, request.url.path))
        if self.failing or self.fails(request.method, request.url.path):
            response = Response(UNAVAILABLE, status_code=503, media_type="application/xml")
        else:
            async with httpx.AsyncClient() as client:
                upstream = await client.request(
                    request.method, self.target_url + request.url.path,
                    params=request.url.query, content=await request.body(),
                    headers=[(k, v) for k, v in request.headers.items() if k != "host"],
                )
            headers = {k: v for k, v in upstream.headers.items()
                       if k.lower() not in ("content-length", "transfer-encoding",
                                            "content-encoding", "connection")}
            response = Response(upstream.content, upstream.status_code, headers=headers)
        await response(scope, receive, send)


@contextmanager
def fault_proxy(target_url: str) -> Iterator[tuple[FaultProxy, str]]:
    proxy = FaultProxy(target_url)
    server = UvicornThread(proxy)
    server.start()
    try:
        yield proxy, server.url
    finally:
        server.stop()


class TcpOutage:
    """A TCP proxy in front of a server (PostgreSQL, say) that can go down as the server
    would: ``down()`` drops every open connection and refuses new ones, ``up()`` serves
    again on the same port. Runs its own event loop in a thread."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.close()
            return
        self._open.update((client_writer, server_writer))

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()
                self._open.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer),
                             pipe(server_reader, client_writer))

    async def _down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # as a crashed server: no goodbye
        self._open.clear()

    def down(self) -> None:
        self._call(self._down())

    def up(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@contextmanager
def tcp_outage(upstream_host: str, upstream_port: int) -> Iterator[TcpOutage]:
    outage = TcpOutage(upstream_host, upstream_port)
    outage.start()
    try:
        yield outage
    finally:
        outage.stop()


@dataclass
class RevealsThroughOutage:
    """What concurrent reveals saw while a server went away and came back."""

    outcomes: Counter[str]  # "200", or "<status> <error code>"
    delivered: dict[str, str]  # secret id -> the text that reached the reader

    def reveal_the_rest(self, reader: BrowserLikeClient, links: list[ShareLink]) -> dict[
            str, str]:
        """After the outage: reveal what was refused (its view must still be there)."""
        for link in links:
            if link.secret_id not in self.delivered:
                self.delivered[link.secret_id] = reader.reveal(link)
        return self.delivered


def reveals_through_outage(
    reader: BrowserLikeClient, links: list[ShareLink], *, down: Callable[[], None],
    up: Callable[[], None], readers: int = 8, down_seconds: float = 1.0,
) -> RevealsThroughOutage:
    """Reveal every link with ``readers`` threads; a quarter of the way in, ``down()``, wait
    ``down_seconds``, ``up()``. Every refusal must carry ``Retry-After``."""
    seen = RevealsThroughOutage(Counter(), {})
    lock = threading.Lock()
    quarter = threading.Event()

    def reveal(index: int, link: ShareLink) -> None:
        if index == len(links) // 4:
            quarter.set()
        try:
            text = reader.reveal(link)
        except RevealFailed as failed:
            assert failed.response.headers.get("retry-after"), failed.response.text
            code = failed.response.json()["error"]["code"]
            with lock:
                seen.outcomes[f"{failed.response.status_code} {code}"] += 1
            return
        with lock:
            seen.outcomes["200"] += 1
            seen.delivered[link.secret_id] = text

    with ThreadPoolExecutor(readers) as pool:
        futures = [pool.submit(reveal, index, link) for index, link in enumerate(links)]
        quarter.wait(30)
        down()  # under load: requests in flight lose their server
        time.sleep(down_seconds)
        up()
        for future in futures:
            future.result()
    return seen
