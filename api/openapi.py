"""The OpenAPI document at ``/api/openapi.json``, with how automation authenticates.

FastAPI describes the routes (the lean ones too, ``http_layer.lean``); this adds the two ways
in — a browser session (cookie + CSRF header) and an API token (``Authorization: Bearer``) —
and, on each route a token may use, the scope it needs (``http_layer.tokens.ROUTE_SCOPES``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from core.services.api_tokens import SCOPES, TOKEN_PREFIX
from http_layer.tokens import ANY_SCOPE, ROUTE_SCOPES

TOKEN_USE = f"""Scripts, CI jobs and the CLI authenticate with a personal API token, made on
the web under **API tokens** (`/tokens`) and shown once:

    curl -H "Authorization: Bearer $CIPHERSLIP_TOKEN" https://secrets.example.com/api/v1/secrets

The `slip` command line does all of the below for you; a client of its own shares a text in
two requests and reveals in two:

1. `POST /api/v1/secrets` (`secrets:write`) with a fresh one-time P-256 public key: the
   answer holds the secret's `id` and the data key HPKE-sealed to that key (`sealed_key`).
2. Make a 32-byte link key, encrypt the content as a CSL1 stream and seal the metadata with
   both keys, derive the key check, and `POST /api/v1/secrets/{{id}}/complete` with them
   (a file first sends its parts: `PUT …/parts/{{n}}`). The share URL is the answer's
   `share_url` + `#` + the link key in base64url; the server never sees that part.
3. A recipient (`secrets:reveal`): `GET /api/v1/shares/{{code}}` gives the secret's id and key
   check, to compare with the one derived from the link; then `POST
   /api/v1/shares/{{code}}/reveal` with a fresh public key and the key check returns the sealed
   data key, the sealed metadata and the ciphertext (a file: a `download_url`).

Tokens start with `{TOKEN_PREFIX}` and end in a CRC-32 checksum, so secret scanners can find
leaked ones. A token request needs no CSRF header and sends no cookie. Each route below
names the scope a token needs (`x-token-scope`); routes without one are for browser
sessions only. Content is encrypted and decrypted by the client (see docs/FORMATS.md in the
repository): the API only ever sees ciphertext."""


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        # The hot path's lean routes are plain Starlette routes: they are described by the
        # FastAPI routes they stand for.
        lean_routes = getattr(app.state, "lean_routes", ())
        documented = [lean.documented() for lean in lean_routes if lean.in_schema]
        document = get_openapi(title=app.title, version=app.version,
                               routes=[*documented, *app.routes], description=TOKEN_USE)
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["apiToken"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": f"{TOKEN_PREFIX}…",
            "description": "A personal API token; scopes: " + "; ".join(
                f"`{scope}` — {meaning}" for scope, meaning in SCOPES.items()),
        }
        schemes["browserSession"] = {"type": "apiKey", "in": "cookie",
                                     "name": "__Host-cipherslip_session",
                                     "description": "A signed-in browser session; unsafe "
                                                    "methods also need X-CSRF-Token."}
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                scope = ROUTE_SCOPES.get((method.upper(), path))
                security: list[dict[str, list[str]]] = [{"browserSession": []}]
                if scope is not None:
                    security.insert(0, {"apiToken": [scope] if scope != ANY_SCOPE else []})
                    operation["x-token-scope"] = scope or "any"
                operation["security"] = security
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
