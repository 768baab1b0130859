"""Where ciphertext blobs live: a Protocol, a local directory and S3 (docs/ARCHITECTURE.md).

Callers depend on :class:`BlobStore` and get an implementation from
:func:`create_blob_store`; they only ever see :class:`core.errors.BlobNotFound` and
:class:`core.errors.BlobStoreError`, never vendor exceptions.
"""

from __future__ import annotations

from core.blobstore.factory import create_blob_store
from core.blobstore.keys import validate_key
from core.blobstore.protocol import BlobStore

__all__ = ["BlobStore", "create_blob_store", "validate_key"]
