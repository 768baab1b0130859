"""The rules and limits of docs/ARCHITECTURE.md, enforced by the server whatever the client did."""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from cipherslip_crypto import csl1
from cipherslip_crypto.hpke import parse_public_key
from cipherslip_crypto.kdf import KEY_CHECK_SIZE
from cipherslip_crypto.meta import FORMATS

from core.errors import InvalidInput, PayloadTooLarge
from core.services.states import FILE, TEXT
from core.services.uploads import FILE_MAX_BYTES

INTERNAL_RECIPIENTS_MAX = 128
EXTERNAL_RECIPIENTS_MAX = 64
LABEL_MAX_CHARS = 200
TEXT_MAX_BYTES = 64 * 1024
EXPIRY_MIN = timedelta(hours=1)
EXPIRY_MAX = timedelta(days=30)
VIEW_LIMIT_MAX = 1000
# What the web form and the Slack modal offer (the API takes any value in range).
EXPIRY_CHOICES = [
    (3600, "1 hour"), (6 * 3600, "6 hours"), (86400, "1 day"), (3 * 86400, "3 days"),
    (7 * 86400, "7 days"), (14 * 86400, "14 days"), (30 * 86400, "30 days"),
]
# format + file name (<= 255 bytes UTF-8, JSON-escaped) + media type + size, plus the tag.
SEALED_META_MAX_BYTES = 2048
TEXT_FORMATS = ("text", "json", "yaml", "env")
RECIPIENTS_MAX = {"internal": INTERNAL_RECIPIENTS_MAX, "external": EXTERNAL_RECIPIENTS_MAX}
EMAIL_MAX = 320

_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s,;<>()\[\]\"]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+$")


@dataclass(frozen=True)
class NewSecretRequest:
    audience: str
    recipients: list[str]
    format: str
    label: str | None
    expires_in_seconds: int
    view_limit: int | None
    public_key: bytes
    plaintext_size: int | None = None  # files: declared, and the upload must match it
    draft_token: str | None = None  # made in Slack: used up by this secret


DISPLAY_NAME_MAX = 200


def clean_display_name(raw: str) -> str:
    """A name as people and mail headers can take it: control and format characters
    (CR, LF, tabs, bidirectional overrides…) and line separators become spaces, runs of
    spaces one, at most DISPLAY_NAME_MAX characters. Empty if nothing printable was left."""
    kept = "".join(" " if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp")
                   else character for character in raw)
    return " ".join(kept.split())[:DISPLAY_NAME_MAX]


def normalize_email(raw: str, *, field: str = "recipients") -> str:
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise InvalidInput(f"{raw.strip()[:100]!r} is not an email address", field=field)
    return email


def split_email_list(text: str) -> list[str]:
    """Addresses typed or pasted as a list: separated by commas, semicolons or new lines."""
    return [entry.strip() for entry in re.split(r"[,;\n]", text) if entry.strip()]


def normalize_recipients(raw: list[str], *, maximum: int, field: str = "recipients",
                         per: str = "secret") -> list[str]:
    """Validated, lower-cased, de-duplicated (first occurrence wins) emails: a secret's
    recipients, or (``field="responders"``, ``per="request"``) a request's responders."""
    noun = field.removesuffix("s")
    emails: list[str] = []
    for entry in raw:
        email = normalize_email(entry, field=field)
        if email not in emails:
            emails.append(email)
    if not emails:
        raise InvalidInput(f"add at least one {noun}", field=field)
    if len(emails) > maximum:
        raise InvalidInput(f"at most {maximum} {field} per {per}, got {len(emails)}",
                           field=field)
    return emails


def normalize_label(label: str | None) -> str | None:
    if label is None or not label.strip():
        return None
    label = label.strip()
    if len(label) > LABEL_MAX_CHARS:
        raise InvalidInput(
            f"the label is at most {LABEL_MAX_CHARS} characters, got {len(label)}", field="label"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in label):
        raise InvalidInput("the label must be a single line of text", field="label")
    return label


def check_expiry(seconds: int) -> timedelta:
    # Compare before building a timedelta: a huge number would overflow it.
    if not EXPIRY_MIN.total_seconds() <= seconds <= EXPIRY_MAX.total_seconds():
        raise InvalidInput(
            "expires_in_seconds must be between 3600 (1 hour) and 2592000 (30 days)",
            field="expires_in_seconds",
        )
    return timedelta(seconds=seconds)


def check_view_limit(view_limit: int | None) -> int | None:
    if view_limit is not None and not 1 <= view_limit <= VIEW_LIMIT_MAX:
        raise InvalidInput(
            f"view_limit must be between 1 and {VIEW_LIMIT_MAX}, or null for unlimited",
            field="view_limit",
        )
    return view_limit


def check_new_secret(request: NewSecretRequest) -> tuple[str, list[str], str | None]:
    """Validate a create request; returns (secret type, recipients, label)."""
    if request.audience not in RECIPIENTS_MAX:
        raise InvalidInput(
            "audience must be 'internal' (team members) or 'external' (email recipients)",
            field="audience",
        )
    if request.format not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    if request.format == "file":
        check_file_size(request.plaintext_size)
    recipients = normalize_recipients(request.recipients,
                                      maximum=RECIPIENTS_MAX[request.audience])
    label = normalize_label(request.label)
    check_expiry(request.expires_in_seconds)
    check_view_limit(request.view_limit)
    parse_public_key(request.public_key)
    return (FILE if request.format == "file" else TEXT), recipients, label


def check_file_size(plaintext_size: int | None) -> int:
    if plaintext_size is None or not 0 <= plaintext_size <= FILE_MAX_BYTES:
        raise InvalidInput(
            f"plaintext_size is the file's size in bytes, at most {FILE_MAX_BYTES:,} (1 GiB)",
            field="plaintext_size",
        )
    return plaintext_size


def max_plaintext_bytes(secret_type: str) -> int:
    return TEXT_MAX_BYTES


def max_upload_bytes(secret_type: str) -> int:
    # The largest well-framed stream whose plaintext fits: the canonical stream, or one with
    # an extra empty final record after a full one.
    return csl1.stream_size(max_plaintext_bytes(secret_type)) + csl1.TAG_SIZE


def upload_too_large(secret_type: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"text content is at most {max_plaintext_bytes(secret_type)} bytes "
        f"({max_upload_bytes(secret_type)} bytes once encrypted)"
    )


def check_upload(secret_type: str, stream_head: bytes, stream_length: int) -> None:
    """Reject uploads that cannot be a CSL1 stream within the type's size limit."""
    csl1.StreamHeader.parse(stream_head)
    if stream_length > max_upload_bytes(secret_type):
        raise upload_too_large(secret_type)
    if csl1.plaintext_size(stream_length) > max_plaintext_bytes(secret_type):
        raise upload_too_large(secret_type)


def check_key_check(key_check: bytes) -> None:
    if len(key_check) != KEY_CHECK_SIZE:
        raise InvalidInput(f"key_check must be {KEY_CHECK_SIZE} bytes", field="key_check")


def key_check_holds(stored: bytes | None, presented: bytes | None) -> bool:
    """Whether a reveal's link matches the secret's key check. Secrets shared before key
    checks existed have none and are not checked; otherwise a missing check fails."""
    if stored is None:
        return True
    return presented is not None and hmac.compare_digest(stored, presented)


def check_sealed_meta(sealed_meta: bytes) -> None:
    if not 16 < len(sealed_meta) <= SEALED_META_MAX_BYTES:
        raise InvalidInput(
            f"sealed_meta must be 17..{SEALED_META_MAX_BYTES} bytes", field="sealed_meta"
        )
