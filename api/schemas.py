"""Request and response bodies of /api/v1. Bytes travel as base64url without padding."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.services import policy
from core.services.manage import SecretSummary

# base64url of the largest text stream, plus slack so that a slightly larger one is refused
# by the size rule (413, naming the limit) rather than by the schema.
COMPLETE_CONTENT_MAX_CHARS = (policy.max_upload_bytes("text") * 4 + 2) // 3 + 4096

class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSecretBody(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"audience": "internal", "recipients": ["bob@example.com"], "format": "env",
         "label": "Staging .env", "expires_in_seconds": 86400, "view_limit": 1,
         "public_key": "BL3k…(65-byte uncompressed P-256 point, base64url)"},
        {"audience": "external", "recipients": ["vendor@partner.org"], "format": "file",
         "label": None, "expires_in_seconds": 604800, "view_limit": None,
         "public_key": "BL3k…", "plaintext_size": 52428800},
    ]})
    audience: str = "internal"
    recipients: list[str] = Field(max_length=1000)
    format: str = "text"
    label: str | None = Field(default=None, max_length=2000)
    expires_in_seconds: int
    view_limit: int | None
    public_key: str = Field(max_length=200)
    plaintext_size: int | None = None  # files: the size of the file, in bytes
    draft: str | None = Field(default=None, max_length=100)  # from Slack's /share-secret


class UploadPlanOut(BaseModel):
    part_count: int
    first_part_bytes: int
    part_bytes: int
    records_per_part: int
    direct: bool  # true: PUT parts to presigned URLs (POST parts/urls); false: PUT to parts_url
    parts_url: str


class CreatedSecretOut(BaseModel):
    id: str
    share_code: str
    share_url: str
    sealed_key: str
    expires_at: datetime
    complete_url: str  # a text's content goes there too, with its sealed metadata
    max_upload_bytes: int
    upload: UploadPlanOut | None = None


# base64url of the 16-byte key check is 22 characters.
EncodedKeyCheck = Annotated[str, Field(min_length=1, max_length=32)]


class CompleteBody(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"sealed_meta": "kq3…(AES-GCM of the format, name, type, size)",
         "key_check": "Vt1…(16 bytes)", "content": "Q1NMMQEBEAA…(the CSL1 stream of a text)"},
    ]})
    sealed_meta: str = Field(max_length=4096)
    key_check: EncodedKeyCheck
    # A text's CSL1 stream, base64url (its size is checked on the decoded bytes); absent for
    # a file, whose parts were uploaded before.
    content: str | None = Field(default=None, max_length=COMPLETE_CONTENT_MAX_CHARS)


class CompletedOut(BaseModel):
    id: str
    share_code: str
    share_url: str
    status: str


class RevealBody(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"public_key": "BP9c…(a fresh one-time P-256 key)", "key_check": "Vt1…(16 bytes)"},
    ]})
    public_key: str = Field(max_length=200)
    # What the recipient's browser computed from its link; required by secrets that have one.
    key_check: EncodedKeyCheck | None = None


class RevealedOut(BaseModel):
    secret_id: str
    sealed_key: str
    sealed_meta: str
    content: str | None  # texts: the CSL1 stream
    download_url: str | None  # files: GET it within 10 minutes
    content_size: int | None
    views_left: int | None
    burned: bool


class PartUrlsBody(Body):
    parts: list[int] = Field(min_length=1, max_length=128)


class PartUrlsOut(BaseModel):
    urls: dict[int, str]


class ShareOut(BaseModel):
    secret_id: str
    share_code: str
    status: str
    label: str | None
    creator_name: str
    creator_email: str
    expires_at: datetime
    views_left: int | None
    secret_type: str
    key_check: str | None  # base64url; None for secrets shared before key checks


class SecretOut(BaseModel):
    id: str
    share_code: str
    label: str | None
    status: str
    audience: str
    secret_type: str
    recipients: list[str]
    views_used: int
    view_limit: int | None
    views_left: int | None
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, summary: SecretSummary) -> SecretOut:
        return cls.model_validate(summary, from_attributes=True)


class ActivityOut(BaseModel):
    time: datetime
    activity_name: str
    actor_email: str | None
    src_ip: str | None
    status: str
    status_detail: str | None


class SecretDetailOut(SecretOut):
    share_url: str
    activity: list[ActivityOut]


class UserOut(BaseModel):
    email: str
    name: str


class TokenInUseOut(BaseModel):
    id: str
    name: str
    scopes: list[str]


class MeOut(UserOut):
    # Set when the request came with an API token: which one (so a program can revoke it).
    api_token: TokenInUseOut | None = None


class MagicLinkBody(Body):
    email: str = Field(max_length=400)


class MagicLinkRequestedOut(BaseModel):
    message: str


class ConsumeLinkBody(Body):
    token: str = Field(max_length=200)


class ConsumedLinkOut(BaseModel):
    next: str


class AdminSecretOut(BaseModel):
    id: str
    share_code: str
    label: str | None
    status: str
    creator_email: str
    creator_name: str
    audience: str
    secret_type: str
    recipients_count: int
    views_used: int
    view_limit: int | None
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None


class AdminSecretPageOut(BaseModel):
    items: list[AdminSecretOut]
    page: int
    page_size: int
    total: int


class AuditPageOut(BaseModel):
    items: list[dict[str, Any]]
    next_before: int | None


class CreateTokenBody(Body):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=4)
    expires_in_days: int = Field(default=90, ge=1, le=365)


class TokenOut(BaseModel):
    id: str
    name: str
    hint: str  # the token's last four characters
    scopes: list[str]
    owner_email: str
    state: str  # active | expired | revoked
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None


class CreatedTokenOut(TokenOut):
    token: str  # shown this once; only its hash is kept


class CliTokenBody(Body):
    code: str = Field(min_length=1, max_length=100)
    code_verifier: str = Field(min_length=43, max_length=128)
    redirect_uri: str = Field(min_length=1, max_length=500)


class CreateRequestBody(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"audience": "internal", "responders": ["dba@example.com"],
         "label": "The staging database password, please", "expected_format": "text",
         "open_for_seconds": 86400, "answer_expires_in_seconds": 86400,
         "answer_view_limit": 1},
    ]})
    audience: str = "internal"
    responders: list[str] = Field(max_length=1000)
    label: str | None = Field(default=None, max_length=2000)
    expected_format: str | None = None  # null: any format
    open_for_seconds: int
    answer_expires_in_seconds: int = 86400
    answer_view_limit: int | None = 1
    draft: str | None = Field(default=None, max_length=100)  # from Slack's /secrets request


class StartedRequestOut(BaseModel):
    id: str
    request_code: str
    request_url: str  # without the link key: the browser appends "#<link key>"
    open_until: datetime
    open_url: str  # POST the key check here


class OpenRequestBody(Body):
    key_check: EncodedKeyCheck


class RequestOut(BaseModel):
    id: str
    request_code: str
    request_url: str
    role: str  # requester | responder
    status: str  # open | fulfilled | expired | cancelled
    label: str | None
    expected_format: str | None
    requester_name: str
    requester_email: str
    created_at: datetime
    open_until: datetime
    answer_expires_in_seconds: int
    answer_view_limit: int | None
    key_check: str | None  # base64url: what the responder's browser checks its link against
    responders: list[str]  # to the requester only
    answered_by: str | None  # to the requester only
    answer_share_code: str | None  # to the requester, once answered: reveal it as a share


class RequestSummaryOut(BaseModel):
    request_code: str
    request_url: str  # without its key (only the requester's kept link has it)
    label: str | None
    status: str
    requester_email: str
    responders: list[str]
    audience: str
    answered_by: str | None
    created_at: datetime
    open_until: datetime


class AnswerBody(Body):
    format: str = "text"
    public_key: str = Field(max_length=200)
    plaintext_size: int | None = None
