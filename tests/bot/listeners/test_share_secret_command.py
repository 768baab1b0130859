"""`/share-secret`, called as a function: ack first, then the modal, with no content field."""

from __future__ import annotations

from bot.listeners.share_secret_command import open_share_modal
from bot.listeners.share_secret_submission import VIEW
from tests.bot.listeners.conftest import Listening
from tests.support.async_client import run_async


def test_it_acks_then_opens_the_modal_without_a_content_field(listening: Listening) -> None:
    body = {"command": "/share-secret", "trigger_id": "13345.trigger", "user_id": "U0ALICE",
            "team_id": "T0TEST"}
    run_async(open_share_modal(ack=listening.ack, body=body, client=listening.client))
    assert listening.log == [("ack", {})]
    [call] = listening.slack.calls_to("views.open")
    assert call.args["trigger_id"] == "13345.trigger"
    view = call.args["view"]
    assert view["callback_id"] == VIEW  # answered by the submission listener
    inputs = [block for block in view["blocks"] if block["type"] == "input"]
    assert inputs  # recipients, expiry, views …
    # … but nowhere to type the secret itself: content is only ever typed in the browser.
    assert not any(block["element"].get("multiline") for block in inputs)
