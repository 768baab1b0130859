"""The creator's DM about one secret: what it is, who opened it, and what is left."""

from __future__ import annotations

from bot.blocks.common import (
    AUDIENCE_WORDS,
    SECTION_TEXT_MAX,
    STATUS_WORDS,
    Block,
    context,
    escape,
    fit,
    plain,
    secret_actions,
    section,
    views_text,
    when,
)
from core.services.notice_state import NoticeState
from core.services.states import FILE, SecretStatus


def notice_text(state: NoticeState) -> str:
    """The notification's plain text (what phones and screen readers show)."""
    if state.answers is not None:
        return _answer_text(state)
    name = f"“{fit(escape(state.label), 300)}”" if state.label else state.share_code
    status = STATUS_WORDS.get(state.status, state.status)
    if state.status == SecretStatus.ACTIVE and state.opens:
        latest = escape(state.opens[0].email or "a recipient")
        views = views_text(state.views_used, state.view_limit)
        return f"Your secret {name} was opened by {latest}; {views}."
    return f"Your secret {name}: {status}."


def _answer_text(state: NoticeState) -> str:
    assert state.answers is not None
    asked = state.answers
    name = f"“{fit(escape(asked.label), 300)}”" if asked.label else asked.request_code
    if asked.answered_by is None:
        return (f"Your request {name} closed: nobody answered before it expired. Ask again "
                "if you still need it.")
    who = escape(asked.answered_by)
    if state.status == SecretStatus.ACTIVE:
        seen = "you opened it" if state.opens else "open it with your request link"
        return f"Your request {name} was answered by {who}: {seen}."
    return (f"Your request {name}, answered by {who}: the answer is "
            f"{STATUS_WORDS.get(state.status, state.status).lower()}.")


def answer_blocks(state: NoticeState, base_url: str) -> list[Block]:
    """The requester's message about a request's answer: who answered, and the answer's
    state (the request link opens it; Cipherslip never holds that key)."""
    assert state.answers is not None
    if state.answers.answered_by is None:  # closed unanswered: nothing to open
        return [section(_answer_text(state)),
                context(f"Request `{state.answers.request_code}` · asked "
                        f"{state.recipients} {'person' if state.recipients == 1 else 'people'}"),
                _requests_button(state, base_url)]
    blocks: list[Block] = [
        section(_answer_text(state)),
        context(f"Request `{state.answers.request_code}` · answer `{state.share_code}` · "
                f"{views_text(state.views_used, state.view_limit)} · open it with the request "
                "link you kept: it holds the key, which Cipherslip never stores"),
    ]
    blocks.append(_requests_button(state, base_url))
    return blocks


def _requests_button(state: NoticeState, base_url: str) -> Block:
    return {"type": "actions", "block_id": f"actions_{state.secret_id}", "elements": [{
        "type": "button", "action_id": "open_on_web", "text": plain("My requests"),
        "url": f"{base_url.rstrip('/')}/requests"}]}


def opened_text(state: NoticeState) -> str:
    """Who opened it, newest first, as many as fit in one section; then how many more."""
    lines = [f"• {fit(escape(opening.email or 'a recipient'), 300)}, {when(opening.time)}"
             for opening in state.opens]
    text = "*Opened*"
    for shown, line in enumerate(lines):
        rest = len(lines) - shown
        more = f"\n…and {rest} more" if rest > 1 else ""
        if len(text) + 1 + len(line) + len(more) > SECTION_TEXT_MAX:
            return text + f"\n…and {rest} more"
        text += "\n" + line
    return text


def notice_blocks(state: NoticeState, base_url: str) -> list[Block]:
    if state.answers is not None:
        return answer_blocks(state, base_url)
    title = fit(escape(state.label), 300) if state.label else "Secret"
    kind = "file" if state.secret_type == FILE else "text"
    status = STATUS_WORDS.get(state.status, state.status)
    if state.status == SecretStatus.ACTIVE:
        views = views_text(state.views_used, state.view_limit)
        line = f"{status} · {views} · expires {when(state.expires_at)}"
    elif state.status == SecretStatus.REVOKED and state.revoked_by:
        line = f"Revoked by {escape(state.revoked_by)}"
    elif state.status == SecretStatus.BURNED:
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
        blocks.append(section(opened_text(state)))
    else:
        blocks.append(context("Not opened yet."))
    blocks.append(secret_actions(base_url, state.secret_id, state.share_code,
                                 active=state.status == SecretStatus.ACTIVE))
    return blocks
