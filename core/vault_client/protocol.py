"""The api's view of the vault (docs/ARCHITECTURE.md).

The vault holds KMS rights; the api only relays opaque bytes between the vault and the
browser. Implementations raise :class:`core.errors.VaultUnavailable` when the vault cannot be
reached (nothing was consumed; retry later) and :class:`core.errors.VaultRejected` when it
answered with a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class NewDataKey:
    wrapped_key: bytes  # KMS-wrapped data key: the only form the api may store
    sealed_key: bytes  # HPKE-sealed to the browser's key (purpose "create")


class VaultClient(Protocol):
    def create_data_key(self, *, tenant_id: str, secret_id: str, public_key: bytes) -> NewDataKey:
        """Make a fresh data key for a secret and seal it to the creator's browser key."""
        ...

    def unseal_data_key(
        self, *, tenant_id: str, secret_id: str, wrapped_key: bytes, public_key: bytes
    ) -> bytes:
        """Unwrap a stored key and return it HPKE-sealed (purpose "reveal") to ``public_key``."""
        ...

    def check_ready(self) -> None:
        """Raise VaultUnavailable unless the vault answers and reaches its KMS."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
