"""/api/v1/users (recipient suggestions) and /api/v1/me."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from api.schemas import MeOut, TokenInUseOut, UserOut
from http_layer.deps import (
    CurrentUser,
    UsersDep,
)
from http_layer.tokens import token_of

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.get("/users")
def search_users(
    user: CurrentUser, users: UsersDep, q: str = Query(min_length=1, max_length=100)
) -> list[UserOut]:
    return [UserOut(email=entry.email, name=entry.name)
            for entry in users.search(user.tenant_id, q)]


@router.get("/me")
def me(user: CurrentUser, request: Request) -> MeOut:
    token = token_of(request)
    in_use = None if token is None else TokenInUseOut(
        id=token.ref.id, name=token.ref.name, scopes=sorted(token.scopes))
    return MeOut(email=user.email, name=user.name, api_token=in_use)
