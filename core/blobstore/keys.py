"""The one definition of a valid blob key, shared by every backend.

Keys are built by the application (``"<tenant-id>/<secret-id>.csl1"``), never taken from
users, so a bad key is a bug and raises ``ValueError``. The rules are strict enough that a
key maps to a path below the local store's root and to an S3 object key unchanged.
"""

from __future__ import annotations

import re

MAX_KEY_LENGTH = 512
# Common filesystems cap a file name at 255 bytes; enforcing it for every backend keeps
# the set of valid keys the same whichever store is configured.
MAX_SEGMENT_LENGTH = 255
_SEGMENT = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_SEGMENT_LENGTH}}}")
# "." and ".." are made of allowed characters but would walk the local directory tree.
_DOT_SEGMENTS = frozenset({".", ".."})


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid blob key, else raise ``ValueError``."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"blob key must be a string of 1 to {MAX_KEY_LENGTH} characters")
    for segment in key.split("/"):
        if segment in _DOT_SEGMENTS or _SEGMENT.fullmatch(segment) is None:
            raise ValueError(
                f"invalid blob key {key!r}: segments of 1 to {MAX_SEGMENT_LENGTH} characters "
                "from [A-Za-z0-9._-] joined by '/', none of them '.' or '..'"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """A key path ending in "/" (a "directory" of keys); ``ValueError`` otherwise."""
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise ValueError("a blob key prefix ends with '/'")
    validate_key(prefix[:-1])
    return prefix
