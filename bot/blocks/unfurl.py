"""Unfurls of share links: metadata only, the kind anyone holding the link already sees."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import (
    STATUS_WORDS,
    Block,
    context,
    escape,
    fit,
    section,
    views_text,
    when,
)
from core.services.link_preview import LinkPreview
from core.services.states import SecretStatus


def without_fragment(url: str) -> str:
    """The URL with everything from ``#`` on removed: the link key never goes further."""
    return url.split("#", 1)[0]


def unfurl_blocks(entry: LinkPreview | None, *, shared_externally: bool = False,
                  ) -> dict[str, Any]:
    """The preview; in a channel shared with another organization, only whether the secret
    is still open and until when (its label and creator are this organization's business)."""
    if entry is None:
        return {"blocks": [section("*Cipherslip secret* · not found")]}
    status = STATUS_WORDS.get(entry.status, entry.status)
    if entry.status == SecretStatus.ACTIVE:
        detail = (f"{views_text(entry.views_used, entry.view_limit)} · "
                  f"expires {when(entry.expires_at)}")
    else:
        detail = status
    if shared_externally:
        active = entry.status == SecretStatus.ACTIVE
        summary = f"Active · expires {when(entry.expires_at)}" if active else status
        headline = f":lock: *Cipherslip secret* · {summary}"
    else:
        title = fit(escape(entry.label), 300) if entry.label else "Cipherslip secret"
        headline = (f":lock: *{title}*\nShared by {fit(escape(entry.creator_name), 300)} · "
                    f"{detail}")
    blocks: list[Block] = [
        section(headline),
        context("Only its recipients can open it, after signing in. Opening this preview "
                "uses no view."),
    ]
    return {"blocks": blocks}
