"""Listeners called as plain functions, as Bolt would call them, without the HTTP layer: the
app's real services on SQLite, Slack's Web API as the fake server, and recording ``ack`` and
``respond``. The signed-request path is tested in tests/bot/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookResponse

from bot.app import build_notifier
from bot.context import BOT_CONTEXT_KEY, BotContext
from core.blobstore.local import LocalBlobStore
from core.services.container import Services, build_services
from core.settings import Settings
from tests.support.databases import sqlite_database
from tests.support.seeding import seed_secrets, seed_user
from tests.support.slack import BOT_TOKEN, FakeSlack, slack_settings

NOW = datetime.now(UTC)


@dataclass
class Recorder:
    """An async callable standing in for Bolt's ``ack`` or ``respond``; ``log`` is shared
    so that tests can check the order of calls."""

    name: str
    log: list[tuple[str, dict[str, Any]]]

    async def __call__(self, **kwargs: Any) -> WebhookResponse:
        self.log.append((self.name, kwargs))
        # What Slack answers a response_url that took the message.
        return WebhookResponse(url="https://hooks.example/response", status_code=200,
                               body="ok", headers={})


@dataclass
class Listening:
    services: Services
    context: AsyncBoltContext
    client: AsyncWebClient
    slack: FakeSlack
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ack(self) -> AsyncAck:
        return cast(AsyncAck, Recorder("ack", self.log))

    @property
    def respond(self) -> AsyncRespond:
        return cast(AsyncRespond, Recorder("respond", self.log))

    @property
    def responses(self) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.log if name == "respond"]

    def secret_of(self, email: str) -> str:
        creator = seed_user(self.services.db, email, NOW)
        [secret_id] = seed_secrets(self.services.db, self.services.blob_store, count=1,
                                   creator_id=creator, created_at=NOW,
                                   expires_at=NOW + timedelta(days=1))
        return secret_id


@pytest.fixture
def listening(tmp_path: Path, slack: FakeSlack) -> Iterator[Listening]:
    with sqlite_database(tmp_path) as database_url:
        settings = Settings(data_dir=tmp_path, database_url=database_url,
                            internal_domains=("example.com",),
                            super_admin_emails=("admin@example.com",),
                            **slack_settings(slack))  # type: ignore[arg-type]
        services = build_services(settings, blob_store=LocalBlobStore(tmp_path / "blobs"))
        bot = BotContext(settings=settings, services=services,
                         notifier=build_notifier(settings, services))
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        try:
            yield Listening(services, AsyncBoltContext({BOT_CONTEXT_KEY: bot}), client, slack)
        finally:
            services.close()
