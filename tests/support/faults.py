"""Real faults on real wires: an HTTP proxy in front of a server (e.g. moto's S3) that can be
switched to answer 503, so clients see a genuine outage rather than a stubbed one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tests.support.servers import UvicornThread

UNAVAILABLE = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code>'
               b"<Message>Please reduce your request rate.</Message></Error>")


class FaultProxy:
    def __init__(self, target_url: str) -> None:
        self.target_url = target_url.rstrip("/")
        self.failing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        if self.failing:
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
