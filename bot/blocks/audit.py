"""`/secrets audit`: the newest matching events as a readable message."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.blocks.common import (
    CONTEXT_TEXT_MAX,
    SECTION_TEXT_MAX,
    Block,
    context,
    escape,
    fit,
    section,
    when,
)
from core.db.models import AuditEvent

AUDIT_SHOWN = 20
DEFAULT_FILTER = 'activity_name starts with "paper_secret_"'
# Slack link markup: a URL over this many characters is dropped from the message; a long
# filter's console link falls back to the plain console.
LINK_MAX = 1500
FILTER_SHOWN_MAX = 500


def event_line(event: AuditEvent) -> str:
    parts = [when(event.time), f"`{event.activity_name}`",
             fit(escape(event.actor_email or "—"), 300)]
    if event.share_code:
        parts.append(f"`{event.share_code}`")
    outcome = event.status + (f" ({fit(escape(event.status_detail), 200)})"
                              if event.status_detail else "")
    parts.append(outcome)
    if event.src_ip:
        parts.append(event.src_ip)
    return fit(" · ".join(parts), CONTEXT_TEXT_MAX)


def audit_message(
    events: list[AuditEvent], filter_text: str, base_url: str, more: bool
) -> tuple[str, list[Block]]:
    console = f"{base_url}/admin/audit?{urlencode({'filter': filter_text})}"
    if len(console) > LINK_MAX:
        console = f"{base_url}/admin/audit"  # the filter is in the message above it
    shown_filter = fit(escape(filter_text), FILTER_SHOWN_MAX)
    if not events:
        return "No audit events match.", [
            section(fit(f"No events match `{shown_filter}`.", SECTION_TEXT_MAX)),
            context(f"<{console}|Open the audit console>"),
        ]
    # One block per event: Slack refuses a section over 3,000 characters.
    blocks: list[Block] = [
        section(f"*Audit log* · newest {len(events)} matching `{shown_filter}`"),
        *(context(event_line(event)) for event in events),
        context(f"<{console}|{'More in' if more else 'Open'} the audit console>"),
    ]
    return f"Audit log: {len(events)} events", blocks
