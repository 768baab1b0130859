"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives.

Plain, STARTTLS or implicit TLS (with a certificate made on the spot), with or without AUTH.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.servers import free_port


@dataclass
class ReceivedMail:
    messages: list[EmailMessage] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
                self._arrived.wait(remaining)
            return list(self.messages)


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", plain_text(message))


@dataclass
class SmtpServer:
    controller: Controller
    mail: ReceivedMail
    port: int
    ca_file: Path | None
    options: dict[str, Any]
    running: bool = True

    def stop(self) -> None:
        """Take the server down (a mail outage); safe to call twice."""
        if self.running:
            self.controller.stop()
            self.running = False

    def start(self) -> None:
        """Bring a stopped server back on the same port, keeping what it received."""
        if not self.running:
            self.controller = Controller(self.mail, hostname="127.0.0.1", port=self.port,
                                         **self.options)
            self.controller.start()
            self.running = True


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@contextmanager
def smtp_server(
    directory: Path | None = None, *, security: str = "none",
    credentials: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    mail = ReceivedMail()
    kwargs: dict[str, Any] = {}
    ca_file = None
    if security != "none":
        assert directory is not None, "TLS needs a directory for the certificate"
        ca_file, key_file = self_signed_certificate(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ca_file, key_file)
        kwargs["ssl_context" if security == "tls" else "tls_context"] = context
    if credentials is not None:
        def authenticate(_server: Any, _session: Any, _envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:
            ok = (isinstance(auth_data, LoginPassword)
                  and (auth_data.login.decode(), auth_data.password.decode()) == credentials)
            return AuthResult(success=ok)
        kwargs["authenticator"] = authenticate
        # Under implicit TLS the whole connection is encrypted; aiosmtpd only knows STARTTLS.
        kwargs["auth_require_tls"] = security == "starttls"
    port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    server = SmtpServer(controller, mail, port, ca_file, kwargs)
    try:
        yield server
    finally:
        server.stop()
