"""Approving the CLI in the browser: ``/cli/authorize`` shows who asks for what; Approve
sends the browser back to the CLI's loopback address with a one-time code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from core.errors import InvalidInput
from core.refusals import sentence
from core.services.api_tokens import SCOPES
from core.services.cli_login import CliAuthorization, authorization_request
from http_layer.csrf import verify_csrf
from http_layer.deps import CliLoginDep, CurrentUser, TemplatesDep
from http_layer.rendering import render

router = APIRouter(prefix="/cli", include_in_schema=False)
Text = Annotated[str, Query(max_length=500)]
FormText = Annotated[str, Form(max_length=500)]


def _page(request: Request, templates: TemplatesDep, user: CurrentUser,
          asked: CliAuthorization | InvalidInput) -> Response:
    if isinstance(asked, InvalidInput):
        return render(request, templates, "error.html", user, 400,
                      title="This CLI sign-in cannot go on", message=sentence(asked))
    return render(request, templates, "cli_authorize.html", user, asked=asked,
                  meanings=[(scope, SCOPES[scope]) for scope in asked.scopes])


def _checked(**values: str) -> CliAuthorization | InvalidInput:
    try:
        return authorization_request(**values)
    except InvalidInput as problem:
        return problem


@router.get("/authorize")
def authorize_page(
    request: Request, user: CurrentUser, templates: TemplatesDep, redirect_uri: Text = "",
    state: Text = "", code_challenge: Text = "", code_challenge_method: Text = "",
    device: Text = "", scope: Text = "",
) -> Response:
    asked = _checked(redirect_uri=redirect_uri, state=state, code_challenge=code_challenge,
                     code_challenge_method=code_challenge_method, device=device, scope=scope)
    return _page(request, templates, user, asked)


@router.post("/authorize", dependencies=[Depends(verify_csrf)])
def decide(
    request: Request, user: CurrentUser, templates: TemplatesDep, cli_login: CliLoginDep,
    redirect_uri: FormText = "", state: FormText = "", code_challenge: FormText = "",
    code_challenge_method: FormText = "", device: FormText = "", scope: FormText = "",
    decision: FormText = "",
) -> Response:
    asked = _checked(redirect_uri=redirect_uri, state=state, code_challenge=code_challenge,
                     code_challenge_method=code_challenge_method, device=device, scope=scope)
    if isinstance(asked, InvalidInput):
        return _page(request, templates, user, asked)
    approved = decision == "approve"
    target = cli_login.approve(user, asked) if approved else cli_login.deny(asked)
    # A page that moves on by script, not a redirect: the form-action CSP ('self') would
    # stop a form's redirect to the loopback address.
    return render(request, templates, "cli_done.html", user, target=target, approved=approved,
                  asked=asked)
