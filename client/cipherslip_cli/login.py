"""``slip login``: the browser approves, the CLI receives a one-time code on a loopback port
and trades it (with its PKCE verifier) for an API token — so it works with any SSO."""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import socket
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

WAIT_SECONDS = 300


@dataclass
class _Answer:
    arrived: threading.Event = field(default_factory=threading.Event)
    query: dict[str, list[str]] = field(default_factory=dict)


class LoginFailed(Exception):
    pass


def _handler(answer: _Answer) -> type[http.server.BaseHTTPRequestHandler]:
    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            answer.query = parse_qs(parts.query)
            approved = "code" in answer.query
            body = (b"Cipherslip CLI: signed in. You can close this tab." if approved
                    else b"Cipherslip CLI: not signed in. You can close this tab.")
            self.send_response(200)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            answer.arrived.set()

        def log_message(self, *_: object) -> None:
            pass  # the code is in the request line: never print it

    return Callback


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def login(server: str, *, device: str | None = None, open_browser: bool = True,
          announce: Callable[[str], None] = print, wait_seconds: float = WAIT_SECONDS,
          ) -> dict[str, str]:
    """The created token's JSON (``token``, ``id``, ``name``, …)."""
    answer = _Answer()
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(answer))
    port = listener.server_address[1]
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        redirect = f"http://127.0.0.1:{port}/callback"
        url = f"{server}/cli/authorize?" + urlencode({
            "redirect_uri": redirect, "state": state, "code_challenge": challenge,
            "code_challenge_method": "S256", "device": device or socket.gethostname()})
        announce(f"Approve the CLI in your browser: {url}")
        if open_browser:
            webbrowser.open(url)
        if not answer.arrived.wait(wait_seconds):
            raise LoginFailed("no answer from the browser in time; run login again")
    finally:
        listener.shutdown()
        listener.server_close()
    if answer.query.get("state") != [state]:
        raise LoginFailed("the browser's answer does not belong to this login; run it again")
    if "code" not in answer.query:
        raise LoginFailed("the sign-in was denied in the browser")
    response = httpx.post(f"{server}/api/v1/cli/token", timeout=30, json={
        "code": answer.query["code"][0], "code_verifier": verifier, "redirect_uri": redirect})
    if response.status_code != 201:
        raise LoginFailed(_message(response))
    created: dict[str, str] = response.json()
    return created


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"the server answered HTTP {response.status_code}"
