"""Many secrets at once, straight into the database and blob store (tests and benchmarks)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from cipherslip_crypto.sharecode import generate_share_code
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from core.blobstore.protocol import BlobStore
from core.clock import SystemRandom
from core.db.models import Secret, SecretRecipient, User


def seed_user(db: sessionmaker[Session], email: str, now: datetime) -> str:
    user_id = str(uuid.uuid4())
    with db.begin() as session:
        session.add(User(id=user_id, tenant_id="default", issuer="seed", subject=email,
                         email=email, name=email, created_at=now, last_login_at=now))
    return user_id


def seed_secrets(
    db: sessionmaker[Session], blob_store: BlobStore, *, count: int, creator_id: str,
    created_at: datetime, expires_at: datetime, status: str = "active", blob_bytes: int = 100,
    batch: int = 1000,
) -> list[str]:
    """``count`` secrets with a wrapped key, sealed metadata and a ciphertext blob each."""
    ids: list[str] = []
    random = SystemRandom()
    for start in range(0, count, batch):
        rows, recipients = [], []
        for index in range(start, min(count, start + batch)):
            secret_id = str(uuid.uuid4())
            blob_key = f"default/{secret_id}/{os.urandom(8).hex()}.csl1"
            blob_store.put(blob_key, [os.urandom(blob_bytes)])
            rows.append({
                "id": secret_id, "tenant_id": "default",
                "share_code": generate_share_code(random),
                "creator_id": creator_id, "audience": "internal", "secret_type": "text",
                "label": f"seeded {index}", "status": status, "view_limit": 1, "views_used": 0,
                "created_at": created_at, "expires_at": expires_at + timedelta(microseconds=index),
                "activated_at": created_at, "wrapped_key": os.urandom(64),
                "sealed_meta": os.urandom(80), "blob_key": blob_key, "content_size": blob_bytes,
            })
            recipients.append({"secret_id": secret_id, "email": "bob@example.com"})
            ids.append(secret_id)
        with db.begin() as session:
            session.execute(insert(Secret), rows)
            session.execute(insert(SecretRecipient), recipients)
    return ids
