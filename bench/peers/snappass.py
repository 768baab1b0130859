"""Snappass (Pinterest's one-time secret app) as the peer of a side-by-side bench.

Snappass 1.6.2 is a Flask app: it encrypts each secret with a fresh Fernet key, stores the
ciphertext in Redis under a random key with the chosen TTL, and puts the Fernet key only in
the link. It runs here as it is deployed: under gunicorn with sync workers, in a venv of its
own (Flask, Werkzeug and redis-py must not meet the repo's versions), on plain HTTP.

Environment Snappass reads when ``snappass.main`` is imported:

- ``REDIS_URL`` (wins over ``REDIS_HOST``, ``REDIS_PORT`` and ``SNAPPASS_REDIS_DB``);
- ``NO_SSL``: unless true, the link it shows is rewritten to ``https://``;
- ``SECRET_KEY``: Flask's session key; no route uses a session, set so it is not the default;
- ``URL_PREFIX``, ``HOST_OVERRIDE``, ``REDIS_PREFIX``, ``STATIC_URL``, ``DEBUG``,
  ``MOCK_REDIS``: removed from the child's environment so that none changes what is measured.

The client drives Snappass as its users do, through the pages a browser gets:

- create: ``POST /`` with the form's fields ``password`` and ``ttl=Hour``, and the link read
  from the confirmation page (``#password-link``). 1.6.2 has no ``/api/`` routes (they came
  later), and no CSRF token, so the form page need not be fetched first: one request per
  secret. ``POST /`` answers JSON when a client accepts JSON but not HTML; the README of 1.6.2
  does not mention it, so an automation user would not know of it, and the HTML is what every
  Snappass user gets.
- reveal: ``GET`` the link, which shows a "Reveal secret" button so that link previewers do
  not burn the secret, then ``POST`` to the same URL with an empty form, as the button's script
  (``preview.js``) does; the secret is in the ``#password-text`` textarea. Either answers 404
  with "Secret not found" once the secret is gone.

Static assets (Bootstrap, jQuery, Font Awesome) are not fetched: a browser has them cached.

gunicorn workers import Snappass after they fork, so the first requests after the port answers
may wait for a worker's import: warm up before measuring.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from bench.memory import descendants
from bench.processes import process
from cli.dev import _wait_until_up
from tests.support.servers import free_port

SNAPPASS_VERSION = "1.6.2"
GUNICORN_VERSION = "27.0.1"
# Snappass 1.6.2 runs unchanged on Python 3.11 with the newest Flask, Werkzeug, redis-py and
# cryptography; they are pinned to the versions it was checked with so that its figures do
# not move when one of them is released.
PINNED_REQUIREMENTS = (
    f"snappass=={SNAPPASS_VERSION}",
    f"gunicorn=={GUNICORN_VERSION}",
    "flask==3.1.3",
    "werkzeug==3.1.9",
    "redis==8.2.0",
    "cryptography==51.0.1",
)
PINS_MARKER = "cipherslip-pins.txt"

# Variables Snappass or gunicorn read that the caller's environment must not set for it.
FOREIGN_VARIABLES = frozenset({
    "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "SNAPPASS_REDIS_DB", "REDIS_PREFIX", "NO_SSL",
    "URL_PREFIX", "HOST_OVERRIDE", "STATIC_URL", "DEBUG", "MOCK_REDIS", "SECRET_KEY",
    "GUNICORN_CMD_ARGS", "PYTHONPATH",
})

# What a browser sends when it follows a link or submits a form; with aiohttp's default
# ``*/*`` Snappass would answer HTML too, but this leaves no doubt.
BROWSER_ACCEPT = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
EMPTY_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LINK_FIELD = re.compile(r'id="password-link" value="([^"]*)"')
SECRET_FIELD = re.compile(r'id="password-text"[^>]*>(.*?)</textarea>', re.DOTALL)


def ensure_venv(directory: Path) -> Path:
    """A venv in ``directory`` with the pinned Snappass and gunicorn; its bin directory.

    The marker holding the pins is written after pip succeeds, so an interrupted or outdated
    install is redone from a clean venv, and a complete one is reused without running pip."""
    bin_dir = directory / "bin"
    marker = directory / PINS_MARKER
    pins = "\n".join(PINNED_REQUIREMENTS) + "\n"
    if marker.is_file() and marker.read_text() == pins and (bin_dir / "gunicorn").is_file():
        return bin_dir
    directory.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)], check=True)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                    *PINNED_REQUIREMENTS], check=True)
    marker.write_text(pins)
    return bin_dir


@dataclass(frozen=True)
class SnappassServer:
    base_url: str
    master_pid: int

    def pids(self) -> list[int]:
        """The gunicorn master and its workers, read now: gunicorn replaces a worker that dies
        with a new process."""
        return descendants(self.master_pid)


@contextmanager
def snappass_server(bin_dir: Path, *, workers: int, redis_url: str, log: Path) -> Iterator[
        SnappassServer]:
    """Snappass under gunicorn with ``workers`` sync workers on a free port of 127.0.0.1,
    storing secrets in ``redis_url`` (give it a database of its own), its output in ``log``."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items()
                   if name not in FOREIGN_VARIABLES}
    environment |= {"REDIS_URL": redis_url, "NO_SSL": "True", "SECRET_KEY": secrets.token_hex(32)}
    command = [
        str(bin_dir / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        # Out of the repo, whose directory gunicorn would otherwise put on sys.path.
        "--chdir", str(bin_dir.parent),
        # gunicorn 27's control socket lives in ~/.gunicorn, shared by every server started.
        "--no-control-socket",
        "--graceful-timeout", "5",
        "snappass.main:app",
    ]
    with process(command, environment, log) as master:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base_url}/", master)
        yield SnappassServer(base_url, master.pid)


async def create(session: aiohttp.ClientSession, base_url: str, text: str) -> str:
    """Stores ``text`` for an hour through Snappass's form; the one-time link it shows."""
    async with session.post(f"{base_url}/", data={"password": text, "ttl": "Hour"},
                            headers=BROWSER_ACCEPT) as response:
        response.raise_for_status()
        page = await response.text()
    link = LINK_FIELD.search(page)
    if link is None:
        raise RuntimeError(f"no link in Snappass's confirmation page: {page[:200]!r}")
    return html.unescape(link.group(1))


async def reveal(session: aiohttp.ClientSession, link: str) -> str | None:
    """The secret behind ``link``, revealed as a recipient does (open the link, press "Reveal
    secret"); None when Snappass says it is gone."""
    # As shown, byte for byte: yarl would otherwise decode the key's %3D padding.
    url = URL(link, encoded=True)
    async with session.get(url, headers=BROWSER_ACCEPT) as preview:
        if preview.status == 404:
            return None
        preview.raise_for_status()
        await preview.read()
    async with session.post(url, data=b"", headers=BROWSER_ACCEPT | EMPTY_FORM) as response:
        if response.status == 404:
            return None
        response.raise_for_status()
        page = await response.text()
    secret = SECRET_FIELD.search(page)
    if secret is None:
        raise RuntimeError(f"no secret in Snappass's page: {page[:200]!r}")
    # A browser would drop a newline at the start of a textarea; kept, so that every text
    # round-trips exactly.
    return html.unescape(secret.group(1))
