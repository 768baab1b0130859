"""Creator notices on Slack: one DM per secret, posted once, then edited as it changes.

The outbox (``core.services.notice_outbox``) decides what is due, leases it and settles the
result; this module only shows a notice as a Slack message and sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.notice import notice_blocks, notice_text
from bot.installation import Workspaces
from core.services.notice_outbox import (
    Delivered,
    DeliveryFailed,
    NoRecipient,
    NoticeAddress,
)
from core.services.notice_state import NoticeState
from core.settings import Settings

# Errors that retrying cannot fix: the notice is given up.
FINAL_ERRORS = {"users_not_found", "user_not_found", "account_inactive", "invalid_auth",
                "not_authed", "channel_not_found", "cant_update_message", "message_not_found",
                # Our message was malformed: sending it again would fail again.
                "invalid_blocks", "invalid_arguments", "msg_too_long"}
# While looking for the creator: this workspace cannot help, another one of the tenant may.
NEXT_WORKSPACE_ERRORS = {"users_not_found", "invalid_auth", "account_inactive", "not_authed",
                         "token_revoked", "team_access_not_granted"}


@dataclass(frozen=True, kw_only=True)
class SlackNoticeSender:
    settings: Settings
    workspaces: Workspaces
    client_for: Callable[[str], WebClient] | None = None

    def _client(self, token: str) -> WebClient:
        if self.client_for is not None:
            return self.client_for(token)
        return WebClient(token=token, base_url=self.settings.slack_api_url, timeout=10)

    def send(self, state: NoticeState, address: NoticeAddress) -> Delivered:
        try:
            return self._send(state, address)
        except SlackApiError as error:
            code = str(error.response.get("error", "error"))
            retry_after = error.response.headers.get("Retry-After") if error.response else None
            raise DeliveryFailed(code, final=code in FINAL_ERRORS,
                                 retry_after=int(retry_after) if retry_after else None) from None
        except (NoRecipient, DeliveryFailed):
            raise
        except Exception as error:  # timeouts, refused connections: retried like API errors
            raise DeliveryFailed(type(error).__name__) from None

    def _send(self, state: NoticeState, address: NoticeAddress) -> Delivered:
        teams: list[str | None] = ([address.team_id] if address.team_id
                                   else self.workspaces.teams_of_tenant(address.tenant_id))
        for position, team in enumerate(teams):
            token = self.workspaces.bot_token(team)
            if token is None:
                continue
            client = self._client(token)
            recipient = address.user_id
            if recipient is None:
                try:
                    found = client.users_lookupByEmail(email=state.creator_email)
                except SlackApiError as error:
                    last = position == len(teams) - 1
                    if error.response.get("error") in NEXT_WORKSPACE_ERRORS and not last:
                        continue  # perhaps in another of the tenant's workspaces
                    raise
                recipient = str(found["user"]["id"])
            text, blocks = notice_text(state), notice_blocks(state, self.settings.base_url)
            if address.channel_id is None or address.message_ts is None:
                posted = client.chat_postMessage(channel=recipient, text=text, blocks=blocks,
                                                 unfurl_links=False)
                return Delivered(team, str(posted["channel"]), str(posted["ts"]), recipient)
            client.chat_update(channel=address.channel_id, ts=address.message_ts, text=text,
                               blocks=blocks)
            return Delivered(team, address.channel_id, address.message_ts, recipient)
        raise NoRecipient

