"""SMTP delivery with plain, STARTTLS or implicit TLS, and optional login."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from core.errors import MailUnavailable

log = logging.getLogger(__name__)


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "none",
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        ca_file: Path | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError("security is none, starttls or tls")
        self._host = host
        self._port = port
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._ca_file = ca_file

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._tls_context()
            )
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            client.ehlo()
            if self._security == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if self._username:
                client.login(self._username, self._password)
        except BaseException:
            client.close()
            raise
        return client

    def _talk(self, operation: str, message: EmailMessage | None) -> None:
        try:
            client = self._connect()
            try:
                if message is None:
                    client.noop()
                else:
                    client.send_message(message)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            # The type names the failure; messages could echo addresses.
            log.warning("mail %s failed: %s", operation, type(exc).__name__)
            raise MailUnavailable("the mail server could not be reached; try again later") from exc

    def send(self, message: EmailMessage) -> None:
        self._talk("send", message)

    def check_ready(self) -> None:
        self._talk("check", None)
