"""App Home: the user's active secrets, each with a Revoke button."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.secrets import home_view
from bot.context import BotContext, bot_of

EVENT = "app_home_opened"


async def publish_home(bot: BotContext, client: AsyncWebClient, team_id: str,
                       user_id: str) -> None:
    principal = await bot.principal(client, team_id, user_id)
    secrets = None
    if principal is not None:
        secrets = await asyncio.to_thread(bot.services.manage.list_own, principal, "active")
    await client.views_publish(user_id=user_id,
                               view=home_view(secrets, bot.settings.base_url, bot.sign_in_hint()))


async def home_opened(event: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, context: AsyncBoltContext) -> None:
    bot = bot_of(context)
    # Events are acknowledged by Bolt before this runs.
    if event.get("tab", "home") != "home":
        return
    await publish_home(bot, client, body.get("team_id", ""), event["user"])


def register(app: AsyncApp) -> None:
    app.event(EVENT)(home_opened)
