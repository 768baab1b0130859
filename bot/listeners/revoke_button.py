"""The Revoke button (creator DMs and App Home): revoke, then refresh what was clicked."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import escape
from bot.context import SLACK_CLIENT, BotContext
from bot.listeners.app_home_opened import publish_home
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound

ACTION = "revoke_secret"


def register(app: AsyncApp, bot: BotContext) -> None:
    @app.action(ACTION)
    async def revoke_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                             client: AsyncWebClient) -> None:
        await ack()
        secret_id = str(body["actions"][0].get("value", ""))
        team_id, user_id = body.get("team", {}).get("id", ""), body["user"]["id"]
        principal = await bot.principal(client, team_id, user_id)
        problem = None
        if principal is None:
            problem = bot.sign_in_hint()
        else:
            try:
                await asyncio.to_thread(bot.services.manage.revoke_own, principal, secret_id,
                                        SLACK_CLIENT)
            except (AccessDenied, NotFound, Conflict, InvalidInput) as refusal:
                problem = refusal.message[:1].upper() + refusal.message[1:] + "."
        if body.get("view", {}).get("type") == "home":
            await publish_home(bot, client, team_id, user_id)
        else:
            # The DM shows the new state at once (else the notifier job does within seconds).
            await asyncio.to_thread(bot.notifier.deliver_now, secret_id)
        if problem is not None and body.get("response_url"):
            await respond(text=f":no_entry: {escape(problem)}", response_type="ephemeral",
                          replace_original=False)
