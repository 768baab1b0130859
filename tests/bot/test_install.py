"""Many workspaces: the OAuth install stores each workspace's bot token (slack_sdk's
SQLAlchemy stores), and each workspace maps to a tenant."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from bot.notifier import SlackNoticeSender
from core.db.models import SLACK_BOTS
from tests.support.slack import SIGNING_SECRET, FakeSlack, SlackSender, blocks_text, fake_slack
from tests.support.stack import Stack

# Database-independent (see tests/conftest.py): SQLite only.
pytestmark = pytest.mark.one_database


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.add_user("U0ADMIN", "admin@acme.test", "Acme Admin")
        fake.add_user("U0ANA", "ana@acme.test", "Ana")
        yield fake


@pytest.fixture
def stack_options(slack: FakeSlack) -> dict[str, object]:
    return {"slack_signing_secret": SIGNING_SECRET, "slack_client_id": "1234.5678",
            "slack_client_secret": "client-secret", "slack_api_url": slack.api_url,
            "tenants": [{"id": "acme", "name": "Acme", "domains": ["acme.test"],
                         "slack_teams": ["T0OTHER"]}]}


def install(stack: Stack, slack: FakeSlack) -> httpx.Response:
    with httpx.Client(base_url=stack.base_url) as browser:
        start = browser.get("/slack/install")
        assert start.status_code == 302
        authorize = urlsplit(start.headers["location"])
        assert authorize.netloc == "slack.com" and authorize.path == "/oauth/v2/authorize"
        query = parse_qs(authorize.query)
        assert query["client_id"] == ["1234.5678"]
        assert set(query["scope"][0].split(",")) == {
            "commands", "chat:write", "users:read", "users:read.email", "links:read",
            "links:write"}
        assert query["redirect_uri"] == [f"{stack.base_url}/slack/oauth_redirect"]
        # The state cookie is marked Secure; browsers still send it to http://127.0.0.1
        # (a secure context), httpx does not, so it is passed on by hand.
        state_cookie = start.headers["set-cookie"].split(";")[0]
        assert state_cookie == f"slack-app-oauth-state={query['state'][0]}"
        return browser.get("/slack/oauth_redirect", headers={"cookie": state_cookie},
                           params={"code": "c0de", "state": query["state"][0]})


def test_a_workspace_installs_and_its_token_is_used(stack: Stack, slack: FakeSlack) -> None:
    finished = install(stack, slack)
    assert finished.status_code == 200 and "Cipherslip is installed" in finished.text
    [exchange] = slack.calls_to("oauth.v2.access")
    assert exchange.args["code"] == "c0de"
    with stack.services.engine.connect() as connection:
        bots = connection.execute(select(SLACK_BOTS.c.team_id, SLACK_BOTS.c.bot_token)).all()
    assert [tuple(bot) for bot in bots] == [("T0OTHER", "xoxb-installed")]

    sender = SlackSender(stack.base_url, slack)
    assert sender.command("/share-secret", team_id="T0OTHER").status_code == 200
    [opened] = slack.wait_for("views.open")
    assert opened.token == "xoxb-installed"


def test_a_forged_or_replayed_state_is_refused(stack: Stack, slack: FakeSlack) -> None:
    with httpx.Client(base_url=stack.base_url) as browser:
        refused = browser.get("/slack/oauth_redirect", params={"code": "c0de", "state": "x"})
    assert refused.status_code == 400 and "Installation failed" in refused.text
    assert slack.calls_to("oauth.v2.access") == []


def test_a_workspace_that_did_not_install_gets_nothing(stack: Stack, slack: FakeSlack) -> None:
    sender = SlackSender(stack.base_url, slack)
    sender.command("/share-secret", team_id="T0NOTINSTALLED")
    assert slack.calls_to("views.open") == []


def test_the_workspace_maps_to_its_tenant(stack: Stack, slack: FakeSlack) -> None:
    install(stack, slack)
    ana = stack.user("ana@acme.test")
    acme_secret = ana.create_text("x", ["admin@acme.test"], label="Acme only")
    stack.user("alice@example.com").create_text("y", ["bob@example.com"], label="Default only")
    sender = SlackSender(stack.base_url, slack)
    sender.command("/secrets", "list", user_id="U0ANA", team_id="T0OTHER")
    [reply] = slack.wait_for("response_url")
    text = blocks_text(reply.args)
    assert "Acme only" in text and acme_secret.share_code in text
    assert "Default only" not in text


def test_an_unlisted_workspace_can_install_but_gets_nothing(
    stack: Stack, slack: FakeSlack
) -> None:
    slack.install_team = "T0STRANGER"
    assert install(stack, slack).status_code == 200
    sender = SlackSender(stack.base_url, slack)
    refused = sender.command("/secrets", "audit", user_id="U0ADMIN", team_id="T0STRANGER")
    assert refused.status_code == 200 and "not connected to a Cipherslip" in refused.text
    sender.command("/share-secret", team_id="T0STRANGER")
    sender.event({"type": "app_home_opened", "user": "U0ANA", "tab": "home"},
                 team_id="T0STRANGER")
    time.sleep(0.3)
    assert not slack.calls_to("views.open") and not slack.calls_to("views.publish")
    assert not slack.calls_to("response_url")


def stored_bot_token(stack: Stack) -> str:
    with stack.services.engine.connect() as connection:
        return str(connection.scalar(
            select(SLACK_BOTS.c.bot_token).order_by(SLACK_BOTS.c.id.desc()).limit(1)))


def test_rotating_tokens_are_refreshed_and_stored_for_listeners_and_dms(
    stack: Stack, slack: FakeSlack
) -> None:
    # Slack's token rotation on: the install's token expires in a minute, well inside the
    # two hours before expiry at which Cipherslip refreshes it.
    slack.token_lifetime = 60
    install(stack, slack)
    assert stored_bot_token(stack) == "xoxe.xoxb-installed"

    sender = SlackSender(stack.base_url, slack)
    assert sender.command("/share-secret", team_id="T0OTHER").status_code == 200
    [opened] = slack.wait_for("views.open")
    assert opened.token == "xoxe.xoxb-rotated-1"  # refreshed before use...
    [refresh] = [call for call in slack.calls_to("oauth.v2.access")
                 if call.args.get("grant_type") == "refresh_token"]
    assert refresh.token == "Basic " + base64.b64encode(b"1234.5678:client-secret").decode()
    assert stored_bot_token(stack) == "xoxe.xoxb-rotated-1"  # ...and stored

    # The scheduler's creator DMs use the same store: a token near its end is refreshed too.
    with stack.services.engine.begin() as connection:
        connection.execute(SLACK_BOTS.update().values(
            bot_token_expires_at=datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=1)))
    notice_sender = stack.notifier().sender
    assert isinstance(notice_sender, SlackNoticeSender)
    assert notice_sender.workspaces.bot_token("T0OTHER") == "xoxe.xoxb-rotated-2"
    assert stored_bot_token(stack) == "xoxe.xoxb-rotated-2"
    # A fresh one is used as it is.
    assert notice_sender.workspaces.bot_token("T0OTHER") == "xoxe.xoxb-rotated-2"
    assert slack.rotations == 2
