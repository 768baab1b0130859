from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail server; MailUnavailable if it was not accepted."""
        ...

    def check_ready(self) -> None:
        """Talk to the mail server as a send would (connect, TLS, login) without sending;
        MailUnavailable if it fails."""
        ...
