"""The modal's audience choice: team members pick Slack users, external ones type emails."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.share_modal import AUDIENCE_ACTION, share_modal

ACTION = AUDIENCE_ACTION


async def switch_audience(ack: AsyncAck, body: dict[str, Any],
                          client: AsyncWebClient) -> None:
    await ack()
    chosen = (body.get("actions") or [{}])[0].get("selected_option") or {}
    audience = "external" if chosen.get("value") == "external" else "internal"
    view = body["view"]
    # The hash makes Slack refuse the update if the user changed the modal meanwhile.
    await client.views_update(view_id=view["id"], hash=view.get("hash"),
                              view=share_modal(audience))


def register(app: AsyncApp) -> None:
    app.action(ACTION)(switch_audience)
