"""Logging for every Cipherslip process: one stream, JSON or text, nothing secret in it.

Nothing secret is ever passed to a logger; this module adds the guard rails: exception
messages are withheld (validation and crypto libraries quote the values they were given),
vendor loggers that dump request bodies at DEBUG are held at WARNING, and each JSON line
carries the id of the request being served.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# botocore and urllib3 log whole request and response bodies at DEBUG, which for KMS means
# wrapped and plaintext data keys; they never log below WARNING in any Cipherslip process.
VENDOR_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


# Marks the warning a development-only backend logs when it starts (local KMS, local blobs,
# in-memory caches). `cipherslip dev` hides these and prints one summary line instead.
DEVELOPMENT_BACKEND = "development_backend"


def warn_development_backend(logger: logging.Logger, message: str, *args: object) -> None:
    logger.warning(message, *args, extra={DEVELOPMENT_BACKEND: True})


class _WithoutDevelopmentWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, DEVELOPMENT_BACKEND, False)


def quiet_vendor_loggers() -> None:
    for name in VENDOR_LOGGERS:
        vendor_logger = logging.getLogger(name)
        if vendor_logger.getEffectiveLevel() < logging.WARNING:
            vendor_logger.setLevel(logging.WARNING)


def frames_only(exc_info: ExcInfo) -> str:
    """Exception type and stack, without the message."""
    exc_type, _exc, exc_traceback = exc_info
    name = exc_type.__name__ if exc_type is not None else "Exception"
    stack = "".join(traceback.format_tb(exc_traceback)) if exc_traceback else ""
    return f"{stack}{name} (message withheld)"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return frames_only(ei)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = frames_only(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO", fmt: str = "json", component: str = "api", *,
    development_warnings: bool = True,
) -> None:
    """Route every logger of the process to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if not development_warnings:
        handler.addFilter(_WithoutDevelopmentWarnings())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # Each process writes its own access log (paths only); uvicorn's prints query strings.
    logging.getLogger("uvicorn.access").disabled = True
    quiet_vendor_loggers()
    logging.getLogger("cipherslip").debug("logging configured", extra={"component": component})
