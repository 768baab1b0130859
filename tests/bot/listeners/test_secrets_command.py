"""`/secrets`, called as a function: help, sign-in hint, list, and refusals as sentences."""

from __future__ import annotations

from bot.listeners.secrets_command import secrets_command
from tests.bot.listeners.conftest import Listening
from tests.support.async_client import run_async


def command(text: str, user_id: str = "U0ALICE") -> dict[str, object]:
    return {"command": "/secrets", "text": text, "user_id": user_id, "team_id": "T0TEST"}


def run(listening: Listening, text: str, user_id: str = "U0ALICE") -> dict[str, object]:
    run_async(secrets_command(ack=listening.ack, body=command(text, user_id),
                              respond=listening.respond, client=listening.client,
                              context=listening.context))
    assert listening.log[0] == ("ack", {})
    [answer] = listening.responses
    return answer


def test_an_unknown_subcommand_gets_the_help(listening: Listening) -> None:
    answer = run(listening, "frobnicate")
    assert "frobnicate" in str(answer["blocks"]) and answer["response_type"] == "ephemeral"


def test_someone_who_never_signed_in_is_told_how(listening: Listening) -> None:
    answer = run(listening, "list", user_id="U0CAROL")
    assert "Sign in to Cipherslip once at" in str(answer["text"])


def test_list_shows_the_callers_secrets(listening: Listening) -> None:
    listening.secret_of("alice@example.com")
    answer = run(listening, "list")
    assert "seeded 0" in str(answer["blocks"])


def test_audit_is_refused_to_a_non_admin_in_a_sentence(listening: Listening) -> None:
    listening.secret_of("alice@example.com")
    answer = run(listening, "audit")
    text = str(answer["text"])
    assert text[0].isupper() and text.endswith(".") and "super admin" in text
