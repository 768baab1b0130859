"""The ``/secrets request`` form's submission: acknowledged at once with "Preparing…", then the
people looked up, the options saved as a request draft (checked by the request's rules) and
the form turned into the button to the request page — or back into the form, with the
problem under its field."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import request_modal as modal
from bot.context import SlackUser, bot_of
from bot.listeners.share_secret_submission import lookup_all
from core.errors import InvalidInput
from core.refusals import field_note
from core.services.drafts import DraftOwner
from core.services.request_rules import NewRequest

log = logging.getLogger(__name__)
FIELD_BLOCKS = {"responders": modal.USERS, "label": modal.LABEL,
                "expected_format": modal.FORMAT, "open_for_seconds": modal.OPEN_FOR,
                "expires_in_seconds": modal.EXPIRY, "view_limit": modal.VIEW_LIMIT}


def _emails(submission: modal.Submission, requester: SlackUser | None,
            asked: list[SlackUser | None]) -> tuple[str, list[str]]:
    """The requester's address and those of the people asked, or why not."""
    if requester is None or requester.email is None:
        raise InvalidInput("Your Slack account has no confirmed email address, so Cipherslip "
                           "cannot tell who you are on the web.", field="responders")
    if submission.emails:
        return requester.email, submission.emails
    emails = [person.email for person in asked if person is not None and person.email]
    if len(emails) != len(submission.user_ids):
        raise InvalidInput("Some of the people chosen have no confirmed email address (bots "
                           "and guests without one cannot be asked).", field="responders")
    return requester.email, emails


async def submit_request(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext) -> None:
    submission, errors = modal.read_submission(body["view"])
    if submission is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="update", view=modal.preparing_view())
    bot = bot_of(context)
    user_id = body["user"]["id"]
    team_id = body.get("team", {}).get("id") or body["user"].get("team_id", "")
    view: dict[str, Any]
    draft_token = None
    try:
        requester, *asked = await lookup_all(bot, client, [user_id, *submission.user_ids])
        requester_email, emails = _emails(submission, requester, asked)
        owner = DraftOwner(bot.tenant_id(team_id), requester_email, team_id, user_id)
        draft = await asyncio.to_thread(bot.services.requests.draft, owner, NewRequest(
            audience=submission.audience, responders=emails, label=submission.label,
            expected_format=submission.expected_format,
            open_for_seconds=submission.open_for_seconds,
            answer_expires_in_seconds=submission.answer_expires_in_seconds,
            answer_view_limit=submission.answer_view_limit))
        draft_token = draft.token
        view = modal.handoff_view(
            f"{bot.settings.base_url}/requests/new?draft={draft.token}", len(emails))
    except InvalidInput as problem:
        block = FIELD_BLOCKS.get(problem.field or "", modal.USERS)
        if submission.emails and block == modal.USERS:
            block = modal.EMAILS
        view = modal.request_modal(submitted=submission, errors={block: field_note(problem)})
    except SlackApiError as error:
        view = modal.request_modal(submitted=submission, errors={
            modal.USERS: f"Slack did not answer ({error.response.get('error')}); try again "
                         "in a minute."})
    try:
        await client.views_update(view_id=body["view"]["id"], view=view)
    except SlackApiError as error:
        log.warning("views.update failed after a request submission: %s",
                    error.response.get("error"))
        if draft_token is not None:  # nobody saw the button: no draft may stay
            await asyncio.to_thread(bot.services.drafts.discard, draft_token)


VIEW = modal.CALLBACK_ID


def register(app: AsyncApp) -> None:
    app.view(modal.CALLBACK_ID)(submit_request)
