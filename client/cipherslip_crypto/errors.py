"""The errors the formats raise; the root of the project's own exceptions.

The server's ``core.errors`` builds its vocabulary on :class:`CipherslipError`, so a refusal
raised here (a malformed share code, a stream that does not authenticate) reaches the API's
one error table like any other, and the CLI reads the same ``code`` strings.
"""

from __future__ import annotations


class CipherslipError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CipherslipError):
    code = "invalid_input"


class InvalidShareCode(InvalidInput):
    code = "invalid_share_code"


class CryptoError(CipherslipError):
    code = "crypto_error"


class StreamFormatError(CryptoError):
    code = "stream_format"


class StreamAuthenticationError(CryptoError):
    code = "stream_authentication"


class StreamTruncatedError(CryptoError):
    code = "stream_truncated"
