"""Development KMS: data keys wrapped under a master key kept in a local file.

Only for running Cipherslip on one machine without cloud services: whoever can read the file
can unwrap every stored data key, which is exactly what a real KMS prevents.

Wrapped key = ``MAGIC`` | nonce (12) | AES-256-GCM(master key, nonce, data key, aad), where
aad is the canonical JSON of the encryption context, so a key only unwraps for its own
tenant and secret.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.clock import RandomSource, SystemRandom
from core.errors import InvalidWrappedKey, KmsError
from core.logging import warn_development_backend
from vault.kms.protocol import DATA_KEY_SIZE

MAGIC = b"CSLK\x01"  # "Cipherslip local key", format version 1
NONCE_SIZE = 12
TAG_SIZE = 16
MASTER_KEY_SIZE = 32
WRAPPED_KEY_SIZE = len(MAGIC) + NONCE_SIZE + DATA_KEY_SIZE + TAG_SIZE

logger = logging.getLogger(__name__)


def canonical_context(context: Mapping[str, str]) -> bytes:
    """One byte string per context, whatever the mapping's order."""
    return json.dumps(
        dict(context), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


class LocalKms:
    def __init__(self, master_key_file: Path, *, random: RandomSource | None = None) -> None:
        self._random = random or SystemRandom()
        self._cipher = AESGCM(_load_or_create_master_key(master_key_file, self._random))
        warn_development_backend(
            logger,
            "LocalKms keeps the master key in the file %s: for development only, "
            "use CIPHERSLIP_KMS_BACKEND=aws in production",
            master_key_file,
        )

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        data_key = self._random.token_bytes(DATA_KEY_SIZE)
        nonce = self._random.token_bytes(NONCE_SIZE)
        sealed = self._cipher.encrypt(nonce, data_key, canonical_context(context))
        return data_key, MAGIC + nonce + sealed

    def decrypt_data_key(self, wrapped_key: bytes, context: Mapping[str, str]) -> bytes:
        if len(wrapped_key) != WRAPPED_KEY_SIZE or not wrapped_key.startswith(MAGIC):
            raise InvalidWrappedKey("the wrapped key is not a local KMS wrapped key")
        nonce = wrapped_key[len(MAGIC) : len(MAGIC) + NONCE_SIZE]
        sealed = wrapped_key[len(MAGIC) + NONCE_SIZE :]
        try:
            return self._cipher.decrypt(nonce, sealed, canonical_context(context))
        except InvalidTag as exc:
            raise InvalidWrappedKey(
                "the wrapped key does not unwrap under this master key and context"
            ) from exc

    def check_ready(self) -> None:
        # The master key was loaded (and checked) at construction; there is nothing remote.
        return None


def _load_or_create_master_key(path: Path, random: RandomSource) -> bytes:
    try:
        return _read_master_key(path)
    except FileNotFoundError:
        _create_master_key(path, random)
        return _read_master_key(path)


def _read_master_key(path: Path) -> bytes:
    """Read the key, refusing anything but a private regular file of the right size."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise KmsError(f"cannot open the master key file {path}: {exc.strerror}") from exc
    try:
        # fstat the open descriptor, so the checks apply to the very file that is read.
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise KmsError(f"the master key file {path} is not a regular file")
        if status.st_mode & 0o077:
            raise KmsError(
                f"the master key file {path} is readable by others "
                f"(mode {stat.S_IMODE(status.st_mode):04o}); run: chmod 600 {path}"
            )
        if status.st_size != MASTER_KEY_SIZE:
            raise KmsError(
                f"the master key file {path} must hold exactly {MASTER_KEY_SIZE} bytes, "
                f"it holds {status.st_size}"
            )
        master_key = os.read(descriptor, MASTER_KEY_SIZE + 1)
    except OSError as exc:
        raise KmsError(f"cannot read the master key file {path}: {exc.strerror}") from exc
    finally:
        os.close(descriptor)
    if len(master_key) != MASTER_KEY_SIZE:
        raise KmsError(f"the master key file {path} changed while it was read")
    return master_key


def _create_master_key(path: Path, random: RandomSource) -> None:
    """Write a new key to a private temporary file, then hard-link it into place.

    The link either installs a complete file or fails because another process won the race,
    so no reader ever sees a half-written key and no process overwrites another's key.
    """
    parent = path.parent
    temporary = parent / f".{path.name}.{random.token_bytes(8).hex()}.tmp"
    try:
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            parent.chmod(0o700)  # mkdir's mode is filtered by the umask
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, random.token_bytes(MASTER_KEY_SIZE))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another vault process created the key first; use theirs
        else:
            warn_development_backend(logger, "created a new development master key file %s",
                                     path)
    except OSError as exc:
        raise KmsError(f"cannot create the master key file {path}: {exc.strerror}") from exc
    finally:
        temporary.unlink(missing_ok=True)
