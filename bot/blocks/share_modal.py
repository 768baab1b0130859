"""The /share-secret modal: building it, reading a submission, and the hand-off view.

There is deliberately no field for the content: it is typed into the encryption page,
never into Slack. Block ids double as the keys of ``response_action=errors``; errors found
after the acknowledgement (looking people up takes longer than Slack's 3 seconds) come back
with ``views.update``, as a note under the field, with the form filled in as submitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks.common import Block, context, plain, section
from bot.blocks.forms import input_block, note_under, option, option_for, selected, value_of
from core.errors import InvalidInput
from core.services import policy

CALLBACK_ID = "share_secret"
PREPARING_ID = "share_secret_preparing"
AUDIENCE_ACTION = "audience"
OPEN_PAGE_ACTION = "open_encryption_page"

AUDIENCE, USERS, EMAILS = "audience", "users", "emails"
FORMAT, LABEL, EXPIRY, VIEW_LIMIT = "format", "label", "expiry", "view_limit"

FORMAT_CHOICES = [("text", "Text"), ("json", "JSON"), ("yaml", "YAML"),
                  ("env", "Env (KEY=value lines)"), ("file", "File (up to 1 GiB)")]
DEFAULT_EXPIRY = 86400






def share_modal(
    audience: str = "internal", *, submitted: Submission | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The form; with ``submitted``, filled in as it was sent, and ``errors`` shown under
    their fields (block ids)."""
    audiences = [option("internal", "Team members (sign in with SSO)"),
                 option("external", "External recipients (by email)")]
    chosen = audiences[0] if audience == "internal" else audiences[1]
    if audience == "internal":
        users: dict[str, Any] = {
            "type": "multi_users_select", "placeholder": plain("Choose people"),
            "max_selected_items": policy.INTERNAL_RECIPIENTS_MAX,
        }
        if submitted is not None and submitted.user_ids:
            users["initial_users"] = submitted.user_ids
        recipients = input_block(USERS, "Recipients", users,
                            hint=f"1 to {policy.INTERNAL_RECIPIENTS_MAX} people in your "
                                 "organization")
    else:
        addresses: dict[str, Any] = {
            "type": "plain_text_input", "multiline": True,
            "placeholder": plain("ana@partner.com, ben@vendor.io"),
        }
        if submitted is not None and submitted.emails:
            addresses["initial_value"] = "\n".join(submitted.emails)
        recipients = input_block(EMAILS, "Email addresses", addresses,
                            hint=f"1 to {policy.EXTERNAL_RECIPIENTS_MAX} addresses, separated by "
                                 "commas or new lines; each confirms their address with a "
                                 "one-time link")
    formats = [option(value, text) for value, text in FORMAT_CHOICES]
    expiries = [option(str(seconds), text) for seconds, text in policy.EXPIRY_CHOICES]
    chosen_format = submitted.format if submitted else "text"
    chosen_expiry = str(submitted.expires_in_seconds if submitted else DEFAULT_EXPIRY)
    label: dict[str, Any] = {"type": "plain_text_input", "max_length": policy.LABEL_MAX_CHARS,
                             "placeholder": plain("e.g. Staging database password")}
    if submitted is not None and submitted.label:
        label["initial_value"] = submitted.label
    view_limit: dict[str, Any] = {
        "type": "number_input", "is_decimal_allowed": False, "min_value": "1",
        "max_value": str(policy.VIEW_LIMIT_MAX),
    }
    if submitted is None or submitted.view_limit is not None:
        view_limit["initial_value"] = str(submitted.view_limit if submitted else 1)
    blocks: list[Block] = [
        section("You choose who and how long here; the content goes into an encryption page "
                "in your browser, never into Slack."),
        input_block(AUDIENCE, "Audience", {
            "type": "radio_buttons", "options": audiences, "initial_option": chosen,
        }, dispatch=True),
        recipients,
        input_block(FORMAT, "Format", {"type": "static_select", "options": formats,
                                  "initial_option": option_for(formats, chosen_format)}),
        input_block(LABEL, "Label", label, optional=True,
               hint="Shown to recipients before they open it"),
        input_block(EXPIRY, "Expires after", {"type": "static_select", "options": expiries,
                                         "initial_option": option_for(expiries, chosen_expiry)}),
        input_block(VIEW_LIMIT, "View limit", view_limit, optional=True,
               hint=f"1 to {policy.VIEW_LIMIT_MAX:,}; leave empty for unlimited"),
    ]
    for block_id, message in (errors or {}).items():
        note_under(blocks, block_id, message)
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "title": plain("Share a secret"),
        "submit": plain("Continue"), "close": plain("Cancel"), "blocks": blocks,
        "private_metadata": audience,
    }






def recipients_block(view: dict[str, Any]) -> str:
    """The recipients field this view actually holds (errors must name a block in it)."""
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    if USERS in values:
        return USERS
    if EMAILS in values:
        return EMAILS
    return USERS if (view.get("private_metadata") or "internal") == "internal" else EMAILS


