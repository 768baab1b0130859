"""The hand-off button opens the page in the browser; Slack still expects an ack."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.share_modal import OPEN_PAGE_ACTION

ACTION = OPEN_PAGE_ACTION


async def acknowledge_open(ack: AsyncAck) -> None:
    await ack()


def register(app: AsyncApp) -> None:
    app.action(ACTION)(acknowledge_open)
