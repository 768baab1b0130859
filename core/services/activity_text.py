"""A secret's audit events as the sentences its creator reads ("Opened by bob@example.com").

The web page of a secret shows these; the event names stay in the admin console and exports.
"""

from __future__ import annotations

from typing import Protocol

from core.services import audit

_DENIAL_SENTENCES = {
    "not_a_recipient": "{who} tried to open it, but it was not shared with them",
    "link_not_confirmed": "{who} tried to open it before confirming their sign-in link",
    "link_damaged": "{who} opened a damaged link; no view was used",
    "rate_limited": "{who} was slowed down after too many attempts",
    "burned": "{who} tried to open it after its last view",
    "expired": "{who} tried to open it after it expired",
    "revoked": "{who} tried to open it after it was revoked",
}

_SENTENCES = {
    audit.SECRET_CREATED: "Shared by {who}",
    audit.OPENED_INTERNAL: "Opened by {who}",
    audit.OPENED_EXTERNAL: "Opened by {who} (external recipient)",
    audit.FILE_DOWNLOADED: "Downloaded by {who}",
    audit.MAGIC_LINK_CREATED: "Sign-in link emailed to {who}",
    audit.REVOKED: "Revoked by {who}",
    audit.REVOKED_ADMIN: "Revoked by an administrator ({who})",
    audit.API_TOKEN_CREATED: "API token created by {who}",
    audit.API_TOKEN_REVOKED: "API token revoked by {who}",
    audit.REQUEST_CREATED: "Requested by {who}",
    audit.REQUEST_FULFILLED: "Answered by {who}",
    audit.REQUEST_CANCELLED: "Request cancelled by {who}",
}


class DescribedEvent(Protocol):
    @property
    def activity_name(self) -> str: ...
    @property
    def actor_email(self) -> str | None: ...
    @property
    def status_detail(self) -> str | None: ...


def describe(event: DescribedEvent) -> str:
    who = event.actor_email or "someone"
    if event.activity_name == audit.ACCESS_DENIED:
        template = _DENIAL_SENTENCES.get(event.status_detail or "",
                                         "{who} was refused access")
    else:
        template = _SENTENCES.get(event.activity_name, event.activity_name)
    return template.format(who=who)
