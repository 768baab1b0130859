"""The blob key rules shared by every backend."""

from __future__ import annotations

import pytest

from core.blobstore.keys import MAX_KEY_LENGTH, validate_key


@pytest.mark.parametrize("key", [
    "tenant-id/secret-id.csl1",
    "a",
    "A.b_c-D/0/9",
    "..a/b..",  # dots inside a segment are harmless
    "x" * 255,
    "/".join(["k" * 255, "e" * 254, "y"]),
])
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [
    "", "/x", "x/", "a//b", ".", "..", "../x", "a/../b", "a/./b", "a/..",
    "a b", "a\\b", "a\nb", "a\x00b", "ü", "a:b", "a~b", ".~upload-x.partial", "a?b",
    "x" * 256, "y/" * (MAX_KEY_LENGTH // 2) + "y",
])
def test_invalid_keys_raise_value_error(key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        validate_key(key)


def test_non_string_raises_value_error() -> None:
    with pytest.raises(ValueError, match="key"):
        validate_key(b"tenant/secret.csl1")  # type: ignore[arg-type]
