"""The modal's submission: check it, resolve the chosen people to emails, save a draft, and
turn the modal into the button to the encryption page.

This is the one listener that answers in its ack: Slack shows per-field errors and the
updated view only from the acknowledgement itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import share_modal as modal
from bot.context import BotContext, SlackUser
from core.errors import InvalidInput
from core.services.drafts import DraftOptions, DraftOwner

VIEW = modal.CALLBACK_ID
LOOKUPS_IN_FLIGHT = 8
# Where the draft service's complaints go in the modal.
FIELD_BLOCKS = {"audience": modal.AUDIENCE, "format": modal.FORMAT, "label": modal.LABEL,
                "expires_in_seconds": modal.EXPIRY, "view_limit": modal.VIEW_LIMIT}


async def _lookup_all(bot: BotContext, client: AsyncWebClient,
                      user_ids: list[str]) -> list[SlackUser | None]:
    gate = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)

    async def lookup(user_id: str) -> SlackUser | None:
        async with gate:
            try:
                return await bot.slack_user(client, user_id)
            except SlackApiError as error:
                if error.response.get("error") in ("user_not_found", "users_not_found"):
                    return None
                raise  # rate limits and outages are not "this person has no email"

    return list(await asyncio.gather(*(lookup(user_id) for user_id in user_ids)))


def register(app: AsyncApp, bot: BotContext) -> None:
    @app.view(VIEW)
    async def submit_share(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        submission, errors = modal.read_submission(body["view"])
        if submission is None:
            await ack(response_action="errors", errors=errors)
            return
        recipients_block = modal.USERS if submission.audience == "internal" else modal.EMAILS
        user_id, team_id = body["user"]["id"], body.get("team", {}).get("id") or body["user"].get(
            "team_id", "")
        try:
            creator, *recipients = await _lookup_all(bot, client,
                                                     [user_id, *submission.user_ids])
        except SlackApiError as error:
            await ack(response_action="errors", errors={recipients_block: (
                f"Slack did not answer ({error.response.get('error')}); try again in a "
                "minute.")})
            return
        if creator is None or creator.email is None:
            await ack(response_action="errors", errors={modal.AUDIENCE: (
                "Your Slack account has no confirmed email address, so Cipherslip cannot tell "
                "who you are on the web. Ask your Slack admin.")})
            return
        emails = submission.emails
        if submission.audience == "internal":
            unusable = [f"<@{uid}>" for uid, found in zip(submission.user_ids, recipients,
                                                            strict=True)
                        if found is None or found.email is None]
            if unusable:
                await ack(response_action="errors", errors={modal.USERS: (
                    "No confirmed email address for " + ", ".join(unusable[:5])
                    + " (bots and guests without one cannot receive secrets).")})
                return
            emails = [found.email for found in recipients if found and found.email]
        options = DraftOptions(
            audience=submission.audience, recipients=emails, format=submission.format,
            label=submission.label, expires_in_seconds=submission.expires_in_seconds,
            view_limit=submission.view_limit,
        )
        owner = DraftOwner(bot.tenant_id(team_id), creator.email, team_id, user_id)
        try:
            draft = await asyncio.to_thread(bot.services.drafts.create, owner, options)
        except InvalidInput as problem:
            block = FIELD_BLOCKS.get(problem.field or "", recipients_block)
            await ack(response_action="errors", errors={block: problem.message[:1].upper()
                                                        + problem.message[1:]})
            return
        page_url = f"{bot.settings.base_url}/new?draft={draft.token}"
        await ack(response_action="update",
                  view=modal.handoff_view(page_url, submission, len(options.recipients)))
