"""One contract for every KMS backend, run against the local master-key file and against
AWS KMS as served by moto over HTTP; then what is particular to each backend."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from core.errors import InvalidWrappedKey, KmsError, KmsUnavailable
from core.settings import Settings
from tests.support.moto import MotoServer
from tests.vault.helpers import (
    aws_settings,
    create_moto_kms_key,
    moto_kms,
    unreachable_kms,
)
from vault.kms.aws import AwsKms, translate_kms_error
from vault.kms.factory import create_kms
from vault.kms.local import MAGIC, LocalKms
from vault.kms.protocol import KeyManagementService, encryption_context

CONTEXT = encryption_context("tenant-a", "secret-1")


@pytest.fixture(params=["local", "aws"])
def kms(request: pytest.FixtureRequest, tmp_path: Path) -> KeyManagementService:
    if request.param == "local":
        return LocalKms(tmp_path / "keys" / "master.key")
    moto: MotoServer = request.getfixturevalue("moto")
    return moto_kms(moto)


# --- the contract ------------------------------------------------------------------------


def test_encryption_context_is_the_specified_one() -> None:
    assert encryption_context("t-1", "s-1") == {
        "app": "cipherslip",
        "tenant": "t-1",
        "secret": "s-1",
    }


def test_round_trip(kms: KeyManagementService) -> None:
    data_key, wrapped_key = kms.generate_data_key(CONTEXT)
    assert kms.decrypt_data_key(wrapped_key, CONTEXT) == data_key
    # The same context in another order is the same context.
    reordered = dict(reversed(list(CONTEXT.items())))
    assert kms.decrypt_data_key(wrapped_key, reordered) == data_key


def test_data_keys_are_32_fresh_random_bytes(kms: KeyManagementService) -> None:
    generated = [kms.generate_data_key(CONTEXT) for _ in range(5)]
    data_keys = [data_key for data_key, _ in generated]
    wrapped_keys = [wrapped_key for _, wrapped_key in generated]
    assert all(len(data_key) == 32 for data_key in data_keys)
    assert len(set(data_keys)) == 5
    assert len(set(wrapped_keys)) == 5
    assert bytes(32) not in data_keys
    for data_key, wrapped_key in generated:
        assert data_key not in wrapped_key


@pytest.mark.parametrize(
    "changed",
    [{"tenant": "tenant-b"}, {"secret": "secret-2"}, {"app": "another-app"}],
    ids=["other tenant", "other secret", "other app"],
)
def test_another_context_is_refused(kms: KeyManagementService, changed: dict[str, str]) -> None:
    _, wrapped_key = kms.generate_data_key(CONTEXT)
    with pytest.raises(InvalidWrappedKey):
        kms.decrypt_data_key(wrapped_key, {**CONTEXT, **changed})


def test_a_missing_context_entry_is_refused(kms: KeyManagementService) -> None:
    _, wrapped_key = kms.generate_data_key(CONTEXT)
    with pytest.raises(InvalidWrappedKey):
        kms.decrypt_data_key(wrapped_key, {"app": "cipherslip", "tenant": "tenant-a"})


def _flip(wrapped_key: bytes, index: int) -> bytes:
    tampered = bytearray(wrapped_key)
    tampered[index] ^= 0x01
    return bytes(tampered)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda wrapped_key: _flip(wrapped_key, -1),
        lambda wrapped_key: _flip(wrapped_key, len(wrapped_key) // 2 + 8),
        lambda wrapped_key: wrapped_key[:-1],
        lambda wrapped_key: wrapped_key + b"\x00",
        lambda wrapped_key: b"",
    ],
    ids=["last byte flipped", "middle byte flipped", "truncated", "extended", "empty"],
)
def test_a_tampered_wrapped_key_is_refused(kms: KeyManagementService, tamper: Any) -> None:
    _, wrapped_key = kms.generate_data_key(CONTEXT)
    with pytest.raises(InvalidWrappedKey):
        kms.decrypt_data_key(tamper(wrapped_key), CONTEXT)


def test_check_ready_passes(kms: KeyManagementService) -> None:
    kms.check_ready()


# --- local master-key file ---------------------------------------------------------------


def test_local_master_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "new-dir" / "master.key"
    first = LocalKms(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    master_key = key_file.read_bytes()
    assert len(master_key) == 32
    data_key, wrapped_key = first.generate_data_key(CONTEXT)

    second = LocalKms(key_file)
    assert second.decrypt_data_key(wrapped_key, CONTEXT) == data_key
    assert key_file.read_bytes() == master_key
    assert [path.name for path in key_file.parent.iterdir()] == ["master.key"]


def test_local_instances_racing_to_create_the_key_agree_on_one(tmp_path: Path) -> None:
    key_file = tmp_path / "race" / "master.key"
    instances: list[LocalKms] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        try:
            instances.append(LocalKms(key_file))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    data_key, wrapped_key = instances[0].generate_data_key(CONTEXT)
    assert all(kms.decrypt_data_key(wrapped_key, CONTEXT) == data_key for kms in instances)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_local_master_key_of_the_wrong_size_is_refused(tmp_path: Path, size: int) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_bytes(os.urandom(size))
    key_file.chmod(0o600)
    with pytest.raises(KmsError, match="exactly 32 bytes"):
        LocalKms(key_file)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_local_master_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_bytes(os.urandom(32))
    key_file.chmod(mode)
    with pytest.raises(KmsError, match="chmod 600"):
        LocalKms(key_file)


def test_local_master_key_path_must_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").mkdir(mode=0o700)
    with pytest.raises(KmsError, match="not a regular file"):
        LocalKms(tmp_path / "master.key")


def test_local_kms_warns_that_it_is_for_development(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vault.kms.local"):
        LocalKms(tmp_path / "master.key")
    assert any(
        record.levelno == logging.WARNING and "development only" in record.getMessage()
        for record in caplog.records
    )


def test_local_kms_from_another_master_key_cannot_unwrap(tmp_path: Path) -> None:
    _, wrapped_key = LocalKms(tmp_path / "a.key").generate_data_key(CONTEXT)
    with pytest.raises(InvalidWrappedKey):
        LocalKms(tmp_path / "b.key").decrypt_data_key(wrapped_key, CONTEXT)


def test_local_wrapped_key_of_another_format_is_refused(tmp_path: Path) -> None:
    kms = LocalKms(tmp_path / "master.key")
    _, wrapped_key = kms.generate_data_key(CONTEXT)
    assert wrapped_key.startswith(MAGIC)
    with pytest.raises(InvalidWrappedKey, match="not a local KMS wrapped key"):
        kms.decrypt_data_key(b"XXXX\x02" + wrapped_key[len(MAGIC) :], CONTEXT)


class CountingRandom:
    """A predictable RandomSource: byte n of the stream is n mod 256."""

    def __init__(self) -> None:
        self.position = 0

    def token_bytes(self, length: int) -> bytes:
        chunk = bytes((self.position + offset) % 256 for offset in range(length))
        self.position += length
        return chunk


def test_local_kms_draws_keys_and_nonces_from_the_injected_randomness(tmp_path: Path) -> None:
    random = CountingRandom()
    kms = LocalKms(tmp_path / "master.key", random=random)
    # Creating the master key took 8 bytes (temporary file name) + 32 (the key).
    assert (tmp_path / "master.key").read_bytes() == bytes(range(8, 40))
    data_key, wrapped_key = kms.generate_data_key(CONTEXT)
    assert data_key == bytes(range(40, 72))
    assert wrapped_key[len(MAGIC) : len(MAGIC) + 12] == bytes(range(72, 84))
    assert kms.decrypt_data_key(wrapped_key, CONTEXT) == data_key


# --- AWS KMS -----------------------------------------------------------------------------


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without credentials botocore fails before connecting, which is not what is tested.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("operation", ["generate", "decrypt", "check_ready"])
def test_aws_kms_on_a_closed_port_is_unavailable_quickly(operation: str) -> None:
    kms = unreachable_kms()
    calls = {
        "generate": lambda: kms.generate_data_key(CONTEXT),
        "decrypt": lambda: kms.decrypt_data_key(b"\x01" * 100, CONTEXT),
        "check_ready": kms.check_ready,
    }
    started = time.monotonic()
    with pytest.raises(KmsUnavailable):
        calls[operation]()
    assert time.monotonic() - started < 3


def test_aws_kms_check_ready_refuses_a_missing_key(moto: MotoServer) -> None:
    kms = AwsKms(aws_settings(moto.endpoint_url, "00000000-0000-0000-0000-000000000000"))
    with pytest.raises(KmsError) as info:
        kms.check_ready()
    assert not isinstance(info.value, KmsUnavailable)
    assert "NotFoundException" in info.value.message


def test_aws_kms_with_a_disabled_key_is_not_ready(moto: MotoServer) -> None:
    key_id = create_moto_kms_key(moto)
    kms = AwsKms(aws_settings(moto.endpoint_url, key_id))
    kms.check_ready()
    kms_client: Any = moto.client("kms")
    kms_client.disable_key(KeyId=key_id)
    with pytest.raises(KmsError, match="Disabled"):
        kms.check_ready()


def test_aws_kms_requires_a_key_id() -> None:
    with pytest.raises(KmsError, match="CIPHERSLIP_KMS_KEY_ID"):
        AwsKms(Settings(kms_backend="aws", kms_key_id=""))


def _client_error(code: str, status: int, message: str = "") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "HostId": "",
                                 "RequestId": "", "RetryAttempts": 0},
        },
        "Decrypt",
    )


def _error_id(value: object) -> str | None:
    if isinstance(value, ClientError):
        status = value.response["ResponseMetadata"]["HTTPStatusCode"]
        return f"{value.response['Error']['Code']}-{status}"
    if isinstance(value, Exception):
        return type(value).__name__
    return None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("InvalidCiphertextException", 400), InvalidWrappedKey),
        (_client_error("IncorrectKeyException", 400), InvalidWrappedKey),
        (_client_error("ThrottlingException", 400), KmsUnavailable),
        (_client_error("KMSInternalException", 500), KmsUnavailable),
        (_client_error("KeyUnavailableException", 500), KmsUnavailable),
        (_client_error("DependencyTimeoutException", 503), KmsUnavailable),
        (_client_error("SomethingNew", 502), KmsUnavailable),
        (_client_error("SomethingNew", 429), KmsUnavailable),
        (_client_error("AccessDeniedException", 400), KmsError),
        (_client_error("DisabledException", 400), KmsError),
        (_client_error("NotFoundException", 400), KmsError),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), KmsUnavailable),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), KmsUnavailable),
        (NoCredentialsError(), KmsError),
        (ParamValidationError(report="CiphertextBlob too long"), KmsError),
    ],
    ids=_error_id,
)
def test_botocore_errors_become_project_errors(error: Exception, expected: type[KmsError]) -> None:
    assert isinstance(error, ClientError | BotoCoreError)
    translated = translate_kms_error(error)
    assert type(translated) is expected


def test_translated_messages_do_not_quote_aws_messages() -> None:
    translated = translate_kms_error(
        _client_error("ValidationException", 400, "Value 'c2VjcmV0LWJ5dGVz' at 'ciphertextBlob'")
    )
    assert "c2VjcmV0LWJ5dGVz" not in translated.message
    assert "ValidationException" in translated.message


# --- choosing a backend ------------------------------------------------------------------


@pytest.fixture
def closable_kms() -> Iterator[list[AwsKms]]:
    created: list[AwsKms] = []
    yield created
    for kms in created:
        kms.close()


def test_factory_chooses_the_backend_from_settings(
    tmp_path: Path, closable_kms: list[AwsKms]
) -> None:
    local = create_kms(Settings(kms_backend="local", kms_master_key_file=tmp_path / "m.key"))
    assert isinstance(local, LocalKms)
    aws = create_kms(aws_settings("http://127.0.0.1:1", "alias/cipherslip"))
    assert isinstance(aws, AwsKms)
    closable_kms.append(aws)


def test_factory_refuses_the_local_backend_in_production(tmp_path: Path) -> None:
    settings = Settings(
        env="production", kms_backend="local", kms_master_key_file=tmp_path / "m.key"
    )
    with pytest.raises(KmsError, match="development only"):
        create_kms(settings)
    assert not (tmp_path / "m.key").exists()
