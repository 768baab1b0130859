"""``cipherslip mail-sink``: a development SMTP server that prints and keeps every message.

It accepts any mail on loopback, prints the plain-text part (so the magic link is right in
the terminal of ``make run``) and saves each message as an ``.eml`` file. Never for
production: it delivers nothing.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class PrintingSink:
    def __init__(self, keep_dir: Path) -> None:
        self._keep_dir = keep_dir
        self._numbers = itertools.count(1)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        number = next(self._numbers)
        self._keep_dir.mkdir(parents=True, exist_ok=True)
        (self._keep_dir / f"{number:05d}.eml").write_bytes(envelope.content)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else "(no plain-text part)"
        print(f"\n--- mail #{number} to {message['To']}: {message['Subject']}\n{text}---",
              flush=True)
        return "250 kept by the development mail sink"


def run_mail_sink(port: int, keep_dir: Path) -> int:
    controller = Controller(PrintingSink(keep_dir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"development mail sink on 127.0.0.1:{port}; messages kept in {keep_dir}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_mail_sink(int(sys.argv[1]), Path(sys.argv[2])))
