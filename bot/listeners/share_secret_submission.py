"""The modal's submission: check its shape, acknowledge at once with a "Preparing…" view,
then look the chosen people up, save a draft and turn the modal into the button to the
encryption page (or back into the form, with the problems under their fields).

Slack drops an acknowledgement that takes over 3 seconds, and 128 ``users.info`` lookups take
longer than that; so only the checks that need no network happen before the ack.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import share_modal as modal
from bot.context import BotContext, SlackUser, bot_of
from core.errors import InvalidInput
from core.refusals import field_note
from core.services.drafts import DraftOptions, DraftOwner

log = logging.getLogger(__name__)

VIEW = modal.CALLBACK_ID
# users.info is a Tier 4 method; 16 at a time keeps a 128-person modal within seconds, and
# the client waits out a 429's Retry-After (see bot.app).
LOOKUPS_IN_FLIGHT = 16
NAMES_SHOWN = 5
# Where the draft service's complaints go in the modal.
FIELD_BLOCKS = {"audience": modal.AUDIENCE, "format": modal.FORMAT, "label": modal.LABEL,
                "expires_in_seconds": modal.EXPIRY, "view_limit": modal.VIEW_LIMIT}


@dataclass(frozen=True)
class Prepared:
    page_url: str
    draft_token: str
    recipients: int


async def lookup_all(bot: BotContext, client: AsyncWebClient,
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


def _named(user_ids: list[str], found: list[SlackUser | None]) -> str:
    """People by name (Slack shows ``<@U…>`` literally in a modal's text)."""
    names = [person.name if person else f"an unknown user ({user_id})"
             for user_id, person in zip(user_ids, found, strict=True)]
    more = len(names) - NAMES_SHOWN
    return ", ".join(names[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")


async def _prepare(bot: BotContext, client: AsyncWebClient, body: dict[str, Any],
                   submission: modal.Submission) -> Prepared | dict[str, str]:
    """The draft behind the hand-off button, or the errors to show, by block id."""
    recipients_block = modal.recipients_block(body["view"])
    user_id = body["user"]["id"]
    team_id = body.get("team", {}).get("id") or body["user"].get("team_id", "")
    try:
        creator, *recipients = await lookup_all(bot, client, [user_id, *submission.user_ids])
    except SlackApiError as error:
        return {recipients_block: f"Slack did not answer ({error.response.get('error')}); "
                                  "try again in a minute."}
    if creator is None or creator.email is None:
        return {modal.AUDIENCE: "Your Slack account has no confirmed email address, so "
                                "Cipherslip cannot tell who you are on the web. Ask your Slack "
                                "admin."}
    emails = submission.emails
    if submission.audience == "internal":
        unusable = [(uid, found) for uid, found in zip(submission.user_ids, recipients,
                                                         strict=True)
                    if found is None or found.email is None]
        if unusable:
            ids, people = [uid for uid, _ in unusable], [found for _, found in unusable]
            return {recipients_block: f"No confirmed email address for {_named(ids, people)} "
                                      "(bots and guests without one cannot receive secrets)."}
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
        return {block: field_note(problem)}
    return Prepared(f"{bot.settings.base_url}/new?draft={draft.token}", draft.token,
                    len(options.recipients))


async def submit_share(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                       context: AsyncBoltContext) -> None:
    # The ack answers what can be checked without the network, within Slack's 3 seconds.
    submission, errors = modal.read_submission(body["view"])
    if submission is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="update", view=modal.preparing_view(submission))
    bot = bot_of(context)
    view_id = body["view"]["id"]
    prepared = await _prepare(bot, client, body, submission)
    if isinstance(prepared, dict):
        view = modal.share_modal(submission.audience, submitted=submission, errors=prepared)
    else:
        view = modal.handoff_view(prepared.page_url, submission, prepared.recipients)
    try:
        # No hash: the view's current one came from our own ack, which Slack does not
        # return, and nothing else updates this view meanwhile.
        await client.views_update(view_id=view_id, view=view)
    except SlackApiError as error:
        # Closed meanwhile, or refused: nobody saw the button, so no draft may stay.
        log.warning("views.update failed after a share submission: %s",
                    error.response.get("error"))
        if not isinstance(prepared, dict):
            await asyncio.to_thread(bot.services.drafts.discard, prepared.draft_token)


def register(app: AsyncApp) -> None:
    app.view(VIEW)(submit_share)
