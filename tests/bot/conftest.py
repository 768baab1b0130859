"""The Slack app's fixtures: a fake Slack Web API, and a stack whose Bolt app talks to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.slack import FakeSlack, SlackSender, fake_slack, slack_settings
from tests.support.stack import Stack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as fake:
        fake.add_user("U0ALICE", "alice@example.com", "Alice")
        fake.add_user("U0BOB", "bob@example.com", "Bob")
        fake.add_user("U0CAROL", "carol@example.com", "Carol")
        fake.add_user("U0ADMIN", "admin@example.com", "Ada Admin")
        yield fake


@pytest.fixture
def stack_options(slack: FakeSlack) -> dict[str, object]:
    return {**slack_settings(slack), "super_admin_emails": ("admin@example.com",)}


@pytest.fixture
def sender(stack: Stack, slack: FakeSlack) -> SlackSender:
    return SlackSender(stack.base_url, slack)

