"""App Home's **Share a secret** button: the same modal as ``/share-secret``."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.secrets import SHARE_FROM_HOME_ACTION
from bot.blocks.share_modal import share_modal

ACTION = SHARE_FROM_HOME_ACTION


async def open_share_modal_from_home(ack: AsyncAck, body: dict[str, Any],
                                     client: AsyncWebClient) -> None:
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=share_modal())


def register(app: AsyncApp) -> None:
    app.action(ACTION)(open_share_modal_from_home)
