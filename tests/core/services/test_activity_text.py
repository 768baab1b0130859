"""Every audit event a creator can see reads as a sentence, never as an event name."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.services import audit
from core.services.activity_text import describe


@dataclass(frozen=True)
class Event:
    activity_name: str
    actor_email: str | None = "bob@example.com"
    status_detail: str | None = None


@pytest.mark.parametrize("name", audit.EVENT_NAMES)
def test_every_event_name_has_a_sentence(name: str) -> None:
    sentence = describe(Event(name, status_detail="not_a_recipient"))
    assert not sentence.startswith("paper_") and "bob@example.com" in sentence


@pytest.mark.parametrize(("reason", "expected"), [
    ("link_damaged", "bob@example.com opened a damaged link; no view was used"),
    ("not_a_recipient", "bob@example.com tried to open it, but it was not shared with them"),
    ("burned", "bob@example.com tried to open it after its last view"),
    ("something new", "bob@example.com was refused access"),
])
def test_refusals_say_why(reason: str, expected: str) -> None:
    assert describe(Event(audit.ACCESS_DENIED, status_detail=reason)) == expected


def test_an_event_without_an_actor_still_reads() -> None:
    assert describe(Event(audit.OPENED_INTERNAL, actor_email=None)) == "Opened by someone"