def preparing_view(submission: Submission) -> dict[str, Any]:
    """Shown at once while people are looked up: Slack wants its answer within 3 seconds."""
    who = (f"{len(submission.user_ids)} {'person' if len(submission.user_ids) == 1 else 'people'}"
           if submission.audience == "internal" else
           f"{len(submission.emails)} address{'es' if len(submission.emails) != 1 else ''}")
    return {
        "type": "modal", "callback_id": PREPARING_ID, "title": plain("Share a secret"),
        "close": plain("Cancel"),
        "blocks": [section(f":hourglass_flowing_sand: *Preparing…* Checking {who}; this takes "
                           "a few seconds.")],
    }


@dataclass(frozen=True)
class Submission:
    """What the modal holds, checked only for shape (the draft service checks the rules)."""

    audience: str
    user_ids: list[str]
    emails: list[str]
    format: str
    label: str | None
    expires_in_seconds: int
    view_limit: int | None






def read_submission(view: dict[str, Any]) -> tuple[Submission | None, dict[str, str]]:
    """The submission, or the errors to show, keyed by block id."""
    values: dict[str, Any] = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    audience = selected(values, AUDIENCE) or view.get("private_metadata") or "internal"
    if audience not in policy.RECIPIENTS_MAX:
        errors[AUDIENCE] = "Choose Team members or External recipients."
    holds = recipients_block(view)
    if (audience == "internal") != (holds == USERS):
        # The audience changed but the form had not switched its recipients field yet.
        return None, {AUDIENCE: "The form did not switch its recipients field in time: choose "
                                "the audience again, then add the recipients."}
    user_ids = [str(user) for user in value_of(values, USERS).get("selected_users") or []]
    emails = policy.split_email_list(value_of(values, EMAILS).get("value") or "")
    if audience == "internal" and USERS in values and not user_ids:
        errors[USERS] = "Choose at least one person."
    if audience == "internal" and len(user_ids) > policy.INTERNAL_RECIPIENTS_MAX:
        errors[USERS] = f"At most {policy.INTERNAL_RECIPIENTS_MAX} people per secret."
    if audience == "external":
        errors.update(_email_errors(emails))
    format_ = selected(values, FORMAT) or "text"
    label = (value_of(values, LABEL).get("value") or "").strip() or None
    if label is not None and len(label) > policy.LABEL_MAX_CHARS:
        errors[LABEL] = f"At most {policy.LABEL_MAX_CHARS} characters (this one has {len(label)})."
    expiry_text = selected(values, EXPIRY) or str(DEFAULT_EXPIRY)
    expires_in = int(expiry_text) if expiry_text.isdigit() else 0
    if not policy.EXPIRY_MIN.total_seconds() <= expires_in <= policy.EXPIRY_MAX.total_seconds():
        errors[EXPIRY] = "Choose between 1 hour and 30 days."
    view_limit: int | None = None
    limit_text = (value_of(values, VIEW_LIMIT).get("value") or "").strip()
    if limit_text:
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= policy.VIEW_LIMIT_MAX:
            errors[VIEW_LIMIT] = (f"A whole number from 1 to {policy.VIEW_LIMIT_MAX:,}, or empty "
                                  "for unlimited.")
        else:
            view_limit = int(limit_text)
    if errors:
        return None, errors
    return Submission(audience, user_ids, emails, format_, label, expires_in, view_limit), {}


def _email_errors(emails: list[str]) -> dict[str, str]:
    if not emails:
        return {EMAILS: "Add at least one email address."}
    invalid = []
    for email in emails:
        try:
            policy.normalize_email(email)
        except InvalidInput:
            invalid.append(email)
    if invalid:
        shown = ", ".join(f"“{email[:60]}”" for email in invalid[:5])
        return {EMAILS: f"Not email addresses: {shown}"}
    if len({email.lower() for email in emails}) > policy.EXTERNAL_RECIPIENTS_MAX:
        return {EMAILS: f"At most {policy.EXTERNAL_RECIPIENTS_MAX} addresses per secret."}
    return {}


def handoff_view(page_url: str, submission: Submission, recipients: int) -> dict[str, Any]:
    """The modal after a valid submission: one button to the encryption page."""
    who = "people" if submission.audience == "internal" else "email addresses"
    return {
        "type": "modal", "callback_id": "share_secret_handoff", "title": plain("Share a secret"),
        "close": plain("Done"),
        "blocks": [
            section(f"*Almost there.* Your options are saved for {recipients} {who}. Open the "
                    "encryption page, add the content there, and share the link it gives you."),
            {"type": "actions", "block_id": "handoff", "elements": [{
                "type": "button", "action_id": OPEN_PAGE_ACTION, "style": "primary",
                "text": plain("Open encryption page"), "url": page_url,
            }]},
            context("The page asks you to sign in as yourself. This button works once, for "
                    "30 minutes."),
        ],
    }
