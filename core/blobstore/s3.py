"""Blobs as S3 objects: the production backend (SPEC §6).

Every boto3/botocore failure is translated here, so callers only ever see
:class:`core.errors.BlobNotFound` or :class:`core.errors.BlobStoreError`.

Operational notes: the credentials need ``s3:ListBucket`` as well as object rights,
otherwise S3 answers 403 instead of 404 for a missing blob (reported as BlobStoreError).
Give the bucket a lifecycle rule that aborts incomplete multipart uploads, as a backstop
for a process killed mid-upload, and leave versioning off: with versioning a delete only
adds a delete marker and the ciphertext would survive its secret. A HEAD request carries
no error body, so ``size``/``exists`` cannot tell a missing bucket from a missing blob;
``check_ready`` can, and should run at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3Error

from core.blobstore.keys import validate_key, validate_prefix
from core.blobstore.protocol import READ_CHUNK_SIZE
from core.errors import BlobNotFound, BlobStoreError

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

# S3 needs at least 5 MiB for every part but the last; 8 MiB matches the AWS CLI default
# and bounds the memory one upload holds.
PART_SIZE = 8 * 1024 * 1024
# Error codes that mean "no such object". A HEAD request has no body, so S3 only gives
# the HTTP status there.
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
# botocore wraps most transport failures, but urllib3 errors can surface while a response
# body is being streamed.
_TRANSPORT_ERRORS = (BotoCoreError, Urllib3Error, OSError)


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
                        upload_id = self._start_multipart(key, object_key)
                    parts.append(self._upload_part(key, object_key, upload_id, len(parts) + 1,
                                                   bytes(pending[:PART_SIZE])))
                    del pending[:PART_SIZE]
            if upload_id is None:
                # Small blob: one request, atomic by nature.
                with self._translated("put", key):
                    self._client.put_object(Bucket=self._bucket, Key=object_key,
                                            Body=bytes(pending))
                return total
            if pending:
                parts.append(self._upload_part(key, object_key, upload_id, len(parts) + 1,
                                               bytes(pending)))
            # The object only becomes visible, whole, when the upload is completed.
            with self._translated("put", key):
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            # Also on KeyboardInterrupt/GeneratorExit: uploaded parts are stored (and
            # billed) until the upload is aborted.
            if upload_id is not None:
                self._abort_multipart(key, object_key, upload_id)
            raise
        return total

    def open(self, key: str) -> Iterator[bytes]:
        object_key = self._object_key(key)
        # The request is made now so a missing blob is reported before the caller starts
        # streaming; the generator below owns and closes the response body.
        with self._translated("open", key, missing_is_not_found=True):
            body = self._client.get_object(Bucket=self._bucket, Key=object_key)["Body"]
        return self._stream(key, body)

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

    def check_ready(self) -> None:
        with self._translated("check_ready", None):
            self._client.head_bucket(Bucket=self._bucket)

    # --- helpers ---------------------------------------------------------------------
    def _object_key(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def _content_length(self, operation: str, key: str) -> int:
        object_key = self._object_key(key)
        with self._translated(operation, key, missing_is_not_found=True):
            head = self._client.head_object(Bucket=self._bucket, Key=object_key)
        return head["ContentLength"]

    def _start_multipart(self, key: str, object_key: str) -> str:
        with self._translated("put", key):
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=object_key)
        return created["UploadId"]

    def _upload_part(
        self, key: str, object_key: str, upload_id: str, part_number: int, body: bytes
    ) -> CompletedPartTypeDef:
        with self._translated("put", key):
            uploaded = self._client.upload_part(
                Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                PartNumber=part_number, Body=body,
            )
        return {"PartNumber": part_number, "ETag": uploaded["ETag"]}

    def _abort_multipart(self, key: str, object_key: str, upload_id: str) -> None:
        try:
            with self._translated("abort upload", key):
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=object_key, UploadId=upload_id
                )
        except BlobStoreError:
            # The original failure matters more; the bucket's lifecycle rule is the backstop.
            logging.getLogger(__name__).warning(
                "could not abort the multipart upload of blob %r in bucket %r; the "
                "bucket's lifecycle rule must remove it",
                key, self._bucket, exc_info=True,
            )

    def _stream(self, key: str, body: StreamingBody) -> Iterator[bytes]:
        try:
            with self._translated("open", key):
                yield from body.iter_chunks(chunk_size=READ_CHUNK_SIZE)
        finally:
            body.close()

    @contextmanager
    def _translated(
        self, operation: str, key: str | None, *, missing_is_not_found: bool = False
    ) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "unknown"))
            if missing_is_not_found and key is not None and code in _NOT_FOUND_CODES:
                raise BlobNotFound(f"blob {key!r} not found") from None
            raise BlobStoreError(self._failure(operation, key, code)) from error
        except _TRANSPORT_ERRORS as error:
            raise BlobStoreError(self._failure(operation, key, type(error).__name__)) from error

    def _failure(self, operation: str, key: str | None, reason: str) -> str:
        # Names the operation, bucket and key; never the blob's bytes or the vendor message.
        subject = f"blob {key!r}" if key is not None else "the bucket"
        return f"S3 {operation} failed for {subject} in bucket {self._bucket!r}: {reason}"
