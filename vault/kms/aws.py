"""AWS KMS through boto3: the production key custody.

Every botocore exception is translated into the project's errors here, so nothing above this
module knows about AWS: a wrapped key that does not decrypt is ``InvalidWrappedKey``, an
outage is ``KmsUnavailable``, anything else (permissions, disabled key, bad configuration) is
``KmsError``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from core.errors import InvalidWrappedKey, KmsError, KmsUnavailable
from core.settings import Settings
from vault.kms.protocol import DATA_KEY_SIZE

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

logger = logging.getLogger(__name__)

# AWS bounds CiphertextBlob to 1..6144 bytes; checking first avoids a confusing
# ParamValidationError for what is simply a bad wrapped key.
MAX_WRAPPED_KEY_SIZE = 6144

# The ciphertext does not decrypt with this key and context: tampered, or another secret's.
_INVALID_WRAPPED_KEY_CODES = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
# Worth retrying later: throttling and AWS-side trouble.
_UNAVAILABLE_CODES = frozenset(
    {
        "DependencyTimeoutException",
        "InternalFailure",
        "KMSInternalException",
        "KeyUnavailableException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Throttling",
        "ThrottlingException",
    }
)


def translate_kms_error(error: BotoCoreError | ClientError) -> KmsError:
    """Map a botocore exception to the project's KMS errors.

    Messages name only the AWS error code or exception type: AWS messages may quote request
    parameters, and these messages travel on to the api.
    """
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _INVALID_WRAPPED_KEY_CODES:
            return InvalidWrappedKey(
                "the wrapped key does not unwrap under this KMS key and context"
            )
        if code in _UNAVAILABLE_CODES or status >= 500 or status == 429:
            return KmsUnavailable(f"AWS KMS is unavailable ({code or status})")
        return KmsError(f"AWS KMS refused the request ({code or status})")
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return KmsUnavailable(f"AWS KMS cannot be reached ({type(error).__name__})")
    return KmsError(f"AWS KMS call failed ({type(error).__name__})")


@contextmanager
def _kms_call(operation: str) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        error = translate_kms_error(exc)
        logger.warning("KMS %s failed: %s", operation, error.message)
        raise error from exc


class AwsKms:
    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout_seconds: float = 2.0,
        read_timeout_seconds: float = 4.0,
        max_attempts: int = 2,
    ) -> None:
        if not settings.kms_key_id:
            raise KmsError("CIPHERSLIP_KMS_KEY_ID must name the AWS KMS key (id, ARN or alias)")
        self._key_id = settings.kms_key_id
        # Short timeouts and few retries: the api waits on the vault, which waits on KMS,
        # and a reveal that fails fast is retried by the user without consuming a view.
        config = Config(
            connect_timeout=connect_timeout_seconds,
            read_timeout=read_timeout_seconds,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        # An own session: boto3's default session is shared global state and not thread-safe.
        with _kms_call("client setup"):
            try:
                self._client: KMSClient = boto3.session.Session().client(
                    "kms",
                    region_name=settings.kms_region,
                    endpoint_url=settings.kms_endpoint_url,
                    config=config,
                )
            except ValueError as exc:  # botocore's answer to a malformed endpoint URL
                raise KmsError(f"invalid KMS endpoint URL: {exc}") from exc

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        with _kms_call("GenerateDataKey"):
            response = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        data_key, wrapped_key = response["Plaintext"], response["CiphertextBlob"]
        if len(data_key) != DATA_KEY_SIZE or not wrapped_key:
            raise KmsError("AWS KMS returned a data key of an unexpected size")
        return data_key, wrapped_key

    def decrypt_data_key(self, wrapped_key: bytes, context: Mapping[str, str]) -> bytes:
        if not 1 <= len(wrapped_key) <= MAX_WRAPPED_KEY_SIZE:
            raise InvalidWrappedKey(f"a KMS wrapped key is 1 to {MAX_WRAPPED_KEY_SIZE} bytes long")
        with _kms_call("Decrypt"):
            # KeyId pins the key: a ciphertext made under any other KMS key is refused.
            response = self._client.decrypt(
                CiphertextBlob=wrapped_key, KeyId=self._key_id, EncryptionContext=dict(context)
            )
        data_key = response["Plaintext"]
        if len(data_key) != DATA_KEY_SIZE:
            raise InvalidWrappedKey("the wrapped key does not hold a 32-byte data key")
        return data_key

    def check_ready(self) -> None:
        with _kms_call("DescribeKey"):
            metadata = self._client.describe_key(KeyId=self._key_id)["KeyMetadata"]
        state = metadata.get("KeyState", "Unknown")
        if state != "Enabled":
            raise KmsError(f"the KMS key is not usable: its state is {state}")
        if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            raise KmsError("the KMS key is not a symmetric ENCRYPT_DECRYPT key")

    def close(self) -> None:
        self._client.close()
