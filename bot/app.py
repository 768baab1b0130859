"""``create_bolt_app(settings, services)``: the Slack app, built on demand, never at import.

One workspace (bot token from settings) or many (OAuth installs in the database). Bolt
checks every request's signature and timestamp (older than 5 minutes: 401) before any
listener runs; events Slack delivers again are handled once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.context import BOT_CONTEXT_KEY, BotContext
from bot.installation import (
    BOT_SCOPES,
    ROTATE_BEFORE_EXPIRY_MINUTES,
    ThreadedInstallationStore,
    ThreadedStateStore,
    Workspaces,
)
from bot.listeners import LISTENERS
from bot.notifier import SlackNoticeSender
from core.clock import Clock
from core.services.container import Services
from core.services.notice_outbox import NoticeOutbox
from core.services.request_notices import RequestClosureNotices
from core.services.tenants import TenantDirectory
from core.settings import Settings

# Slack redelivers an event it thinks we missed; a day covers its retry schedule.
EVENT_MEMORY_SECONDS = 24 * 3600


class NotifierParts(Protocol):
    """What the notice outbox needs of a process's services (the api's or the scheduler's)."""

    @property
    def engine(self) -> Engine: ...
    @property
    def db(self) -> sessionmaker[Session]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def tenants(self) -> TenantDirectory: ...


def build_notifier(settings: Settings, services: NotifierParts,
                   workspaces: Workspaces | None = None) -> NoticeOutbox:
    """The creator-notice outbox, delivering through Slack (the scheduler's notices job and
    the Revoke button)."""
    workspaces = workspaces or Workspaces(settings, services.engine, services.tenants)
    return NoticeOutbox(db=services.db, clock=services.clock,
                        sender=SlackNoticeSender(settings=settings, workspaces=workspaces))


def build_request_notices(settings: Settings, services: NotifierParts,
                          workspaces: Workspaces | None = None) -> RequestClosureNotices:
    """The messages telling requesters that a request closed unanswered (the scheduler's
    notices job)."""
    workspaces = workspaces or Workspaces(settings, services.engine, services.tenants)
    return RequestClosureNotices(db=services.db, clock=services.clock,
                                 sender=SlackNoticeSender(settings=settings,
                                                          workspaces=workspaces))


def _quiet_vendor_logs() -> None:
    # At DEBUG, Bolt and slack_sdk log whole request bodies, and link_shared bodies carry
    # share URLs with their link keys.
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.INFO)


def _install_page(title: str, message: str, status: int) -> BoltResponse:
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
            f"<h1>{title}</h1><p>{message}</p></html>")
    return BoltResponse(status=status, body=body,
                        headers={"Content-Type": "text/html; charset=utf-8"})


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    return _install_page("Cipherslip is installed",
                         "Type /share-secret in Slack to share your first secret.", 200)


async def _install_failed(args: AsyncFailureArgs) -> BoltResponse:
    return _install_page("Installation failed",
                         "Slack did not complete the installation; start again from "
                         "/slack/install.", args.suggested_status_code)


def _oauth_settings(settings: Settings, workspaces: Workspaces,
                    installations: ThreadedInstallationStore) -> AsyncOAuthSettings:
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES), redirect_uri=f"{settings.base_url}/slack/oauth_redirect",
        install_page_rendering_enabled=False,
        installation_store=installations,
        state_store=ThreadedStateStore(workspaces.states),
        callback_options=AsyncCallbackOptions(success=_installed, failure=_install_failed),
        token_rotation_expiration_minutes=ROTATE_BEFORE_EXPIRY_MINUTES,
    )


def handle_each_event_once(bot: BotContext) -> Callable[..., Awaitable[Any]]:
    replay_cache = bot.services.replay_cache

    async def dedupe(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            first = await asyncio.to_thread(replay_cache.first_use, f"slack:event:{event_id}",
                                            EVENT_MEMORY_SECONDS)
            if not first:
                return BoltResponse(status=200, body="")
        return await next()

    return dedupe


UNLISTED_WORKSPACE = ("This Slack workspace is not connected to a Cipherslip organization; "
                      "ask your Cipherslip administrator.")


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (
        body.get("user") or {}).get("team_id")
    return str(team or "")


def provide_bot_context(bot: BotContext) -> Callable[..., Awaitable[Any]]:
    """Listeners are module-level functions (testable on their own): they find the app's
    services in Bolt's per-request ``context`` (``bot.context.bot_of``)."""

    async def provide(context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]) -> Any:
        context[BOT_CONTEXT_KEY] = bot
        return await next()

    return provide


def refuse_unlisted_workspaces(bot: BotContext) -> Callable[..., Awaitable[Any]]:
    """With OAuth anyone may install the app: only workspaces a tenant lists get anything,
    so an outsider's workspace can never act in (or read from) a tenant."""

    async def only_listed(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        if bot.services.tenants.for_slack_team(team_of(body)) is None:
            return BoltResponse(status=200, body=UNLISTED_WORKSPACE if "command" in body else "")
        return await next()

    return only_listed


def create_bolt_app(settings: Settings, services: Services,
                    notifier: NoticeOutbox | None = None) -> AsyncApp:
    _quiet_vendor_logs()
    workspaces = Workspaces(settings, services.engine, services.tenants)
    notifier = notifier or build_notifier(settings, services, workspaces)
    # A 429 is waited out (its Retry-After), twice at most, instead of failing the listener.
    retries: list[AsyncRetryHandler] = [AsyncRateLimitErrorRetryHandler(max_retry_count=2)]
    if settings.slack_oauth:
        installations = ThreadedInstallationStore(workspaces.installations)
        # The store given to the app too: Bolt then builds its authorization (and refreshes
        # rotating tokens) with this client, so with our Slack API URL, not slack.com.
        app = AsyncApp(signing_secret=settings.slack_signing_secret,
                       client=AsyncWebClient(base_url=settings.slack_api_url,
                                             retry_handlers=retries),
                       installation_store=installations,
                       oauth_settings=_oauth_settings(settings, workspaces,
                                                      installations))
    else:
        app = AsyncApp(signing_secret=settings.slack_signing_secret,
                       client=AsyncWebClient(token=settings.slack_bot_token,
                                             base_url=settings.slack_api_url,
                                             retry_handlers=retries))
    bot = BotContext(settings=settings, services=services, notifier=notifier)
    app.use(refuse_unlisted_workspaces(bot))
    app.use(handle_each_event_once(bot))
    app.use(provide_bot_context(bot))
    for listener in LISTENERS:
        listener.register(app)
    return app


