"""app_manifest.yml, checked against Slack's official manifest schema and against the code.

The schema (JSON Schema, draft 7, MIT-licensed by Slack) catches shape errors: a missing
required field, a wrong type, an unknown key. It does not list scope or event names, so
those are compared with the code instead: the slash commands and bot events with the
listeners that declare them (``bot.listeners.commands()`` / ``events()``), the bot scopes
with ``bot.installation.BOT_SCOPES``, and every URL with the routes the api really serves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from fastapi.routing import APIRoute
from slack_bolt.async_app import AsyncApp

from api.routes.slack import slack_router
from bot.installation import BOT_SCOPES
from bot.listeners import commands, events

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_FILE = ROOT / "app_manifest.yml"
# Slack's official schema (MIT), copied from api.slack.com's published manifest schema.
SCHEMA_FILE = Path(__file__).with_name("slack_manifest.schema.1.0.0.json")
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"


def manifest() -> dict[str, Any]:
    """A fresh copy each time, so a test may change it."""
    loaded = yaml.safe_load(MANIFEST_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@cache
def _schema() -> dict[str, Any]:
    loaded = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = _schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: "
            f"{error.message}" for error in validator.iter_errors(document)]


def manifest_urls(document: dict[str, Any]) -> dict[str, str]:
    """Every URL Slack calls or redirects to, named by where it sits in the manifest."""
    settings = document["settings"]
    urls = {f"slash command {command['command']}": command["url"]
            for command in document["features"]["slash_commands"]}
    urls["event subscriptions"] = settings["event_subscriptions"]["request_url"]
    urls["interactivity"] = settings["interactivity"]["request_url"]
    for index, url in enumerate(document["oauth_config"]["redirect_urls"]):
        urls[f"oauth redirect {index}"] = url
    return urls


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of every Slack route the api mounts when OAuth installs are on."""
    bolt = AsyncApp(signing_secret="unused", token="xoxb-unused")
    router = slack_router(bolt, oauth=True)
    return {(method, route.path) for route in router.routes if isinstance(route, APIRoute)
            for method in route.methods or ()}


def test_the_manifest_is_valid_against_slacks_schema() -> None:
    errors = schema_errors(manifest())
    assert not errors, "app_manifest.yml does not match Slack's schema:\n" + "\n".join(errors)


def test_a_manifest_without_an_app_name_fails_the_schema() -> None:
    broken = manifest()
    del broken["display_information"]["name"]
    errors = schema_errors(broken)
    assert errors, "the schema accepted a manifest without display_information.name"
    assert any("'name' is a required property" in error for error in errors), errors


def _drop_display_information(document: dict[str, Any]) -> None:
    del document["display_information"]


def _command_without_slash(document: dict[str, Any]) -> None:
    document["features"]["slash_commands"][0]["command"] = "share-secret"


def _command_without_description(document: dict[str, Any]) -> None:
    del document["features"]["slash_commands"][1]["description"]


def _interactivity_without_is_enabled(document: dict[str, Any]) -> None:
    del document["settings"]["interactivity"]["is_enabled"]


def _scopes_as_a_string(document: dict[str, Any]) -> None:
    document["oauth_config"]["scopes"]["bot"] = "commands"


def _unknown_setting(document: dict[str, Any]) -> None:
    document["settings"]["socket_mode"] = False


@pytest.mark.parametrize("change", [
    _drop_display_information, _command_without_slash, _command_without_description,
    _interactivity_without_is_enabled, _scopes_as_a_string, _unknown_setting,
], ids=lambda change: change.__name__.strip("_"))
def test_other_shape_errors_fail_the_schema(change: Callable[[dict[str, Any]], None]) -> None:
    broken = manifest()
    change(broken)
    assert schema_errors(broken), f"the schema accepted {broken}"


def test_an_unknown_scope_is_caught_by_the_scope_check_not_the_schema() -> None:
    # Slack's schema allows any string as a scope; only the comparison with the code
    # (test_the_bot_scopes_are_exactly_what_the_code_requests) refuses a stray one.
    broken = manifest()
    broken["oauth_config"]["scopes"]["bot"].append("channels:histori")
    assert not schema_errors(broken)
    assert set(broken["oauth_config"]["scopes"]["bot"]) != set(BOT_SCOPES)


def test_every_slash_command_has_a_listener_and_every_listener_a_command() -> None:
    declared = {command["command"] for command in manifest()["features"]["slash_commands"]}
    assert declared == commands()


def test_every_bot_event_has_a_listener_and_every_listener_an_event() -> None:
    declared = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert declared == events()


def test_the_bot_scopes_are_exactly_what_the_code_requests() -> None:
    scopes = manifest()["oauth_config"]["scopes"]
    assert list(scopes) == ["bot"], "the app asks for no user scopes"
    assert len(scopes["bot"]) == len(set(scopes["bot"])), "a scope is listed twice"
    assert set(scopes["bot"]) == set(BOT_SCOPES)


def test_every_url_is_on_the_one_unfurled_host_and_a_served_path() -> None:
    document = manifest()
    urls = manifest_urls(document)
    parts = {where: urlsplit(url) for where, url in urls.items()}
    assert {part.scheme for part in parts.values()} == {"https"}, urls
    hosts = {part.netloc for part in parts.values()}
    assert len(hosts) == 1, f"the manifest names several hosts: {urls}"
    assert hosts <= set(document["features"]["unfurl_domains"])
    assert all(not part.query and not part.fragment for part in parts.values()), urls

    redirects = {where for where in urls if where.startswith("oauth redirect")}
    assert redirects, "no OAuth redirect URL"
    for where, part in parts.items():
        expected = OAUTH_REDIRECT_PATH if where in redirects else EVENTS_PATH
        assert part.path == expected, f"{where}: {urls[where]}"

    routes = served_routes()
    assert ("POST", EVENTS_PATH) in routes
    assert ("GET", OAUTH_REDIRECT_PATH) in routes


DEV_MANIFEST_FILE = ROOT / "app_manifest.dev.yml"


def dev_manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(DEV_MANIFEST_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_development_manifest_is_valid_and_uses_socket_mode() -> None:
    document = dev_manifest()
    assert schema_errors(document) == []
    assert document["settings"]["socket_mode_enabled"] is True
    # Socket Mode needs no public URL: none is listed.
    assert "url" not in json.dumps(document).replace("usage_hint", "")


def test_the_development_manifest_asks_for_no_more_than_the_code_uses() -> None:
    document = dev_manifest()
    assert {command["command"] for command in document["features"]["slash_commands"]} == (
        commands())
    assert set(document["settings"]["event_subscriptions"]["bot_events"]) <= events()
    assert set(document["oauth_config"]["scopes"]["bot"]) <= set(BOT_SCOPES)
