"""What the vault needs from a key management service, and the context every key is bound to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

DATA_KEY_SIZE = 32


def encryption_context(tenant_id: str, secret_id: str) -> dict[str, str]:
    """The KMS encryption context of one secret's data key (docs/FORMATS.md).

    Built in this one place so that wrapping and unwrapping can never disagree: a wrapped key
    only unwraps under the tenant and secret it was made for.
    """
    return {"app": "cipherslip", "tenant": tenant_id, "secret": secret_id}


class KeyManagementService(Protocol):
    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        """Make a fresh random data key bound to ``context``.

        Returns ``(data_key, wrapped_key)``: the 32-byte plaintext data key, to be used once
        and forgotten, and its wrapped form, the only one that may be stored.
        Raises :class:`core.errors.KmsUnavailable` when the KMS cannot be reached and
        :class:`core.errors.KmsError` for any other failure.
        """
        ...

    def decrypt_data_key(self, wrapped_key: bytes, context: Mapping[str, str]) -> bytes:
        """Unwrap ``wrapped_key`` and return the 32-byte data key.

        Raises :class:`core.errors.InvalidWrappedKey` when the wrapped key was tampered with,
        is malformed, or was made under a different context (another tenant or secret);
        :class:`core.errors.KmsUnavailable` when the KMS cannot be reached; and
        :class:`core.errors.KmsError` for any other failure.
        """
        ...

    def check_ready(self) -> None:
        """Return if the KMS can serve requests now; raise a :class:`core.errors.KmsError`
        (usually :class:`core.errors.KmsUnavailable`) explaining why not otherwise."""
        ...
