"""File secrets: declared size, record-aligned parts (carried by the api, or straight to S3
through presigned URLs), download links with Range, the last-view window, and the limits."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import AuditEvent, Secret
from core.services.uploads import UploadPlan
from tests.support.client import BrowserLikeClient, RevealFailed
from tests.support.moto import MotoServer
from tests.support.stack import Stack, VaultServer, running_stack

NAME = "clé privée ✓.pem"
SIZE = 20 * 2**20 + 12_345  # three parts


@pytest.fixture(params=["local", "s3"])
def file_stack(request: pytest.FixtureRequest, tmp_path: Path, database_url: str, idp: str,
               vault: VaultServer) -> Iterator[Stack]:
    options: dict[str, Any] = {"reveal_rate_per_user": 1000}
    if request.param == "s3":
        moto: MotoServer = request.getfixturevalue("moto")
        bucket = f"files-{uuid.uuid4().hex[:12]}"
        moto.client("s3").create_bucket(Bucket=bucket)
        options |= {"blob_backend": "s3", "s3_endpoint_url": moto.endpoint_url,
                    "s3_bucket": bucket}
    with running_stack(data_dir=tmp_path, database_url=database_url, discovery_url=idp,
                       vault=vault, **options) as stack:
        yield stack


def events(stack: Stack, activity: str) -> list[AuditEvent]:
    with stack.services.db() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.activity_name == activity)))


def test_file_round_trip_with_name_only_in_sealed_metadata(file_stack: Stack) -> None:
    alice, bob = file_stack.user("alice@example.com"), file_stack.user("bob@example.com")
    content = os.urandom(SIZE)
    link = alice.create_file(content, NAME, ["bob@example.com"], media_type="application/x-pem",
                             view_limit=3)
    meta, plaintext, revealed = bob.reveal_file(link)
    assert hashlib.sha256(plaintext).digest() == hashlib.sha256(content).digest()
    assert meta == {"format": "file", "name": NAME, "type": "application/x-pem", "size": SIZE}
    assert revealed["content"] is None and revealed["views_left"] == 2
    with file_stack.services.db() as session:
        secret = session.get(Secret, link.secret_id)
        assert secret is not None
        assert secret.secret_type == "file" and secret.upload_id is None
        assert secret.content_size == UploadPlan(SIZE).stream_size
        assert NAME not in repr(secret.__dict__)  # the server never learns the name
    [downloaded] = events(file_stack, "paper_secret_file_downloaded")
    assert downloaded.actor_email == "bob@example.com"


def test_download_link_is_the_viewers_for_ten_minutes_with_ranges(file_stack: Stack) -> None:
    alice, bob = file_stack.user("alice@example.com"), file_stack.user("bob@example.com")
    carol = file_stack.user("carol@example.com")
    link = alice.create_file(os.urandom(100_000), "a.bin", ["bob@example.com",
                                                            "carol@example.com"])
    _, _, revealed = bob.reveal_file(link)
    url = revealed["download_url"]
    assert carol.http.get(url).status_code == 404  # someone else's link
    again = bob.http.get(url, headers={"range": "bytes=0-31"}, follow_redirects=True)
    assert again.status_code == 206 and len(again.content) == 32
    assert again.content[:4] == b"CSL1"
    assert len(events(file_stack, "paper_secret_file_downloaded")) == 1  # one download
    file_stack.clock.advance(timedelta(minutes=10, seconds=1))
    assert bob.http.get(url).status_code == 404


def test_last_view_keeps_the_file_for_the_download_window(file_stack: Stack) -> None:
    alice, bob = file_stack.user("alice@example.com"), file_stack.user("bob@example.com")
    link = alice.create_file(os.urandom(70_000), "b.bin", ["bob@example.com"], view_limit=1)
    _, _, revealed = bob.reveal_file(link)
    assert revealed["burned"] is True
    with file_stack.services.db() as session:
        secret = session.get(Secret, link.secret_id)
        assert secret is not None and secret.status == "burned" and secret.wrapped_key is None
        blob_key = secret.blob_key
    assert blob_key is not None and file_stack.services.blob_store.exists(blob_key)
    jobs = file_stack.purge_jobs()
    file_stack.clock.advance(timedelta(minutes=9))
    assert jobs.retry_blob_deletes().processed == []
    assert bob.http.get(revealed["download_url"], follow_redirects=True).status_code == 200
    file_stack.clock.advance(timedelta(minutes=1, seconds=1))
    assert jobs.retry_blob_deletes().processed == [link.secret_id]
    assert not file_stack.services.blob_store.exists(blob_key)


def test_a_tampered_file_fails_to_decrypt(file_stack: Stack) -> None:
    from core.errors import StreamAuthenticationError

    alice, bob = file_stack.user("alice@example.com"), file_stack.user("bob@example.com")
    link = alice.create_file(os.urandom(200_000), "c.bin", ["bob@example.com"])
    store = file_stack.services.blob_store
    with file_stack.services.db() as session:
        blob_key = session.scalar(select(Secret.blob_key).where(Secret.id == link.secret_id))
    assert blob_key is not None
    stored = bytearray(store.read(blob_key))
    stored[100_000] ^= 1
    store.put(blob_key, [bytes(stored)])
    with pytest.raises(StreamAuthenticationError):
        bob.reveal_file(link)


# --- limits and refusals ----------------------------------------------------------------
def start(client: BrowserLikeClient, size: int) -> dict[str, Any]:
    response, _ = client.start_secret(["bob@example.com"], format="file", plaintext_size=size)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_plan_is_announced_and_oversize_refused(file_stack: Stack) -> None:
    alice = file_stack.user("alice@example.com")
    created = start(alice, 2**30)
    assert created["upload"]["part_count"] == 128
    assert created["upload"]["direct"] is (file_stack.settings.blob_backend == "s3")
    response, _ = alice.start_secret(["bob@example.com"], format="file",
                                     plaintext_size=2**30 + 1)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "plaintext_size"


def test_parts_beyond_the_declared_size_and_wrong_sizes_are_refused(file_stack: Stack) -> None:
    alice = file_stack.user("alice@example.com")
    created = start(alice, 100)
    parts_url = created["upload"]["parts_url"]
    if created["upload"]["direct"]:
        beyond = alice.api("POST", f"{parts_url}/urls", json={"parts": [2]})
        assert beyond.status_code == 422 and "parts 1 to 1" in beyond.text
        carried = alice.api("PUT", f"{parts_url}/1", content=b"x" * 148,
                            headers={"content-type": "application/octet-stream"})
        assert carried.status_code == 409 and "straight to storage" in carried.text
        return
    for number, body, status in [(2, b"x" * 10, 422), (1, b"x" * 147, 422),
                                 (1, b"x" * 149, 413)]:
        response = alice.api("PUT", f"{parts_url}/{number}", content=body,
                             headers={"content-type": "application/octet-stream"})
        assert response.status_code == status, (number, response.text)


def test_complete_verifies_every_part(file_stack: Stack) -> None:
    alice = file_stack.user("alice@example.com")
    created = start(alice, 9 * 2**20)
    plan = UploadPlan(9 * 2**20)
    first_part = b"CSL1" + bytes(plan.part_size(1) - 4)
    alice.send_parts(created, [first_part])  # part 2 of 2 never sent
    response = alice.api("POST", created["complete_url"], json={"sealed_meta": "A" * 40,
                                                           "key_check": "A" * 22})
    assert response.status_code == 409
    assert "part 2 of 2 has not arrived" in response.json()["error"]["message"]
    with file_stack.services.db() as session:
        assert session.get(Secret, created["id"]).status == "pending"  # type: ignore[union-attr]


def test_cancel_leaves_nothing(file_stack: Stack, request: pytest.FixtureRequest) -> None:
    alice = file_stack.user("alice@example.com")
    created = start(alice, 9 * 2**20)
    alice.send_parts(created, [os.urandom(UploadPlan(9 * 2**20).part_size(1))])
    assert alice.api("DELETE", f"/api/v1/secrets/{created['id']}").status_code == 204
    with file_stack.services.db() as session:
        assert session.get(Secret, created["id"]) is None
    if file_stack.settings.blob_backend == "s3":
        s3 = request.getfixturevalue("moto").client("s3")
        bucket = file_stack.settings.s3_bucket
        assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
        assert not s3.list_objects_v2(Bucket=bucket, Prefix=f"default/{created['id']}/").get(
            "Contents")
    else:
        assert file_stack.stored_blobs(created["id"]) == []
        directory = file_stack.settings.effective_blob_dir / "default" / created["id"]
        assert not any(path.is_file() for path in directory.rglob("*"))
    # And the link of a cancelled secret leads nowhere.
    assert alice.api("GET", f"/api/v1/shares/{created['share_code']}").status_code == 404


def test_reveal_of_a_revoked_file_is_refused(file_stack: Stack) -> None:
    alice, bob = file_stack.user("alice@example.com"), file_stack.user("bob@example.com")
    link = alice.create_file(os.urandom(1000), "d.bin", ["bob@example.com"])
    alice.api("POST", f"/api/v1/secrets/{link.secret_id}/revoke")
    with pytest.raises(RevealFailed) as refused:
        bob.reveal_file(link)
    assert refused.value.response.status_code == 410
