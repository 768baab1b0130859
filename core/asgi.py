"""ASGI building blocks shared by the api and the vault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ModelT = TypeVar("ModelT", bound=BaseModel)


class BodySizeLimitMiddleware:
    """Refuse request bodies above a per-request limit before anything reads them whole.

    ``limit_for(scope)`` gives the limit; ``too_large(scope, limit)`` the answer (413). A declared
    Content-Length over the limit is refused at once; a streamed body as soon as it passes.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit_for: Callable[[Scope], int],
        too_large: Callable[[Scope, int], ASGIApp],
    ) -> None:
        self._app = app
        self._limit_for = limit_for
        self._too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(scope, limit)(scope, receive, send)
            return
        received = 0
        response_started = False
        refused = False

        async def nothing_to_receive() -> Message:
            return {"type": "http.disconnect"}

        async def limited_receive() -> Message:
            # Frameworks turn errors raised while they read a body into their own 400, so
            # the refusal is sent from here and the app is told the client went away.
            nonlocal received, refused, response_started
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not response_started:
                        response_started = True
                        await self._too_large(scope, limit)(scope, nothing_to_receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the app's answer to a body it never fully got
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise


async def json_body(request: Request, model: type[ModelT]) -> ModelT:
    """The request's JSON body as ``model``, refused as FastAPI refuses a bad body (422, each
    problem located under ``body``): for routes that skip FastAPI's per-request machinery
    (the api's lean routes, the vault's)."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as invalid:
        problems = [{**problem, "loc": ("body", *problem["loc"])}
                    for problem in invalid.errors(include_url=False, include_context=False)]
        raise RequestValidationError(problems) from None


def json_answer(answer: BaseModel, status_code: int = 200) -> Response:
    """``answer`` as JSON; the model was built by our own code, so it is not validated again."""
    return Response(answer.__pydantic_serializer__.to_json(answer), status_code,
                    media_type="application/json")
