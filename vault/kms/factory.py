"""The one place that picks the KMS backend from settings."""

from __future__ import annotations

from core.errors import KmsError
from core.settings import Settings
from vault.kms.aws import AwsKms
from vault.kms.local import LocalKms
from vault.kms.protocol import KeyManagementService


def create_kms(settings: Settings) -> KeyManagementService:
    if settings.kms_backend == "aws":
        return AwsKms(settings)
    if settings.env == "production":
        # Whoever reads the master key file could unwrap every stored data key.
        raise KmsError(
            "the local master-key KMS is for development only; "
            "set CIPHERSLIP_KMS_BACKEND=aws in production"
        )
    return LocalKms(settings.effective_master_key_file)
