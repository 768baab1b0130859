"""Every slash command and bot event app_manifest.yml subscribes to, sent as Slack sends it
(signed, to the manifest's /slack/events path) through the real Bolt app: each is
acknowledged with 200 and reaches a listener that calls Slack back.

tests/deploy/test_manifest.py checks the manifest's names against the listeners; this checks
that those listeners really answer them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.slack import FakeSlack, SlackSender
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database

MANIFEST_FILE = Path(__file__).resolve().parents[2] / "app_manifest.yml"
SHARE_CODE = "ABCD-EFGH-JKMN"


def _manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


MANIFEST = _manifest()
COMMANDS = [command["command"] for command in MANIFEST["features"]["slash_commands"]]
BOT_EVENTS = list(MANIFEST["settings"]["event_subscriptions"]["bot_events"])

# What the fake Slack sees once each listener has run (commands are sent with text "help").
COMMAND_CALLS = {"/share-secret": "views.open", "/secrets": "response_url"}
EVENT_CALLS = {"app_home_opened": "views.publish", "link_shared": "chat.unfurl"}


def minimal_event(name: str, stack: Stack) -> dict[str, Any]:
    if name == "app_home_opened":
        return {"type": name, "user": "U0ALICE", "tab": "home"}
    if name == "link_shared":
        return {"type": name, "channel": "C1", "message_ts": "1.2",
                "links": [{"domain": "127.0.0.1",
                           "url": f"{stack.base_url}/s/{SHARE_CODE}#key"}]}
    raise AssertionError(f"no minimal {name} event here: add one for the new bot event")


def test_the_manifest_lists_only_commands_and_events_checked_here() -> None:
    assert set(COMMANDS) == set(COMMAND_CALLS)
    assert set(BOT_EVENTS) == set(EVENT_CALLS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_manifest_command_is_acknowledged_and_answered(
    command: str, sender: SlackSender, slack: FakeSlack
) -> None:
    response = sender.command(command, "help")
    assert response.status_code == 200, response.text
    [call] = slack.wait_for(COMMAND_CALLS[command])
    if command == "/share-secret":
        assert call.args["trigger_id"].startswith("trigger.")
        assert call.args["view"]["type"] == "modal"
    else:
        assert call.args["response_type"] == "ephemeral"
        assert "/secrets" in call.args["text"]


@pytest.mark.parametrize("event", BOT_EVENTS)
def test_each_manifest_event_is_acknowledged_and_handled(
    event: str, sender: SlackSender, slack: FakeSlack, stack: Stack
) -> None:
    response = sender.event(minimal_event(event, stack))
    assert response.status_code == 200, response.text
    [call] = slack.wait_for(EVENT_CALLS[event])
    if event == "app_home_opened":
        assert call.args["user_id"] == "U0ALICE"
        assert call.args["view"]["type"] == "home"
    else:
        # Keyed by the link exactly as Slack sent it; the key appears nowhere else.
        assert list(call.args["unfurls"]) == [f"{stack.base_url}/s/{SHARE_CODE}#key"]
        assert (call.args["channel"], call.args["ts"]) == ("C1", "1.2")
        assert slack.everything_sent().count("#key") == 1
