"""Unfurls, called as a function: only this deployment's share links, keyed as sent, and
the link key goes nowhere but back to Slack."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.listeners.link_shared import unfurl_share_links
from core.db.models import Secret
from tests.bot.listeners.conftest import Listening
from tests.support.async_client import run_async

LINK_KEY = "k" * 43


def shared(urls: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    event: dict[str, Any] = {"type": "link_shared", "channel": "C0GENERAL", "message_ts": "1.2",
             "links": [{"url": url, "domain": "127.0.0.1"} for url in urls]}
    return event, {"team_id": "T0TEST", "event": event}


def test_only_share_links_of_this_deployment_unfurl_keyed_as_sent(listening: Listening) -> None:
    secret_id = listening.secret_of("alice@example.com")
    with listening.services.db() as session:
        code = session.scalar(select(Secret.share_code).where(Secret.id == secret_id))
    ours = f"{listening.services.settings.base_url}/s/{code}#{LINK_KEY}"
    event, body = shared([ours, f"https://elsewhere.example/s/{code}#{LINK_KEY}"])
    run_async(unfurl_share_links(event=event, body=body, client=listening.client,
                                 context=listening.context))
    [call] = listening.slack.calls_to("chat.unfurl")
    assert list(call.args["unfurls"]) == [ours]  # keyed by the URL exactly as Slack sent it
    assert "seeded 0" in str(call.args["unfurls"][ours])
    assert LINK_KEY not in str(call.args["unfurls"][ours])  # shown nowhere in the preview


def test_no_share_link_no_call(listening: Listening) -> None:
    event, body = shared(["https://example.com/docs"])
    run_async(unfurl_share_links(event=event, body=body, client=listening.client,
                                 context=listening.context))
    assert listening.slack.calls_to("chat.unfurl") == []
