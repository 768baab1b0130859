"""The Revoke button's listener, called as a function."""

from __future__ import annotations

from sqlalchemy import select

from bot.listeners.revoke_button import ACTION, revoke_clicked
from core.db.models import Secret
from tests.bot.listeners.conftest import Listening
from tests.support.async_client import run_async


def clicked(secret_id: str, user_id: str) -> dict[str, object]:
    return {"actions": [{"action_id": ACTION, "value": secret_id}], "team": {"id": "T0TEST"},
            "user": {"id": user_id}, "response_url": "https://hooks.example/response",
            "container": {"type": "message"}}


def status_of(listening: Listening, secret_id: str) -> str:
    with listening.services.db() as session:
        return str(session.scalar(select(Secret.status).where(Secret.id == secret_id)))


def test_it_acks_first_and_revokes_the_creators_secret(listening: Listening) -> None:
    secret_id = listening.secret_of("alice@example.com")
    run_async(revoke_clicked(ack=listening.ack, body=clicked(secret_id, "U0ALICE"),
                             respond=listening.respond, client=listening.client,
                             context=listening.context))
    assert listening.log[0] == ("ack", {})
    assert status_of(listening, secret_id) == "revoked"
    assert listening.responses == []  # nothing to complain about


def test_someone_elses_secret_is_refused_in_a_sentence_and_kept(listening: Listening) -> None:
    secret_id = listening.secret_of("alice@example.com")
    listening.secret_of("bob@example.com")  # bob is a Cipherslip user too
    run_async(revoke_clicked(ack=listening.ack, body=clicked(secret_id, "U0BOB"),
                             respond=listening.respond, client=listening.client,
                             context=listening.context))
    [answer] = listening.responses
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(":no_entry: ") and answer["text"].endswith(".")
    assert answer["text"][len(":no_entry: ")].isupper()
    assert status_of(listening, secret_id) == "active"
