"""Only Slack gets in (signature and a fresh timestamp), and an event delivered twice is
handled once."""

from __future__ import annotations

import json
import time

from tests.support.slack import FakeSlack, SlackSender, sign


def home_event(user: str = "U0ALICE") -> dict[str, str]:
    return {"type": "app_home_opened", "user": user, "tab": "home"}


def test_a_bad_signature_is_refused_and_nothing_happens(
    sender: SlackSender, slack: FakeSlack
) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T0CIPHER", "event_id": "Ev1",
                       "event": home_event()}).encode()
    forged = sender.post(body, "application/json", signature=sign(body, int(time.time()),
                                                                   "not-the-secret"))
    assert forged.status_code == 401
    unsigned = sender.post(body, "application/json", signature="v0=")
    assert unsigned.status_code == 401
    tampered = sender.post(body.replace(b"U0ALICE", b"U0BOB"), "application/json",
                           signature=sign(body, int(time.time())))
    assert tampered.status_code == 401
    time.sleep(0.2)
    assert slack.calls_to("views.publish") == []


def test_a_timestamp_older_than_five_minutes_is_refused(
    sender: SlackSender, slack: FakeSlack
) -> None:
    body = b"command=%2Fshare-secret&text=&user_id=U0ALICE&team_id=T0CIPHER&trigger_id=t.1"
    old = int(time.time()) - 6 * 60
    response = sender.post(body, "application/x-www-form-urlencoded", timestamp=old)
    assert response.status_code == 401
    fresh = sender.post(body, "application/x-www-form-urlencoded",
                        timestamp=int(time.time()) - 4 * 60)
    assert fresh.status_code == 200
    assert len(slack.wait_for("views.open")) == 1


def test_the_same_event_delivered_twice_is_handled_once(
    sender: SlackSender, slack: FakeSlack
) -> None:
    assert sender.event(home_event(), event_id="Ev0REDELIVERED").status_code == 200
    assert sender.event(home_event(), event_id="Ev0REDELIVERED").status_code == 200
    slack.wait_for("views.publish")
    assert sender.event(home_event(), event_id="Ev0ANOTHER").status_code == 200
    slack.wait_for("views.publish", count=2)
    time.sleep(0.2)
    assert len(slack.calls_to("views.publish")) == 2
