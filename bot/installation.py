"""Workspaces and their bot tokens: one from settings, or many installed through OAuth.

OAuth installs live in slack_sdk's own SQLAlchemy installation and state stores, over the
product's database (their tables are part of our migrations). Those stores are synchronous;
Bolt's AsyncApp wants asynchronous ones, so thin adapters run them in a worker thread
rather than opening a second, async, database engine.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web import WebClient
from sqlalchemy import Engine, select

from core.db.models import SLACK_BOTS
from core.services.tenants import TenantDirectory
from core.settings import Settings

log = logging.getLogger(__name__)
STATE_TTL_SECONDS = 600
# Bolt's default: a rotating token is refreshed once it has under two hours left (Slack's
# rotating tokens last twelve).
ROTATE_BEFORE_EXPIRY_MINUTES = 120

# What the code calls, and nothing more (app_manifest.yml lists the same; a test compares).
BOT_SCOPES = ("commands", "chat:write", "users:read", "users:read.email", "links:read",
              "links:write")


class ThreadedInstallationStore(AsyncInstallationStore):
    def __init__(self, store: SQLAlchemyInstallationStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self._store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self._store.save_bot, bot)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        return await asyncio.to_thread(self._store.find_bot, enterprise_id=enterprise_id,
                                       team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self._store.find_installation, enterprise_id=enterprise_id, team_id=team_id,
            user_id=user_id, is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self._store.delete_bot, enterprise_id=enterprise_id,
                                team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(self._store.delete_installation, enterprise_id=enterprise_id,
                                team_id=team_id, user_id=user_id)


class ThreadedStateStore(AsyncOAuthStateStore):
    def __init__(self, store: SQLAlchemyOAuthStateStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._store.consume, state)


class Workspaces:
    """Bot tokens by workspace, for the listeners' and the notifier's Web API calls."""

    def __init__(self, settings: Settings, engine: Engine, tenants: TenantDirectory) -> None:
        self._settings = settings
        self._engine = engine
        self._tenants = tenants
        self.installations = SQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=engine, logger=log
        )
        self.states = SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_TTL_SECONDS, engine=engine, logger=log
        )

    def bot_token(self, team_id: str | None) -> str | None:
        """The workspace's bot token; with Slack's token rotation on, refreshed (and stored)
        when it expires within ROTATE_BEFORE_EXPIRY_MINUTES, as Bolt does for the listeners."""
        if not self._settings.slack_oauth:
            return self._settings.slack_bot_token or None
        if team_id is None:
            return None
        bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            return None
        if bot.bot_refresh_token is not None:
            refreshed = self._rotator().perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_BEFORE_EXPIRY_MINUTES)
            if refreshed is not None:
                self.installations.save_bot(refreshed)
                bot = refreshed
        return bot.bot_token

    def _rotator(self) -> TokenRotator:
        return TokenRotator(
            client_id=self._settings.slack_client_id,
            client_secret=self._settings.slack_client_secret,
            client=WebClient(base_url=self._settings.slack_api_url, timeout=10),
        )

    def teams_of_tenant(self, tenant_id: str) -> list[str | None]:
        """Workspaces whose users may be this tenant's users ([None]: the one workspace)."""
        if not self._settings.slack_oauth:
            return [None]
        with self._engine.connect() as connection:
            teams = connection.scalars(
                select(SLACK_BOTS.c.team_id).where(
                    SLACK_BOTS.c.client_id == self._settings.slack_client_id)
                .distinct()
            ).all()
        mapped = {team: self._tenants.for_slack_team(team) for team in teams if team}
        return [team for team, tenant in mapped.items()
                if tenant is not None and tenant.id == tenant_id]
