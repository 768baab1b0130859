"""The vault process's logging: one stream, JSON or text, and nothing secret in it."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

from core.settings import Settings

# botocore and urllib3 log whole request and response bodies at DEBUG, which for KMS means
# wrapped keys and plaintext data keys; they never log below WARNING in the vault.
VENDOR_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
ACCESS_FIELDS = ("http_method", "http_path", "http_status", "duration_ms")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def quiet_vendor_loggers() -> None:
    for name in VENDOR_LOGGERS:
        vendor_logger = logging.getLogger(name)
        if vendor_logger.getEffectiveLevel() < logging.WARNING:
            vendor_logger.setLevel(logging.WARNING)


def _frames_only(exc_info: ExcInfo) -> str:
    """Exception type and stack, without the message (it may quote secret input)."""
    exc_type, _exc, exc_traceback = exc_info
    name = exc_type.__name__ if exc_type is not None else "Exception"
    stack = "".join(traceback.format_tb(exc_traceback)) if exc_traceback else ""
    return f"{stack}{name} (message withheld)"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging's name
        return _frames_only(ei)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = _frames_only(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Route every logger of the process to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # vault.access already records method, path, status and duration.
    logging.getLogger("uvicorn.access").disabled = True
    quiet_vendor_loggers()
