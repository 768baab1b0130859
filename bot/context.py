"""What every listener needs: the services, and who a Slack user is in Cipherslip.

Slack users map to Cipherslip users by their email address, and only one Slack has
confirmed; the workspace maps to a tenant (settings), so a command never reaches another
tenant's secrets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.services.container import Services
from core.services.identity import ClientInfo, Principal
from core.services.notice_outbox import NoticeOutbox
from core.settings import Settings

log = logging.getLogger(__name__)

# Slack requests carry no client IP; the audit log says where they came from instead.
SLACK_CLIENT = ClientInfo(ip=None, user_agent="Slack")


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    email: str | None  # None: a bot, or an address Slack has not confirmed
    name: str


@dataclass
class SlackPeople:
    """``users.info`` answers kept for a couple of minutes: a modal for 128 people asks once
    per person, and a second submission right after asks nobody. Bounded, per process."""

    ttl_seconds: float = 120.0
    max_entries: int = 10_000
    _known: dict[str, tuple[float, SlackUser]] = field(default_factory=dict)

    def get(self, user_id: str) -> SlackUser | None:
        entry = self._known.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, user: SlackUser) -> None:
        if len(self._known) >= self.max_entries:
            now = time.monotonic()
            self._known = {key: entry for key, entry in self._known.items() if entry[0] > now}
            if len(self._known) >= self.max_entries:
                self._known.clear()
        self._known[user.user_id] = (time.monotonic() + self.ttl_seconds, user)


BOT_CONTEXT_KEY = "cipherslip"


def bot_of(context: Mapping[str, Any]) -> BotContext:
    """The app's services, which a middleware puts in every request's Bolt context."""
    bot = context[BOT_CONTEXT_KEY]
    assert isinstance(bot, BotContext)
    return bot


@dataclass(frozen=True)
class BotContext:
    settings: Settings
    services: Services
    notifier: NoticeOutbox
    people: SlackPeople = field(default_factory=SlackPeople)

    def tenant_id(self, team_id: str) -> str:
        """The workspace's tenant (unlisted workspaces never get this far: see bot.app)."""
        tenant = self.services.tenants.for_slack_team(team_id)
        if tenant is None:
            raise LookupError(f"Slack workspace {team_id} belongs to no tenant")
        return tenant.id

    async def slack_user(self, client: AsyncWebClient, user_id: str) -> SlackUser:
        """``users.info``: the confirmed email address, if any (raises SlackApiError)."""
        known = self.people.get(user_id)
        if known is not None:
            return known
        response = await client.users_info(user=user_id)
        user: dict[str, Any] = response.get("user") or {}
        profile: dict[str, Any] = user.get("profile") or {}
        email = profile.get("email")
        usable = (isinstance(email, str) and bool(user.get("is_email_confirmed"))
                  and not user.get("is_bot") and not user.get("deleted"))
        name = profile.get("real_name") or user.get("name") or user_id
        found = SlackUser(user_id, email.lower() if usable and isinstance(email, str) else None,
                          str(name))
        self.people.put(found)
        return found

    async def principal(
        self, client: AsyncWebClient, team_id: str, user_id: str
    ) -> Principal | None:
        """The Cipherslip user behind a Slack user, or None (no confirmed email, or never
        signed in to Cipherslip)."""
        try:
            slack_user = await self.slack_user(client, user_id)
        except SlackApiError as error:
            log.warning("users.info failed: %s", error.response.get("error"))
            return None
        if slack_user.email is None:
            return None
        return await asyncio.to_thread(self.services.users.principal_for_email,
                                       self.tenant_id(team_id), slack_user.email)

    def sign_in_hint(self) -> str:
        return (f"Sign in to Cipherslip once at {self.settings.base_url}/ with the same email "
                "address as your Slack account, then try again.")
