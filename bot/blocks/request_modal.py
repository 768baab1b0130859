"""The ``/secrets request`` modal: whom to ask and for what; then the hand-off to the web page
that makes the request's key (Slack never holds it, nor any answer).

Block ids double as the keys of ``response_action=errors``; a problem found after the
acknowledgement (looking people up) comes back with ``views.update`` under its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks.common import Block, context, plain, section
from bot.blocks.forms import input_block, note_under, option, option_for, selected, value_of
from bot.blocks.share_modal import FORMAT_CHOICES, OPEN_PAGE_ACTION
from core.errors import InvalidInput
from core.services import policy, request_rules

CALLBACK_ID = "request_secret"
PREPARING_ID = "request_secret_preparing"
USERS, EMAILS, LABEL, FORMAT = "users", "emails", "label", "format"
OPEN_FOR, EXPIRY, VIEW_LIMIT = "open_for", "expiry", "view_limit"
OPEN_FOR_CHOICES = [(3600, "1 hour"), (6 * 3600, "6 hours"), (86400, "1 day"),
                    (3 * 86400, "3 days"), (7 * 86400, "7 days")]
DEFAULT_SECONDS = 86400


@dataclass(frozen=True)
class Submission:
    user_ids: list[str]
    emails: list[str]
    label: str | None
    expected_format: str | None
    open_for_seconds: int
    answer_expires_in_seconds: int
    answer_view_limit: int | None

    @property
    def audience(self) -> str:
        return "internal" if self.user_ids else "external"


def request_modal(*, submitted: Submission | None = None,
                  errors: dict[str, str] | None = None) -> dict[str, Any]:
    users: dict[str, Any] = {"type": "multi_users_select", "placeholder": plain("Choose people"),
                             "max_selected_items": request_rules.RESPONDERS_MAX}
    if submitted is not None and submitted.user_ids:
        users["initial_users"] = submitted.user_ids
    emails: dict[str, Any] = {"type": "plain_text_input", "multiline": True,
                              "placeholder": plain("ana@partner.com, ben@vendor.io")}
    if submitted is not None and submitted.emails:
        emails["initial_value"] = "\n".join(submitted.emails)
    label: dict[str, Any] = {"type": "plain_text_input", "multiline": True,
                             "max_length": request_rules.INSTRUCTIONS_MAX_CHARS,
                             "placeholder": plain("e.g. the staging database password")}
    if submitted is not None and submitted.label:
        label["initial_value"] = submitted.label
    formats = [option("any", "Any"), *(option(value, text) for value, text in FORMAT_CHOICES)]
    open_for = [option(str(seconds), text) for seconds, text in OPEN_FOR_CHOICES]
    expiries = [option(str(seconds), text) for seconds, text in policy.EXPIRY_CHOICES]
    views: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": False,
                             "min_value": "1", "max_value": str(policy.VIEW_LIMIT_MAX),
                             "initial_value": str((submitted.answer_view_limit or 1)
                                                  if submitted else 1)}
    blocks: list[Block] = [
        section("Ask for a password, a key or a file. You choose whom and for what here; the "
                "request's key is made in your browser, and the answer never passes through "
                "Slack."),
        input_block(USERS, "Colleagues to ask", users, optional=True,
               hint=f"Up to {request_rules.RESPONDERS_MAX} people; or email addresses below"),
        input_block(EMAILS, "Or external email addresses", emails, optional=True,
               hint="They confirm their address with a one-time link"),
        input_block(LABEL, "What you need", label, optional=True, hint="Shown to them"),
        input_block(FORMAT, "Format", {"type": "static_select", "options": formats,
                                  "initial_option": option_for(formats, (
                                      submitted.expected_format or "any") if submitted
                                      else "any")}),
        input_block(OPEN_FOR, "Open for", {"type": "static_select", "options": open_for,
                                      "initial_option": option_for(open_for, str(
                                          submitted.open_for_seconds if submitted
                                          else DEFAULT_SECONDS))}),
        input_block(EXPIRY, "The answer expires after", {
            "type": "static_select", "options": expiries,
            "initial_option": option_for(expiries, str(
                submitted.answer_expires_in_seconds if submitted else DEFAULT_SECONDS))}),
        input_block(VIEW_LIMIT, "Views of the answer", views),
    ]
    for block_id, message in (errors or {}).items():
        note_under(blocks, block_id, message)
    return {"type": "modal", "callback_id": CALLBACK_ID, "title": plain("Ask for a secret"),
            "submit": plain("Continue"), "close": plain("Cancel"), "blocks": blocks}


def read_submission(view: dict[str, Any]) -> tuple[Submission | None, dict[str, str]]:
    """The submission, or the errors to show by block id (the service checks the rules)."""
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    user_ids = [str(user) for user in value_of(values, USERS).get("selected_users") or []]
    emails = policy.split_email_list(value_of(values, EMAILS).get("value") or "")
    errors: dict[str, str] = {}
    if bool(user_ids) == bool(emails):
        errors[USERS] = ("Choose colleagues, or enter external email addresses (one kind "
                         "per request).")
    for email in emails:
        try:
            policy.normalize_email(email)
        except InvalidInput:
            errors[EMAILS] = f"Not an email address: “{email[:60]}”"
            break
    label = (value_of(values, LABEL).get("value") or "").strip() or None
    fmt = selected(values, FORMAT) or "any"
    limit_text = (value_of(values, VIEW_LIMIT).get("value") or "1").strip()
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= policy.VIEW_LIMIT_MAX:
        errors[VIEW_LIMIT] = f"A whole number from 1 to {policy.VIEW_LIMIT_MAX:,}."
    if errors:
        return None, errors
    return Submission(
        user_ids=user_ids, emails=emails, label=label,
        expected_format=None if fmt == "any" else fmt,
        open_for_seconds=int(selected(values, OPEN_FOR) or DEFAULT_SECONDS),
        answer_expires_in_seconds=int(selected(values, EXPIRY) or DEFAULT_SECONDS),
        answer_view_limit=int(limit_text)), {}


def preparing_view() -> dict[str, Any]:
    return {"type": "modal", "callback_id": PREPARING_ID, "title": plain("Ask for a secret"),
            "close": plain("Cancel"),
            "blocks": [section(":hourglass_flowing_sand: *Preparing…* Checking whom you ask; "
                               "this takes a few seconds.")]}


def handoff_view(page_url: str, asked: int) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": "request_secret_handoff",
        "title": plain("Ask for a secret"), "close": plain("Done"),
        "blocks": [
            section(f"*Almost there.* Your options are saved for {asked} "
                    f"{'person' if asked == 1 else 'people'}. Open the request page: it makes "
                    "the request's key and gives you the link to send them."),
            {"type": "actions", "block_id": "handoff", "elements": [{
                "type": "button", "action_id": OPEN_PAGE_ACTION, "style": "primary",
                "text": plain("Open request page"), "url": page_url,
            }]},
            context("The page asks you to sign in as yourself. This button works once, for "
                    "30 minutes."),
        ],
    }
