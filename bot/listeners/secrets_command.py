"""`/secrets list | revoke <code> | audit [filter] | request | help`, answered privately to
the caller (``request`` opens the form to ask for a secret).

Every subcommand acts as the caller's Cipherslip user (matched by confirmed email) through
the same services as the web: role checks and audit events are the web's own.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.audit import AUDIT_SHOWN, DEFAULT_FILTER, audit_message
from bot.blocks.common import MESSAGE_TEXT_MAX, escape, fit, section
from bot.blocks.request_modal import request_modal
from bot.blocks.secrets import HELP, help_blocks, list_message
from bot.context import SLACK_CLIENT, BotContext, bot_of
from core.errors import AccessDenied, Conflict, InvalidInput, NotFound
from core.refusals import sentence
from core.services import audit
from core.services.identity import Principal

log = logging.getLogger(__name__)

COMMAND = "/secrets"
SUBCOMMANDS = ("list", "revoke", "audit", "request", "help")


async def _run(bot: BotContext, principal: Principal, subcommand: str,
               argument: str) -> tuple[str, list[dict[str, Any]]]:
    services, base_url = bot.services, bot.settings.base_url
    if subcommand == "list":
        secrets = await asyncio.to_thread(services.manage.list_own, principal, "all")
        return list_message(secrets, base_url)
    if subcommand == "revoke":
        if not argument:
            return "Usage", [section("Usage: `/secrets revoke XXXX-XXXX-XXXX`")]
        activity = await asyncio.to_thread(services.manage.revoke_by_code, principal, argument,
                                           SLACK_CLIENT)
        how = "as a super admin" if activity == audit.REVOKED_ADMIN else "yours"
        text = f"Revoked `{escape(argument.upper())}` ({how}): its content is destroyed."
        return text, [section(text)]
    # audit: super admins only; a refusal is itself audited by require_admin.
    await asyncio.to_thread(services.admin.require_admin, principal, SLACK_CLIENT)
    filter_text = argument or DEFAULT_FILTER
    page = await asyncio.to_thread(services.admin.audit_page, principal,
                                   filter_text=filter_text, limit=AUDIT_SHOWN)
    return audit_message(page.events, filter_text, base_url, page.next_before is not None)


async def secrets_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    bot = bot_of(context)
    subcommand, _, argument = (body.get("text") or "").strip().partition(" ")
    subcommand, argument = subcommand.lower(), argument.strip()
    if subcommand == "request":
        # A form, as /share-secret's: Slack gives a trigger for it only now.
        await client.views_open(trigger_id=body["trigger_id"], view=request_modal())
        return
    if subcommand not in SUBCOMMANDS or subcommand == "help":
        unknown = subcommand if subcommand not in ("", "help") else None
        await respond(text=HELP, blocks=help_blocks(unknown), response_type="ephemeral")
        return
    principal = await bot.principal(client, body.get("team_id", ""), body["user_id"])
    if principal is None:
        await respond(text=bot.sign_in_hint(), response_type="ephemeral")
        return
    try:
        text, blocks = await _run(bot, principal, subcommand, argument)
    except (AccessDenied, NotFound, Conflict, InvalidInput) as refusal:
        text = sentence(refusal)
        blocks = [section(f":no_entry: {escape(text)}")]
    web_page = "/admin/audit" if subcommand == "audit" else "/secrets"
    await respond_or_say_so(respond, text, blocks, bot.settings.base_url + web_page)


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(secrets_command)


async def respond_or_say_so(respond: AsyncRespond, text: str, blocks: list[dict[str, Any]],
                            web_url: str) -> None:
    """Answer with ``blocks``; if Slack refuses them, with a short text saying so and where
    to look instead, so that whoever asked is never left with nothing."""
    answer = await respond(text=fit(text, MESSAGE_TEXT_MAX), blocks=blocks,
                           response_type="ephemeral")
    if answer.status_code == HTTPStatus.OK:
        return
    log.error("Slack refused a /secrets answer: HTTP %s %s", answer.status_code,
              fit(answer.body or "", 200))
    await respond(text=f"Slack could not show this answer; see {web_url} instead.",
                  response_type="ephemeral")
