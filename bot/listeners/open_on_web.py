"""**Open** buttons link to a secret's page on the web; Slack still expects an ack."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.blocks.common import OPEN_ON_WEB_ACTION

ACTION = OPEN_ON_WEB_ACTION


async def acknowledge_open_on_web(ack: AsyncAck) -> None:
    await ack()


def register(app: AsyncApp) -> None:
    app.action(ACTION)(acknowledge_open_on_web)
