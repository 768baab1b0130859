"""/api/v1/users (recipient suggestions) and /api/v1/me."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.schemas import UserOut
from http_layer.deps import (
    CurrentUser,
    UsersDep,
)

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.get("/users")
def search_users(
    user: CurrentUser, users: UsersDep, q: str = Query(min_length=1, max_length=100)
) -> list[UserOut]:
    return [UserOut(email=entry.email, name=entry.name)
            for entry in users.search(user.tenant_id, q)]


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return UserOut(email=user.email, name=user.name)
