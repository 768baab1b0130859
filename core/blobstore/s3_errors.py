"""The one translation of boto3/botocore failures into project errors for the S3 store.

Messages name the operation, bucket and key and the S3 error code, never the blob's bytes
nor the vendor's free-text message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3Error

from core.errors import BlobNotFound, BlobStoreError

# Error codes that mean "no such object". A HEAD request has no body, so S3 only gives
# the HTTP status there.
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
NO_SUCH_UPLOAD = "NoSuchUpload"
# botocore wraps most transport failures, but urllib3 errors can surface while a response
# body is being streamed.
_TRANSPORT_ERRORS = (BotoCoreError, Urllib3Error, OSError)
# Codes whose name alone does not tell an operator (or the api's log reader) what to fix.
_EXPLANATIONS = {
    NO_SUCH_UPLOAD: "no such upload: it was completed, aborted or never started",
    "EntityTooSmall": "every part but the last must be at least 5 MiB",
    "InvalidPart": "a part is missing or was replaced while completing",
    "InvalidPartOrder": "parts must be listed in ascending order",
}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown"))


@contextmanager
def translated(
    bucket: str, operation: str, key: str | None, *, missing_is_not_found: bool = False
) -> Iterator[None]:
    """Turn S3 failures in the block into ``BlobStoreError`` (or ``BlobNotFound``)."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if missing_is_not_found and key is not None and code in NOT_FOUND_CODES:
            raise BlobNotFound(f"blob {key!r} not found") from None
        raise BlobStoreError(failure(bucket, operation, key, code)) from error
    except _TRANSPORT_ERRORS as error:
        raise BlobStoreError(failure(bucket, operation, key, type(error).__name__)) from error


def failure(bucket: str, operation: str, key: str | None, reason: str) -> str:
    subject = f"blob {key!r}" if key is not None else "the bucket"
    explanation = _EXPLANATIONS.get(reason)
    detail = f"{reason} ({explanation})" if explanation else reason
    return f"S3 {operation} failed for {subject} in bucket {bucket!r}: {detail}"
