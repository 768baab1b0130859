"""/api/v1/downloads/{token}: a revealed file's ciphertext, for 10 minutes, to its viewer.

Streamed with HTTP Range support (a browser can resume), or a redirect to a presigned storage
URL when the store can presign, so the api never carries the bytes.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from http_layer.deps import (
    Client,
    CurrentViewer,
    DownloadsDep,
)

router = APIRouter(prefix="/api/v1/downloads", tags=["downloads"])
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a single "bytes=a-b" range; None for the whole blob.
    ValueError when unsatisfiable (answered 416)."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # multiple or suffix ranges: send the whole blob, which is allowed
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else size - 1
    if start >= size or end < start:
        raise ValueError("unsatisfiable range")
    return start, min(end, size - 1)


@router.get("/{token}")
async def download(
    token: str, viewer: CurrentViewer, downloads: DownloadsDep, client: Client,
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    ticket = await run_in_threadpool(downloads.resolve, viewer, token)
    await run_in_threadpool(downloads.record, viewer, ticket, client)
    presigned = await run_in_threadpool(downloads.presigned_url, ticket)
    if presigned is not None:
        return RedirectResponse(presigned, status_code=307)
    size = await run_in_threadpool(downloads.size, ticket)
    headers = {"accept-ranges": "bytes", "content-type": "application/octet-stream"}
    try:
        requested = parse_range(range_header, size)
    except ValueError:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    if requested is None:
        stream = await run_in_threadpool(downloads.stream, ticket, 0, None)
        return StreamingResponse(stream, headers={**headers, "content-length": str(size)})
    start, end = requested
    stream = await run_in_threadpool(downloads.stream, ticket, start, end)
    return StreamingResponse(stream, status_code=206, headers={
        **headers, "content-length": str(end - start + 1),
        "content-range": f"bytes {start}-{end}/{size}",
    })
