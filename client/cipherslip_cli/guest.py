"""External recipients on the command line: they have no account and no token, so ``slip
reveal URL --email ADDRESS`` does the email step the share page does — asks for a sign-in
link, reads the link the person pastes from the email, confirms it — and reveals in that
session, which proves this one address for this one secret and nothing else.

The session is a cookie, like the browser's; its CSRF token is read from a page's
``<meta name="csrf-token">``, exactly where the browser's scripts read it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TextIO

from cipherslip_crypto.sharecode import normalize_share_code

from cipherslip_cli.api import Api, UsageError

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _prompt_for_link(stream: TextIO) -> str:
    print("Paste the sign-in link from the email (it works once, for 15 minutes):",
          file=sys.stderr)
    return stream.readline().strip()


def guest_api(server: str, share_code: str, email: str, *,
              read_link: Callable[[], str] | None = None, timeout: float = 60) -> Api:
    """An :class:`Api` in a guest session for ``email`` and this secret."""
    api = Api.anonymous(server, timeout=timeout)
    try:
        code = normalize_share_code(share_code)
        _refresh_csrf(api)
        api.call("POST", f"/api/v1/shares/{code}/magic-link", json={"email": email})
        print(f"If {email} may open this secret, a sign-in link is on its way.",
              file=sys.stderr)
        link = (read_link or (lambda: _prompt_for_link(sys.stdin)))()
        api.call("POST", "/api/v1/magic-links/consume", json={"token": _token_of(link)})
        _refresh_csrf(api)  # confirming starts a fresh session, with a fresh token
    except BaseException:
        api.__exit__()
        raise
    return api


def _token_of(link: str) -> str:
    token = link.partition("#")[2] if "#" in link else link
    if not _TOKEN.fullmatch(token):
        raise UsageError("that is not the sign-in link from the email (it ends in #… with "
                         "43 characters)")
    return token


def _refresh_csrf(api: Api) -> None:
    page = api.call("GET", "/verify")
    match = _CSRF_META.search(page.text)
    if match is None:
        raise UsageError(f"{api.server} did not answer like a Cipherslip server")
    api.http.headers["x-csrf-token"] = match.group(1)

