"""The project's own exceptions.

Backends translate vendor exceptions (botocore, OS errors, httpx) into these, so callers
handle one vocabulary. Each error has a stable machine ``code`` for API clients; the API
layer maps classes to HTTP statuses in one table (``api/errors.py``).
"""

from __future__ import annotations

# The root, bad input, share codes and the formats' errors are defined with the formats (the
# CLI ships them too); everything below builds on them.
from cipherslip_crypto.errors import (
    CipherslipError,
    CryptoError,
    InvalidInput,
    InvalidShareCode,
    StreamAuthenticationError,
    StreamFormatError,
    StreamTruncatedError,
)

__all__ = [
    "CipherslipError", "CryptoError", "InvalidInput", "InvalidShareCode",
    "StreamAuthenticationError", "StreamFormatError", "StreamTruncatedError",
]


# --- request problems (the caller can fix them) -------------------------------------------
class PayloadTooLarge(CipherslipError):
    code = "payload_too_large"


class UnsupportedMediaType(CipherslipError):
    code = "unsupported_media_type"


class AuthenticationRequired(CipherslipError):
    code = "authentication_required"


class AccessDenied(CipherslipError):
    code = "access_denied"


class InvalidToken(AuthenticationRequired):
    """An API token that is malformed, unknown, expired or revoked (which, is not said)."""

    code = "invalid_token"

    def __init__(self, message: str = "this API token is not valid: it may be mistyped, "
                                      "expired or revoked") -> None:
        super().__init__(message)


class InsufficientScope(AccessDenied):
    code = "insufficient_scope"


class NotFound(CipherslipError):
    code = "not_found"


class Conflict(CipherslipError):
    code = "conflict"


class CsrfFailure(CipherslipError):
    code = "csrf_failed"


class RateLimited(CipherslipError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SecretUnavailable(CipherslipError):
    """The secret reached a terminal state; ``status`` is expired, burned or revoked."""

    code = "secret_unavailable"

    def __init__(self, status: str) -> None:
        super().__init__(f"This secret is {status}.")
        self.status = status


# --- infrastructure problems (retry later; nothing was consumed) -------------------------
# When to try again after a 503: outages worth reporting last longer than a few seconds.
RETRY_AFTER_SECONDS = 10


class ServiceUnavailable(CipherslipError):
    code = "service_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"


class VaultUnavailable(ServiceUnavailable):
    code = "vault_unavailable"


class VaultRejected(CipherslipError):
    """The vault answered but refused (bad credential, bad key, wrong context)."""

    code = "vault_rejected"

    def __init__(
        self, message: str, *, field: str | None = None, vault_code: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.vault_code = vault_code


class IdentityProviderUnavailable(ServiceUnavailable):
    code = "identity_provider_unavailable"


class MailUnavailable(ServiceUnavailable):
    code = "mail_unavailable"


class CacheUnavailable(ServiceUnavailable):
    code = "cache_unavailable"


class BlobStoreError(ServiceUnavailable):
    code = "blob_store_unavailable"


class BlobNotFound(CipherslipError):
    code = "blob_not_found"


class KmsError(CipherslipError):
    code = "kms_error"


class KmsUnavailable(KmsError):
    code = "kms_unavailable"


class InvalidWrappedKey(KmsError):
    """The wrapped key does not decrypt under this context (tampered, or wrong secret)."""

    code = "invalid_wrapped_key"


# --- cryptography (the formats' own errors are imported above) ---------------------------
class LinkDamaged(InvalidInput):
    """The link's key does not match the secret's key check: the link was cut or altered on
    its way (mail clients and chat apps do both). No view was used."""

    code = "link_damaged"

    def __init__(self) -> None:
        super().__init__("This link is damaged or incomplete, so it cannot open the secret. "
                         "No view was used: ask the sender for the whole link.",
                         field="key_check")
