"""The bucket CORS rule browsers need: pages of the web origin PUT file parts to presigned URLs
and GET ciphertext (with Range, to resume) straight from S3. docs/DEPLOYMENT.md and the compose
stack apply exactly this; tests apply it to moto."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def web_origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def browser_cors_configuration(base_url: str) -> dict[str, Any]:
    return {"CORSRules": [{
        "AllowedOrigins": [web_origin(base_url)],
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["*"],
        # Nothing the page reads needs more; ETags are collected by the api (list_parts).
        "ExposeHeaders": ["ETag", "Content-Length", "Content-Range"],
        "MaxAgeSeconds": 3600,
    }]}
