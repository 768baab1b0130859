"""How a refusal reads to a person: the one path from a domain error to a sentence, used by
the JSON API (its ``message``), the pages and Slack.

Errors are written as API messages ("only super admins can …"). A backend's own words can
name keys, paths or internal addresses, so those failures read as fixed sentences and their
details go to the log instead.
"""

from __future__ import annotations

from core import errors

BACKEND_FAILURES: dict[type[errors.CipherslipError], str] = {
    errors.BlobStoreError: "Stored content cannot be reached right now; nothing was changed. "
                           "Try again in a minute.",
    errors.VaultUnavailable: "The key service cannot be reached right now; nothing was "
                             "changed. Try again in a minute.",
    errors.VaultRejected: "the key service refused this request; try again later",
}


def public_message(error: errors.CipherslipError) -> str:
    """What a person may be told about ``error``: its message, unless a backend wrote it."""
    for error_class, message in BACKEND_FAILURES.items():
        if isinstance(error, error_class):
            return message
    return error.message


def as_sentence(message: str) -> str:
    """A message as a sentence: capitalised, with a full stop."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?", "…")) else message + "."


def sentence(error: errors.CipherslipError) -> str:
    """The refusal as a page or a Slack message shows it."""
    return as_sentence(public_message(error))


def field_note(error: errors.CipherslipError) -> str:
    """The refusal as a note under the form field at fault: capitalised, with no full stop
    added (a note often ends with the address or value it is about)."""
    message = public_message(error).strip()
    return message[:1].upper() + message[1:]
