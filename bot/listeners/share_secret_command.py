"""`/share-secret`: open the modal (no content is ever asked for in Slack)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.share_modal import share_modal

COMMAND = "/share-secret"


async def open_share_modal(ack: AsyncAck, body: dict[str, Any],
                           client: AsyncWebClient) -> None:
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=share_modal())


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(open_share_modal)
