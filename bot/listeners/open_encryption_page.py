"""The hand-off button opens the page in the browser; Slack still expects an ack."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.share_modal import OPEN_PAGE_ACTION
from bot.context import BotContext

ACTION = OPEN_PAGE_ACTION


def register(app: AsyncApp, bot: BotContext) -> None:
    @app.action(ACTION)
    async def acknowledge_open(ack: AsyncAck) -> None:
        await ack()
