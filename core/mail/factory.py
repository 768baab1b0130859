from __future__ import annotations

from core.mail.protocol import Mailer
from core.mail.smtp import SmtpMailer
from core.settings import Settings


def create_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(
        host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
        username=settings.smtp_username, password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds, ca_file=settings.smtp_ca_file,
    )
