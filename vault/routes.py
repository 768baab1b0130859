"""The vault's HTTP API.

``POST /v1/data-keys`` makes a data key and seals it to the creator's browser key (purpose
"create"); ``POST /v1/data-keys/unseal`` unwraps a stored key and seals it to a recipient's
browser key (purpose "reveal"). The endpoint fixes the purpose: a caller cannot choose it.
Handlers run the blocking KMS calls in a worker thread, one hop per request.
"""

from __future__ import annotations

from typing import Annotated

from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.hpke import Purpose, parse_public_key, seal_data_key
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.asgi import json_answer, json_body
from core.blocking import BlockingCalls
from core.errors import KmsError
from vault.errors import error_response
from vault.kms.protocol import KeyManagementService, encryption_context

# Visible ASCII: ids become part of the KMS context and the HPKE info string.
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
# base64url of a 65-byte P-256 point is 87 characters.
EncodedPublicKey = Annotated[str, Field(min_length=1, max_length=88)]
# base64url of AWS KMS's largest ciphertext (6144 bytes).
EncodedWrappedKey = Annotated[str, Field(min_length=1, max_length=8192)]


class CreateDataKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    secret_id: Identifier
    public_key: EncodedPublicKey


class CreateDataKeyResponse(BaseModel):
    wrapped_key: str
    sealed_key: str


class UnsealDataKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: Identifier
    secret_id: Identifier
    wrapped_key: EncodedWrappedKey
    public_key: EncodedPublicKey


class UnsealDataKeyResponse(BaseModel):
    sealed_key: str


def _browser_public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    # Parsed (so refused if bad) before a KMS call is spent, and parsed once.
    return parse_public_key(b64url_decode(encoded, field="public_key"))


def _seal_then_wipe(
    data_key: bytearray, public_key: ec.EllipticCurvePublicKey, secret_id: str,
    purpose: Purpose,
) -> bytes:
    """Seal the data key, then overwrite it.

    Best effort: the KMS client's own immutable copy is freed, not overwritten, but the copy
    this request holds does not linger in memory.
    """
    try:
        return seal_data_key(data_key, public_key, secret_id, purpose)
    finally:
        data_key[:] = bytes(len(data_key))


def data_key_routes(kms: KeyManagementService, calls: BlockingCalls) -> list[Route]:
    """The two key routes, as plain Starlette routes: every create and every reveal pays one
    of them, and FastAPI's per-request machinery (routing, dependency solving, validating the
    answer again) cost about as much CPU as the sealing (``core.asgi.json_body``)."""

    def create(request: CreateDataKeyRequest) -> CreateDataKeyResponse:
        public_key = _browser_public_key(request.public_key)
        context = encryption_context(request.tenant_id, request.secret_id)
        generated_key, wrapped_key = kms.generate_data_key(context)
        data_key = bytearray(generated_key)
        del generated_key  # from here on only the bytearray holds it, and it gets wiped
        sealed_key = _seal_then_wipe(data_key, public_key, request.secret_id, "create")
        return CreateDataKeyResponse(
            wrapped_key=b64url_encode(wrapped_key), sealed_key=b64url_encode(sealed_key)
        )

    def unseal(request: UnsealDataKeyRequest) -> UnsealDataKeyResponse:
        public_key = _browser_public_key(request.public_key)
        wrapped_key = b64url_decode(request.wrapped_key, field="wrapped_key")
        context = encryption_context(request.tenant_id, request.secret_id)
        data_key = bytearray(kms.decrypt_data_key(wrapped_key, context))
        sealed_key = _seal_then_wipe(data_key, public_key, request.secret_id, "reveal")
        return UnsealDataKeyResponse(sealed_key=b64url_encode(sealed_key))

    # The blocking KMS work runs in one worker thread (``core.blocking``): one hop per request.
    async def create_data_key(request: Request) -> Response:
        body = await json_body(request, CreateDataKeyRequest)
        return json_answer(await calls.run(create, body), 201)

    async def unseal_data_key(request: Request) -> Response:
        body = await json_body(request, UnsealDataKeyRequest)
        return json_answer(await calls.run(unseal, body))

    return [Route("/v1/data-keys", create_data_key, methods=["POST"]),
            Route("/v1/data-keys/unseal", unseal_data_key, methods=["POST"])]


def health_routes(kms: KeyManagementService) -> list[Route]:
    """Unauthenticated probes for the orchestrator; they reveal only up/ready."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def readyz(_request: Request) -> Response:  # a plain def: Starlette runs it in a thread
        try:
            kms.check_ready()
        except KmsError as exc:
            # The reason is in the vault's log (the KMS backend logs it); probes get no detail.
            return error_response(503, exc.code, "the vault cannot reach its KMS")
        return JSONResponse({"status": "ready"})

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
