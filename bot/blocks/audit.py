"""`/secrets audit`: the newest matching events as a readable message."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.blocks.common import Block, context, escape, section, when
from core.db.models import AuditEvent

AUDIT_SHOWN = 20
DEFAULT_FILTER = 'activity_name starts with "paper_secret_"'


def event_line(event: AuditEvent) -> str:
    parts = [when(event.time), f"`{event.activity_name}`", escape(event.actor_email or "—")]
    if event.share_code:
        parts.append(f"`{event.share_code}`")
    outcome = event.status + (f" ({escape(event.status_detail)})" if event.status_detail else "")
    parts.append(outcome)
    if event.src_ip:
        parts.append(event.src_ip)
    return " · ".join(parts)


def audit_message(
    events: list[AuditEvent], filter_text: str, base_url: str, more: bool
) -> tuple[str, list[Block]]:
    console = f"{base_url}/admin/audit?{urlencode({'filter': filter_text})}"
    if not events:
        return "No audit events match.", [
            section(f"No events match `{escape(filter_text)}`."),
            context(f"<{console}|Open the audit console>"),
        ]
    # One block per event: Slack refuses a section over 3,000 characters.
    blocks: list[Block] = [
        section(f"*Audit log* · newest {len(events)} matching `{escape(filter_text[:500])}`"),
        *(context(event_line(event)) for event in events),
        context(f"<{console}|{'More in' if more else 'Open'} the audit console>"),
    ]
    return f"Audit log: {len(events)} events", blocks
