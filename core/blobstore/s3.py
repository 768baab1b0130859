"""Blobs as S3 objects: the production backend (docs/ARCHITECTURE.md).

Every boto3/botocore failure is translated (``core.blobstore.s3_errors``), so callers only
ever see :class:`core.errors.BlobNotFound` or :class:`core.errors.BlobStoreError`.

Operational notes: the credentials need ``s3:ListBucket`` as well as object rights,
otherwise S3 answers 403 instead of 404 for a missing blob (reported as BlobStoreError),
and ``s3:ListMultipartUploadParts`` for completing uploads. Give the bucket a lifecycle rule
that aborts incomplete multipart uploads, as a backstop for abandoned uploads, and leave
versioning off: with versioning a delete only adds a delete marker and the ciphertext
would survive its secret. Browsers PUT parts and GET blobs through presigned URLs, so the
bucket's CORS rules must allow PUT and GET (with a Range header) from the web origin.
Presigned URLs are signed as the client is configured: ``build_s3_client`` uses SigV4.
A HEAD request carries no error body, so ``size``/``exists`` cannot tell a missing bucket
from a missing blob; ``check_ready`` can, and should run at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from core.blobstore.keys import validate_key, validate_prefix
from core.blobstore.protocol import READ_CHUNK_SIZE
from core.blobstore.rules import (
    unsatisfiable_range,
    validate_expiry,
    validate_offset,
    validate_range,
)
from core.blobstore.s3_errors import error_code, translated
from core.blobstore.s3_uploads import S3Uploads
from core.errors import BlobNotFound, BlobStoreError

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

# S3 needs at least 5 MiB for every part but the last; 8 MiB matches the AWS CLI default
# and bounds the memory one upload holds.
PART_SIZE = 8 * 1024 * 1024


class S3BlobStore:
    """Stores the blob ``key`` as the object ``<prefix>/<key>`` in ``bucket``."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("S3 blob store needs a bucket name")
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)
        self._client = client
        self._bucket = bucket
        self._prefix = f"{prefix}/" if prefix else ""
        self._uploads = S3Uploads(client, bucket)

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        object_key = self._object_key(key)
        pending = bytearray()
        total = 0
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []
        try:
            # Exceptions raised by the caller's iterator propagate unchanged; each S3 call
            # translates its own failures.
            for chunk in chunks:
                pending += chunk
                total += len(chunk)
                while len(pending) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = self._uploads.start(key, object_key, operation="put")
                    parts.append(self._uploads.upload_part_bytes(
                        key, object_key, upload_id, len(parts) + 1, bytes(pending[:PART_SIZE]),
                        operation="put"))
                    del pending[:PART_SIZE]
            if upload_id is None:
                # Small blob: one request, atomic by nature.
                with self._translated("put", key):
                    self._client.put_object(Bucket=self._bucket, Key=object_key,
                                            Body=bytes(pending))
                return total
            if pending:
                parts.append(self._uploads.upload_part_bytes(
                    key, object_key, upload_id, len(parts) + 1, bytes(pending), operation="put"))
            self._uploads.complete_with(key, object_key, upload_id, parts, operation="put")
        except BaseException:
            # Also on KeyboardInterrupt/GeneratorExit: uploaded parts are stored (and
            # billed) until the upload is aborted.
            if upload_id is not None:
                self._abort_quietly(key, object_key, upload_id)
            raise
        return total

    def open(self, key: str) -> Iterator[bytes]:
        object_key = self._object_key(key)
        # The request is made now so a missing blob is reported before the caller starts
        # streaming; the generator below owns and closes the response body.
        with self._translated("open", key, missing_is_not_found=True):
            body = self._client.get_object(Bucket=self._bucket, Key=object_key)["Body"]
        return self._stream("open", key, body)

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        object_key = self._object_key(key)
        validate_range(start, end)
        byte_range = f"bytes={start}-{'' if end is None else end}"
        with self._translated("open range", key, missing_is_not_found=True):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=object_key,
                                                   Range=byte_range)
            except ClientError as error:
                if error_code(error) == "InvalidRange":
                    raise unsatisfiable_range(key, start) from None
                raise
        if not response.get("ContentRange"):
            # A store that ignored the Range header would hand out the wrong bytes.
            response["Body"].close()
            raise BlobStoreError(
                f"S3 open range failed for blob {key!r} in bucket {self._bucket!r}: "
                "the store ignored the byte range"
            )
        return self._stream("open range", key, response["Body"])

    def presign_get(self, key: str, expires_seconds: int) -> str | None:
        object_key = self._object_key(key)
        validate_expiry(expires_seconds)
        with self._translated("presign get", key):
            return self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": object_key},
                ExpiresIn=expires_seconds,
            )

    def read(self, key: str) -> bytes:
        object_key = self._object_key(key)
        with self._translated("read", key, missing_is_not_found=True):
            body = self._client.get_object(Bucket=self._bucket, Key=object_key)["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def size(self, key: str) -> int:
        return self._content_length("size", key)

    def exists(self, key: str) -> bool:
        try:
            self._content_length("exists", key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        try:
            with self._translated("delete", key, missing_is_not_found=True):
                self._client.delete_object(Bucket=self._bucket, Key=object_key)
        except BlobNotFound:
            # S3 itself answers 204 for a missing key; some compatible stores say NoSuchKey.
            return

    def delete_prefix(self, prefix: str) -> int:
        object_prefix = self._prefix + validate_prefix(prefix)
        deleted = 0
        with self._translated("delete prefix", prefix):
            uploads = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=object_prefix)
            for uploads_page in uploads:
                for upload in uploads_page.get("Uploads", []):
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            listing = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=object_prefix)
            for objects_page in listing:
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in objects_page.get("Contents", [])]
                if keys:  # at most 1,000 per page, which is delete_objects' limit too
                    self._client.delete_objects(Bucket=self._bucket,
                                                Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        return deleted

    # --- multipart uploads: see core.blobstore.s3_uploads ------------------------------
    def start_multipart(self, key: str) -> str:
        return self._uploads.start(key, self._object_key(key))

    def upload_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes], *,
        offset: int,
    ) -> int:
        # S3 assembles parts in number order and needs no offsets.
        validate_offset(offset)
        object_key = self._object_key(key)
        return self._uploads.upload_part_stream(
            key, object_key, _checked_upload_id(key, upload_id), part_number, chunks)

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str | None:
        object_key = self._object_key(key)
        validate_expiry(expires_seconds)
        return self._uploads.presign_part(
            key, object_key, _checked_upload_id(key, upload_id), part_number, expires_seconds)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        object_key = self._object_key(key)
        listed = self._uploads.uploaded_parts(key, object_key, _checked_upload_id(key, upload_id))
        return [(number, size) for number, (size, _) in sorted(listed.items())]

    def complete_multipart(self, key: str, upload_id: str, part_count: int) -> int:
        object_key = self._object_key(key)
        return self._uploads.complete(
            key, object_key, _checked_upload_id(key, upload_id), part_count)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        object_key = self._object_key(key)
        self._uploads.abort(key, object_key, _checked_upload_id(key, upload_id))

    def check_ready(self) -> None:
        with self._translated("check_ready", None):
            self._client.head_bucket(Bucket=self._bucket)

    # --- helpers ---------------------------------------------------------------------
    def _object_key(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def _translated(
        self, operation: str, key: str | None, *, missing_is_not_found: bool = False
    ) -> AbstractContextManager[None]:
        return translated(self._bucket, operation, key, missing_is_not_found=missing_is_not_found)

    def _content_length(self, operation: str, key: str) -> int:
        object_key = self._object_key(key)
        with self._translated(operation, key, missing_is_not_found=True):
            head = self._client.head_object(Bucket=self._bucket, Key=object_key)
        return head["ContentLength"]

    def _abort_quietly(self, key: str, object_key: str, upload_id: str) -> None:
        try:
            self._uploads.abort(key, object_key, upload_id)
        except BlobStoreError:
            # The original failure matters more; the bucket's lifecycle rule is the backstop.
            logging.getLogger(__name__).warning(
                "could not abort the multipart upload of blob %r in bucket %r; the "
                "bucket's lifecycle rule must remove it",
                key, self._bucket, exc_info=True,
            )

    def _stream(self, operation: str, key: str, body: StreamingBody) -> Iterator[bytes]:
        try:
            with self._translated(operation, key):
                yield from body.iter_chunks(chunk_size=READ_CHUNK_SIZE)
        finally:
            body.close()


def _checked_upload_id(key: str, upload_id: str) -> str:
    # S3's upload ids are opaque, so only the obviously wrong ones can be caught here.
    if not isinstance(upload_id, str) or not upload_id:
        raise ValueError(f"invalid upload id for blob {key!r}")
    return upload_id
