"""Response headers every page and API answer carries (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings


def content_security_policy(storage_origins: tuple[str, ...] = ()) -> str:
    """No inline script or style anywhere: every script is a same-origin file. The browser
    may talk to us and, for files, to the blob store's origin (presigned parts/downloads)."""
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        " ".join(["connect-src 'self'", *storage_origins]),
        "worker-src 'self'",  # the download service worker
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types download-worker",  # the one script URL pages make (files/download.js)
    ])


def storage_origins(settings: Settings) -> tuple[str, ...]:
    if settings.blob_backend != "s3":
        return ()
    if settings.s3_endpoint_url:
        parts = urlsplit(settings.s3_endpoint_url)
        return (f"{parts.scheme}://{parts.netloc}",)
    # Presigned AWS URLs are virtual-hosted, regional or global.
    return (f"https://{settings.s3_bucket}.s3.{settings.s3_region}.amazonaws.com",
            f"https://{settings.s3_bucket}.s3.amazonaws.com")


BASE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, csp: str | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = csp or content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS.items():
                    headers[name] = value
                headers["content-security-policy"] = self.csp
                # Secrets and session-bound answers must never sit in a cache.
                headers["cache-control"] = "no-cache" if is_static else "no-store"
                if not is_static:
                    headers["pragma"] = "no-cache"
                if self.hsts:
                    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)
