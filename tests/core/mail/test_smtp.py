"""SMTP delivery against a real SMTP server, in each security mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import MailUnavailable
from core.mail.messages import magic_link_message
from core.mail.smtp import SmtpMailer
from tests.support.servers import free_port
from tests.support.smtp import html_text, links_in, plain_text, smtp_server

LINK = "http://127.0.0.1:8000/verify#abc123"


def message(to: str = "guest@partner.test") -> object:
    return magic_link_message(
        mail_from="Cipherslip <noreply@example.com>", to=to, sender_name="Alice Doe",
        sender_email="alice@example.com", label='DB <password> & "more"', link=LINK,
        product="Cipherslip",
    )


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_delivers_in_every_security_mode_with_login(tmp_path: Path, security: str) -> None:
    credentials = ("relay-user", "relay-pass")
    with smtp_server(tmp_path, security=security,
                     credentials=credentials if security != "none" else None) as server:
        mailer = SmtpMailer(host="127.0.0.1", port=server.port, security=security,
                            username=credentials[0] if security != "none" else "",
                            password=credentials[1] if security != "none" else "",
                            ca_file=server.ca_file)
        mailer.check_ready()
        mailer.send(message())  # type: ignore[arg-type]
        [received] = server.mail.wait_for(1)
    assert received["To"] == "guest@partner.test"
    assert received["Subject"] == "Alice Doe shared a secret with you"
    assert links_in(received) == [LINK]
    assert 'labelled "DB <password> & "more""' in plain_text(received)
    assert "&lt;password&gt; &amp;" in html_text(received)  # the label is text in HTML too


def test_wrong_password_is_mail_unavailable(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="starttls", credentials=("u", "right")) as server:
        mailer = SmtpMailer(host="127.0.0.1", port=server.port, security="starttls",
                            username="u", password="wrong", ca_file=server.ca_file)
        with pytest.raises(MailUnavailable):
            mailer.send(message())  # type: ignore[arg-type]
        assert server.mail.messages == []


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="tls") as server:
        mailer = SmtpMailer(host="127.0.0.1", port=server.port, security="tls")
        with pytest.raises(MailUnavailable):
            mailer.check_ready()


def test_server_down_is_mail_unavailable_and_names_no_address() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(MailUnavailable) as failure:
        mailer.send(message("secret-person@partner.test"))  # type: ignore[arg-type]
    assert "secret-person" not in str(failure.value)
    with pytest.raises(MailUnavailable):
        mailer.check_ready()
