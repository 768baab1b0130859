"""Multipart uploads for the S3 blob store: the api's own (``put``, ``upload_part``) and
the browser's, which PUTs each part straight to a presigned URL.

Completion asks S3 for the parts' ETags (``list_parts``) rather than trusting the caller,
so a browser never has to read the ETag response header (which CORS would have to expose).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from core.blobstore.rules import check_parts_complete, validate_part_count, validate_part_number
from core.blobstore.s3_errors import NO_SUCH_UPLOAD, error_code, translated
from core.errors import BlobStoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

# A part streamed through the api spills to a temporary file past this size: S3 needs its
# length up front, and a part must not sit whole in memory.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
# None: as many parts per list_parts page as S3 gives (1,000); tests lower it to exercise
# pagination without uploading a thousand parts.
LIST_PARTS_PAGE_SIZE: int | None = None


class S3Uploads:
    """The multipart half of :class:`core.blobstore.s3.S3BlobStore`; methods take the
    blob key (for messages) and the object key it maps to."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def start(self, key: str, object_key: str, *, operation: str = "start upload") -> str:
        with translated(self._bucket, operation, key):
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=object_key)
        return created["UploadId"]

    def upload_part_bytes(
        self, key: str, object_key: str, upload_id: str, part_number: int, body: bytes,
        *, operation: str,
    ) -> CompletedPartTypeDef:
        with translated(self._bucket, operation, key):
            uploaded = self._client.upload_part(
                Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                PartNumber=part_number, Body=body,
            )
        return {"PartNumber": part_number, "ETag": uploaded["ETag"]}

    def upload_part_stream(
        self, key: str, object_key: str, upload_id: str, part_number: int,
        chunks: Iterable[bytes],
    ) -> int:
        validate_part_number(part_number)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
            size = 0
            # Exceptions raised by the caller's iterator propagate unchanged; S3 still holds
            # the previous version of the part, if any.
            for chunk in chunks:
                try:
                    spool.write(chunk)
                except OSError as error:
                    raise BlobStoreError(
                        f"S3 upload part failed for blob {key!r}: cannot spool part "
                        f"{part_number}: {type(error).__name__}"
                    ) from error
                size += len(chunk)
            spool.seek(0)
            with translated(self._bucket, "upload part", key):
                self._client.upload_part(
                    Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                    PartNumber=part_number, Body=spool, ContentLength=size,
                )
        return size

    def presign_part(
        self, key: str, object_key: str, upload_id: str, part_number: int,
        expires_seconds: int,
    ) -> str:
        validate_part_number(part_number)
        with translated(self._bucket, "presign part", key):
            return self._client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self._bucket, "Key": object_key, "UploadId": upload_id,
                        "PartNumber": part_number},
                ExpiresIn=expires_seconds,
            )

    def uploaded_parts(
        self, key: str, object_key: str, upload_id: str, *, operation: str = "list parts"
    ) -> dict[int, tuple[int, str]]:
        """Part number -> (size, ETag) of every part S3 holds for the upload."""
        parts: dict[int, tuple[int, str]] = {}
        with translated(self._bucket, operation, key):
            pages = self._client.get_paginator("list_parts").paginate(
                Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                PaginationConfig={"PageSize": LIST_PARTS_PAGE_SIZE}
                if LIST_PARTS_PAGE_SIZE else {},
            )
            for page in pages:
                for part in page.get("Parts", []):
                    parts[part["PartNumber"]] = (part["Size"], part["ETag"])
        return parts

    def complete(self, key: str, object_key: str, upload_id: str, part_count: int) -> int:
        validate_part_count(part_count)
        received = self.uploaded_parts(key, object_key, upload_id, operation="complete upload")
        check_parts_complete(f"S3 blob store (bucket {self._bucket!r})", key, received,
                             part_count)
        parts: list[CompletedPartTypeDef] = [
            {"PartNumber": number, "ETag": received[number][1]}
            for number in range(1, part_count + 1)
        ]
        self.complete_with(key, object_key, upload_id, parts, operation="complete upload")
        # S3's answer carries no size; the listed parts are exactly what was assembled.
        return sum(received[number][0] for number in range(1, part_count + 1))

    def complete_with(
        self, key: str, object_key: str, upload_id: str, parts: list[CompletedPartTypeDef],
        *, operation: str,
    ) -> None:
        # The object only becomes visible, whole, when the upload is completed.
        with translated(self._bucket, operation, key):
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=object_key, UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )

    def abort(
        self, key: str, object_key: str, upload_id: str, *, operation: str = "abort upload"
    ) -> None:
        with translated(self._bucket, operation, key):
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=object_key, UploadId=upload_id
                )
            except ClientError as error:
                # Already aborted or completed (or never started): abort is idempotent.
                if error_code(error) != NO_SUCH_UPLOAD:
                    raise
