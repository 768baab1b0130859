"""``cipherslip slack-socket``: the Slack app over Socket Mode, for development.

Slack opens a WebSocket to us instead of posting to a public URL, so a laptop can run the
app without a tunnel. Same Bolt app, same listeners, same services as ``/slack/events``.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import create_bolt_app
from core.services.container import build_services
from core.settings import Settings


def socket_mode_problem(settings: Settings) -> str | None:
    if not settings.slack_app_token.startswith("xapp-"):
        return ("CIPHERSLIP_SLACK_APP_TOKEN must be an app-level token (xapp-…) with "
                "connections:write")
    if not settings.slack_signing_secret or not settings.slack_bot_token:
        return ("Socket Mode serves one workspace: set CIPHERSLIP_SLACK_BOT_TOKEN and "
                "CIPHERSLIP_SLACK_SIGNING_SECRET")
    return None


def run_socket_mode(settings: Settings) -> int:
    problem = socket_mode_problem(settings)
    if problem is not None:
        print(f"cipherslip slack-socket: {problem}", file=sys.stderr)
        return 2
    services = build_services(settings)

    async def serve() -> None:
        bolt = create_bolt_app(settings, services)
        async with aiohttp.ClientSession() as slack_session:
            bolt.client.session = slack_session
            handler = AsyncSocketModeHandler(bolt, settings.slack_app_token)
            await handler.start_async()  # type: ignore[no-untyped-call]

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0
