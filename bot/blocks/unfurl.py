"""Unfurls of share links: metadata only, the kind anyone holding the link already sees."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.blocks.common import STATUS_WORDS, Block, context, escape, section, views_text, when
from core.crypto.sharecode import normalize_share_code
from core.errors import InvalidShareCode
from core.services.link_preview import LinkPreview


def without_fragment(url: str) -> str:
    """The URL with everything from ``#`` on removed: the link key never goes further."""
    return url.split("#", 1)[0]


def share_code_of(url: str, base_url: str) -> str | None:
    """The share code of a link to this deployment's share page, else None."""
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.scheme, link.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    prefix = base.path.rstrip("/") + "/s/"
    if not link.path.startswith(prefix):
        return None
    try:
        return normalize_share_code(link.path[len(prefix):].strip("/"))
    except InvalidShareCode:
        return None


def canonical_link(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def unfurl_blocks(entry: LinkPreview | None) -> dict[str, Any]:
    if entry is None:
        return {"blocks": [section("*Cipherslip secret* · not found")]}
    title = escape(entry.label) if entry.label else "Cipherslip secret"
    status = STATUS_WORDS.get(entry.status, entry.status)
    if entry.status == "active":
        detail = (f"{views_text(entry.views_used, entry.view_limit)} · "
                  f"expires {when(entry.expires_at)}")
    else:
        detail = status
    blocks: list[Block] = [
        section(f":lock: *{title}*\nShared by {escape(entry.creator_name)} · {detail}"),
        context("Only its recipients can open it, after signing in. Opening this preview "
                "uses no view."),
    ]
    return {"blocks": blocks}
