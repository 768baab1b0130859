"""The download service worker's script, and what /download/ shows when no worker answers.

The worker lives at the site root so it may take the /download/ scope; it only ever answers
navigations under /download/ that a page of ours set up a moment before.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from http_layer.deps import OptionalUser, TemplatesDep
from http_layer.rendering import render
from web.pages import STATIC_DIR

router = APIRouter(include_in_schema=False)
WORKER_SCRIPT = STATIC_DIR / "dist" / "download-sw.js"


@router.get("/download-sw.js")
def download_worker() -> Response:
    if not WORKER_SCRIPT.is_file():
        return Response("// not built: run `make build`", status_code=404,
                        media_type="text/javascript")
    # "no-cache": browsers check for a new worker on every registration.
    return FileResponse(WORKER_SCRIPT, media_type="text/javascript",
                        headers={"cache-control": "no-cache"})


@router.get("/download/{rest:path}")
def download_not_started(
    rest: str, request: Request, user: OptionalUser, templates: TemplatesDep
) -> Response:
    """Reached only when the worker did not take the download (a reload, a copied URL)."""
    del rest
    return render(request, templates, "download_missing.html", user, 404)
