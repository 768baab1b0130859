"""Where a secret lives: its share page's path and URL, its ciphertext's blob keys, and a
request's page.

The one module that spells either, so that the share page, Slack's unfurls, the API's answers
and the purge jobs can never disagree about them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cipherslip_crypto.sharecode import normalize_share_code

from core.clock import RandomSource
from core.errors import InvalidShareCode

SHARE_PATH_PREFIX = "/s/"


def share_path(share_code: str) -> str:
    return f"{SHARE_PATH_PREFIX}{share_code}"


def share_url(base_url: str, share_code: str) -> str:
    """The link's address without its fragment: the browser appends ``#`` and the link key."""
    return base_url.rstrip("/") + share_path(share_code)


REQUEST_PATH_PREFIX = "/r/"


def request_path(request_code: str) -> str:
    return f"{REQUEST_PATH_PREFIX}{request_code}"


def request_url(base_url: str, request_code: str) -> str:
    """A request's address without its fragment (the requester's browser appends the key)."""
    return base_url.rstrip("/") + request_path(request_code)


def share_code_of(url: str, base_url: str) -> str | None:
    """The share code of a link to this deployment's share page, else None."""
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.scheme, link.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    prefix = base.path.rstrip("/") + SHARE_PATH_PREFIX
    if not link.path.startswith(prefix):
        return None
    try:
        return normalize_share_code(link.path[len(prefix):].strip("/"))
    except InvalidShareCode:
        return None


def blob_prefix(tenant_id: str, secret_id: str) -> str:
    """Every upload of a secret lives under this prefix, replaced and abandoned ones too."""
    return f"{tenant_id}/{secret_id}/"


def new_blob_key(tenant_id: str, secret_id: str, random: RandomSource) -> str:
    """A fresh key for one CSL1 ciphertext: unguessable, so a replaced upload never collides."""
    return f"{blob_prefix(tenant_id, secret_id)}{random.token_bytes(8).hex()}.csl1"
