"""**Open** buttons link to a secret's page on the web; Slack still expects an ack."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.common import OPEN_ON_WEB_ACTION
from bot.context import BotContext

ACTION = OPEN_ON_WEB_ACTION


def register(app: AsyncApp, bot: BotContext) -> None:
    @app.action(ACTION)
    async def acknowledge_open_on_web(ack: AsyncAck) -> None:
        await ack()
