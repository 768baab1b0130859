"""How the vault answers failures: ``{"error": {"code", "message"[, "field"]}}``.

Messages come from our own exceptions and never quote request bytes, so an error body can be
logged or shown by the api without leaking what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ExceptionHandler

from core.errors import (
    RETRY_AFTER_SECONDS,
    AuthenticationRequired,
    CipherslipError,
    InvalidInput,
    InvalidWrappedKey,
    KmsError,
    KmsUnavailable,
    PayloadTooLarge,
)


class VaultConfigurationError(CipherslipError):
    """The vault's settings are unsafe or incomplete; it refuses to start."""

    code = "vault_misconfigured"


# First match wins, so subclasses come before their parents.
_STATUS_BY_ERROR: tuple[tuple[type[CipherslipError], int], ...] = (
    (InvalidWrappedKey, 422),
    (KmsUnavailable, 503),
    (KmsError, 502),  # the KMS answered but refused: permissions, disabled key
    (PayloadTooLarge, 413),
    (InvalidInput, 400),
    (AuthenticationRequired, 401),
)


def status_for(error: CipherslipError) -> int:
    for error_class, status in _STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 500


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, str] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def _cipherslip_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CipherslipError)
    status = status_for(exc)
    # The api passes its own Retry-After on; this one is for any other caller of the vault.
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return error_response(status, exc.code, exc.message, field=exc.field, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's default answer echoes the offending input back; name the field instead.
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(400, InvalidInput.code, "the request is invalid")
    first = errors[0]
    if first.get("type") == "json_invalid":
        return error_response(
            400, InvalidInput.code, "the request body is not valid JSON", field="body"
        )
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = ".".join(location) or "body"
    return error_response(
        400, InvalidInput.code, f"{field}: {first.get('msg', 'invalid')}", field=field
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(
        exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None)
    )


EXCEPTION_HANDLERS: Mapping[type[Exception], ExceptionHandler] = {
    CipherslipError: _cipherslip_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
}
