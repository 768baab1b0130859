"""The creator's DM about one secret: what it is, who opened it, and what is left."""

from __future__ import annotations

from bot.blocks.common import (
    AUDIENCE_WORDS,
    STATUS_WORDS,
    Block,
    context,
    escape,
    revoke_button,
    section,
    views_text,
    when,
)
from core.services.notice_state import NoticeState
from core.services.states import FILE


def notice_text(state: NoticeState) -> str:
    """The notification's plain text (what phones and screen readers show)."""
    name = f"“{escape(state.label)}”" if state.label else state.share_code
    status = STATUS_WORDS.get(state.status, state.status)
    if state.status == "active" and state.opens:
        latest = escape(state.opens[0].email or "a recipient")
        views = views_text(state.views_used, state.view_limit)
        return f"Your secret {name} was opened by {latest}; {views}."
    return f"Your secret {name}: {status}."


def notice_blocks(state: NoticeState) -> list[Block]:
    title = escape(state.label) if state.label else "Secret"
    kind = "file" if state.secret_type == FILE else "text"
    status = STATUS_WORDS.get(state.status, state.status)
    if state.status == "active":
        views = views_text(state.views_used, state.view_limit)
        line = f"{status} · {views} · expires {when(state.expires_at)}"
    elif state.status == "revoked" and state.revoked_by:
        line = f"Revoked by {escape(state.revoked_by)}"
    elif state.status == "burned":
        line = f"Burned: all {state.view_limit} views used"
    else:
        ended = state.ended_at or state.expires_at
        line = f"{status} {when(ended)}"
    blocks: list[Block] = [
        section(f"*{title}* · `{state.share_code}` · {kind}\n{line}"),
        context(f"{AUDIENCE_WORDS.get(state.audience, state.audience)}: "
                f"{state.recipients} recipient{'s' if state.recipients != 1 else ''} · "
                "the link's key is not stored anywhere; only the link you sent opens it"),
    ]
    if state.opens:
        opened = "\n".join(f"• {escape(opening.email or 'a recipient')}, {when(opening.time)}"
                           for opening in state.opens)
        blocks.append(section(f"*Opened*\n{opened}"))
    else:
        blocks.append(context("Not opened yet."))
    if state.status == "active":
        blocks.append({"type": "actions", "block_id": "notice_actions",
                       "elements": [revoke_button(state.secret_id, state.share_code)]})
    return blocks
