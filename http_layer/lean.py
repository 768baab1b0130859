"""Lean routes: the hot path's requests served as plain Starlette routes.

Sharing a text and revealing it take four requests (reserve, complete; the share page, the
reveal). FastAPI's per-request machinery — its router, dependency solving and response-model
validation — cost about 0.2 ms of CPU on each, as much as some of the services behind them, and
``bench.api_cpu`` measured it. These four are plain Starlette routes, tried before any other:
their endpoints take the ``Request`` and call the same functions the dependencies do
(``http_layer.deps``, ``verify_csrf``), then the same services, and read and write JSON with
``core.asgi.json_body`` and ``json_answer``. Everything around them is
unchanged: the middlewares (session, API token, body limit, headers, access log) and the
exception handlers that turn refusals into answers.

The OpenAPI document still describes them, from the same pydantic models: ``documented()``
builds the FastAPI route their signature would have had, used only to write the document.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, compile_path
from starlette.types import Scope

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, kw_only=True)
class LeanRoute:
    """One lean route, and what the OpenAPI document says of it (``body`` and ``answer`` are
    the JSON models read and written; an HTML page has neither and stays out of it)."""

    method: str
    path: str
    endpoint: Endpoint
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    status_code: int = 200
    tags: tuple[str, ...] = ()

    def route(self) -> Route:
        return _RouteInScope(self.path, self.endpoint, methods=[self.method],
                             name=self.endpoint.__name__)

    @property
    def in_schema(self) -> bool:
        return self.answer is not None

    def documented(self) -> APIRoute:
        """The FastAPI route this one stands for, for the OpenAPI document only."""
        _, _, converters = compile_path(self.path)
        parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=str)
                      for name in converters]
        if self.body is not None:
            parameters.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                                                annotation=self.body))

        def signature(**_: Any) -> None:
            """Never called: FastAPI reads its signature."""

        signature.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=self.answer)
        signature.__name__ = self.endpoint.__name__
        signature.__doc__ = self.endpoint.__doc__
        return APIRoute(self.path, signature, methods=[self.method],
                        status_code=self.status_code, response_model=self.answer,
                        tags=list(self.tags))


class _RouteInScope(Route):
    """Names itself in the scope as FastAPI's routes do (FastAPI's router leaves that to the
    route): which route it was decides what an API token may do there."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def install_lean_routes(app: FastAPI, routes: Sequence[LeanRoute]) -> None:
    """Put ``routes`` first in ``app``'s routing; ``app.state.lean_routes`` keeps them for the
    OpenAPI document."""
    app.router.routes[0:0] = [lean.route() for lean in routes]
    app.state.lean_routes = tuple(routes)
