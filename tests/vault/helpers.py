"""Shared pieces for the vault and vault-client tests: browser key pairs, KMS backends, apps."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.settings import Settings
from tests.support.moto import MotoServer
from tests.support.servers import free_port
from vault.kms.aws import AwsKms


def new_token() -> str:
    return secrets.token_urlsafe(32)


def browser_key_pair() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """What a browser makes per operation: a P-256 key pair and its raw 65-byte public key."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private_key, public_key


def local_settings(tmp_path: Path, token: str, **overrides: Any) -> Settings:
    return Settings(
        vault_token=token,
        data_dir=tmp_path,
        kms_backend="local",
        kms_master_key_file=tmp_path / "vault" / "master.key",
        **overrides,
    )


def create_moto_kms_key(moto: MotoServer) -> str:
    kms_client: Any = moto.client("kms")
    return str(kms_client.create_key(Description="cipherslip test")["KeyMetadata"]["KeyId"])


def aws_settings(endpoint_url: str, key_id: str, token: str = "") -> Settings:
    return Settings(
        vault_token=token, kms_backend="aws", kms_endpoint_url=endpoint_url, kms_key_id=key_id
    )


def moto_kms(moto: MotoServer) -> AwsKms:
    return AwsKms(aws_settings(moto.endpoint_url, create_moto_kms_key(moto)))


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


def unreachable_kms() -> AwsKms:
    """AWS KMS pointed at a closed port, failing fast: one attempt, short timeouts."""
    return AwsKms(
        aws_settings(closed_port_url(), "alias/cipherslip"),
        connect_timeout_seconds=0.5,
        read_timeout_seconds=0.5,
        max_attempts=1,
    )
