"""The Revoke button (creator DMs and App Home): revoke, then refresh what was clicked."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import escape
from bot.context import SLACK_CLIENT, bot_of
from bot.listeners.app_home_opened import publish_home
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.refusals import sentence

ACTION = "revoke_secret"


async def revoke_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    bot = bot_of(context)
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
            problem = sentence(refusal)
    if body.get("view", {}).get("type") == "home":
        await publish_home(bot, client, team_id, user_id)
    else:
        # The DM shows the new state at once (else the notifier job does within seconds).
        await asyncio.to_thread(bot.notifier.deliver_now, secret_id)
    if problem is not None and body.get("response_url"):
        await respond(text=f":no_entry: {escape(problem)}", response_type="ephemeral",
                      replace_original=False)


def register(app: AsyncApp) -> None:
    app.action(ACTION)(revoke_clicked)
