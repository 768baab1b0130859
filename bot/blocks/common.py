"""Small Block Kit pieces shared by every message and view the bot builds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.clock import as_utc
from core.services.states import SecretStatus

Block = dict[str, Any]

STATUS_WORDS: dict[str, str] = {
    SecretStatus.ACTIVE: "Active", SecretStatus.PENDING: "Not uploaded yet",
    SecretStatus.EXPIRED: "Expired", SecretStatus.BURNED: "Burned (view limit reached)",
    SecretStatus.REVOKED: "Revoked",
}
AUDIENCE_WORDS = {"internal": "Team members", "external": "External recipients"}
# Slack's limits on text it accepts (characters, after escaping): beyond them it refuses the
# whole message or view with invalid_blocks.
SECTION_TEXT_MAX = 3000
CONTEXT_TEXT_MAX = 2000
MESSAGE_TEXT_MAX = 4000
ELLIPSIS = "…"


def fit(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` characters, ending in an ellipsis when cut. Escaped
    text stays valid: the cut never splits an ``&amp;``-style entity or a ``<…>`` link."""
    if len(text) <= budget:
        return text
    cut = text[:max(0, budget - len(ELLIPSIS))]
    for opener, closer in (("&", ";"), ("<", ">")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    return cut + ELLIPSIS


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as markup: labels are shown as typed, never as links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(moment: datetime) -> str:
    """A date Slack shows in each reader's own time zone (UTC as the fallback)."""
    moment = as_utc(moment)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def views_text(views_used: int, view_limit: int | None) -> str:
    if view_limit is None:
        return f"{views_used} view{'s' if views_used != 1 else ''}, no limit"
    left = max(0, view_limit - views_used)
    return f"{left} of {view_limit} view{'s' if view_limit != 1 else ''} left"


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


OPEN_ON_WEB_ACTION = "open_on_web"


def header(text: str) -> Block:
    return {"type": "header", "text": plain(fit(text, 150))}


def open_button(base_url: str, secret_id: str) -> dict[str, Any]:
    """The secret's own page on the web: its activity, and everything Slack cannot show."""
    return {"type": "button", "action_id": OPEN_ON_WEB_ACTION, "text": plain("Open"),
            "url": f"{base_url}/secrets/{secret_id}", "value": secret_id}


def secret_actions(base_url: str, secret_id: str, share_code: str, *, active: bool) -> Block:
    elements = [open_button(base_url, secret_id)]
    if active:
        elements.append(revoke_button(secret_id, share_code))
    return {"type": "actions", "block_id": f"actions_{secret_id}", "elements": elements}


def revoke_button(secret_id: str, share_code: str) -> dict[str, Any]:
    return {
        "type": "button", "action_id": "revoke_secret", "value": secret_id,
        "text": plain("Revoke"), "style": "danger",
        "confirm": {
            "title": plain("Revoke this secret?"),
            "text": {"type": "mrkdwn",
                     "text": f"`{share_code}` stops working for everyone, and its content is "
                             "destroyed. This cannot be undone."},
            "confirm": plain("Revoke"), "deny": plain("Keep it"), "style": "danger",
        },
    }
