"""Slack's endpoints, handed to the Bolt app: events, commands and interactivity on one URL,
and the OAuth install for many workspaces. Slack's signature is their proof of origin (no
session, no CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp


def slack_router(bolt: AsyncApp, *, oauth: bool) -> APIRouter:
    handler = AsyncSlackRequestHandler(bolt)
    router = APIRouter(prefix="/slack", tags=["slack"], include_in_schema=False)

    @router.post("/events")
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    if oauth:
        @router.get("/install")
        async def slack_install(request: Request) -> Response:
            return await handler.handle(request)

        @router.get("/oauth_redirect")
        async def slack_oauth_redirect(request: Request) -> Response:
            return await handler.handle(request)

    return router
