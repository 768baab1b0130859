"""Unfurls of share links: label, creator, expiry, views left and status.

Slack hands us the full URL, link key included. The fragment is cut off first, before the
URL is parsed, looked up, logged or sent anywhere, and the unfurl is keyed by the URL
without it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.unfurl import share_code_of, unfurl_blocks, without_fragment
from bot.context import BotContext

EVENT = "link_shared"
log = logging.getLogger(__name__)


def register(app: AsyncApp, bot: BotContext) -> None:
    @app.event(EVENT)
    async def unfurl_share_links(event: dict[str, Any], body: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        urls = [without_fragment(str(link.get("url", ""))) for link in event.get("links", [])]
        tenant_id = bot.tenant_id(body.get("team_id", ""))
        unfurls: dict[str, Any] = {}
        for url in urls:
            code = share_code_of(url, bot.settings.base_url)
            if code is None:
                continue
            preview = await asyncio.to_thread(bot.services.link_previews.find, tenant_id, code)
            unfurls[url] = unfurl_blocks(preview)
        if not unfurls:
            return
        target: dict[str, Any] = (
            {"unfurl_id": event["unfurl_id"], "source": event.get("source", "composer")}
            if event.get("unfurl_id") and not event.get("message_ts")
            else {"channel": event["channel"], "ts": event["message_ts"]}
        )
        try:
            await client.chat_unfurl(unfurls=unfurls, **target)
        except SlackApiError as error:
            log.warning("chat.unfurl failed: %s", error.response.get("error"))
