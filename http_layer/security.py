"""Response headers every page and API answer carries (docs/ARCHITECTURE.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

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
        common = {**BASE_HEADERS, "content-security-policy": csp or content_security_policy()}
        if hsts:
            common["strict-transport-security"] = "max-age=31536000; includeSubDomains"
        # Secrets and session-bound answers must never sit in a cache; static files may be
        # revalidated. Encoded once: these go on every answer.
        self._headers = {
            is_static: [(name.encode(), value.encode()) for name, value in {
                **common, **({"cache-control": "no-cache"} if is_static else
                             {"cache-control": "no-store", "pragma": "no-cache"})}.items()]
            for is_static in (True, False)}
        self._names = {name for name, _ in self._headers[False]}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self._headers[scope["path"].startswith("/static/")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Ours replace any the app set under the same names.
                message["headers"] = [
                    (name, value) for name, value in message.get("headers", ())
                    if name.lower() not in self._names] + ours
            await send(message)

        await self.app(scope, receive, send_with_headers)
