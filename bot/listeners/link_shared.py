"""Unfurls of share links: label, creator, expiry, views left and status.

Slack hands us the whole URL, link key included. Everything we do with it (parsing, the
lookup) uses the URL with its fragment cut off; the URL as Slack sent it is only echoed back
to Slack, which already holds it, as the key ``chat.unfurl`` requires, and is never logged or
stored. In a channel shared with another organization (Slack Connect) the unfurl shows
status and expiry only. ``CIPHERSLIP_SLACK_UNFURLS=false`` turns all of this off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.unfurl import unfurl_blocks, without_fragment
from bot.context import bot_of
from core.services.locations import share_code_of

EVENT = "link_shared"
log = logging.getLogger(__name__)


def unfurl_target(event: dict[str, Any]) -> dict[str, Any]:
    """Where the unfurl goes: a composer preview by ``unfurl_id`` and ``source`` whenever the
    event has them, else the posted message by channel and timestamp."""
    if event.get("unfurl_id") and event.get("source"):
        return {"unfurl_id": event["unfurl_id"], "source": event["source"]}
    return {"channel": event["channel"], "ts": event["message_ts"]}


async def unfurl_share_links(event: dict[str, Any], body: dict[str, Any],
                             client: AsyncWebClient, context: AsyncBoltContext) -> None:
    bot = bot_of(context)
    if not bot.settings.slack_unfurls:
        return
    tenant_id = bot.tenant_id(body.get("team_id", ""))
    shared_externally = bool(body.get("is_ext_shared_channel"))
    unfurls: dict[str, Any] = {}
    for link in event.get("links", []):
        as_sent = str(link.get("url", ""))
        code = share_code_of(without_fragment(as_sent), bot.settings.base_url)
        if code is None:
            continue
        preview = await asyncio.to_thread(bot.services.link_previews.find, tenant_id, code)
        unfurls[as_sent] = unfurl_blocks(preview, shared_externally=shared_externally)
    if not unfurls:
        return
    try:
        await client.chat_unfurl(unfurls=unfurls, **unfurl_target(event))
    except SlackApiError as error:
        log.warning("chat.unfurl failed: %s", error.response.get("error"))


def register(app: AsyncApp) -> None:
    app.event(EVENT)(unfurl_share_links)
