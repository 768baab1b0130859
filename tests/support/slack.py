"""Slack for tests: a local fake of the Web API (a real HTTP server that records every call
and its body), and signed requests into the real Bolt app, as Slack sends them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import UvicornThread

TEAM_ID = "T0CIPHER"
BOT_TOKEN = "xoxb-test-bot-token"
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class SlackUserRecord:
    user_id: str
    email: str | None
    name: str
    is_bot: bool = False
    confirmed: bool = True


@dataclass
class FakeSlack:
    """Answers the Web API methods the bot uses, from a small user directory."""

    users: dict[str, SlackUserRecord] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # method -> error, once
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    install_team: str = "T0OTHER"  # the workspace oauth.v2.access says was installed
    latency: float = 0.0  # seconds every Web API call takes, as real Slack's do
    # Slack's token rotation: installs and refreshes hand out tokens that expire this soon.
    token_lifetime: int | None = None
    rotations: int = 0
    refuse_responses: int = 0  # response_url posts to refuse, as Slack does bad blocks
    failing_users: set[str] = field(default_factory=set)  # users.info answers an error for
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_user(self, user_id: str, email: str | None, name: str = "", **flags: Any) -> None:
        self.users[user_id] = SlackUserRecord(user_id, email, name or user_id, **flags)

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Listeners run after the ack: their calls arrive a moment after the response."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} {method} call(s), got {self.calls_to(method)}")

    def everything_sent(self) -> str:
        with self.lock:
            return json.dumps([call.args for call in self.calls])

    def _user_json(self, record: SlackUserRecord) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": record.name}
        if record.email is not None:
            profile["email"] = record.email
        return {"id": record.user_id, "name": record.name, "deleted": False,
                "is_bot": record.is_bot, "is_email_confirmed": record.confirmed,
                "team_id": TEAM_ID, "profile": profile}

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        error = self.failures.pop(method, None) or blocks_problem(args)
        if error is not None:
            return {"ok": False, "error": error}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM_ID,
                    "team": "Cipherslip Test", "url": "https://test.slack.com/"}
        if method == "users.info":
            if str(args.get("user")) in self.failing_users:
                return {"ok": False, "error": "fatal_error"}
            record = self.users.get(str(args.get("user")))
            if record is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": self._user_json(record)}
        if method == "users.lookupByEmail":
            for record in self.users.values():
                if record.email == args.get("email"):
                    return {"ok": True, "user": self._user_json(record)}
            return {"ok": False, "error": "users_not_found"}
        if method == "chat.postMessage":
            channel = str(args["channel"])
            channel = "D" + channel[1:] if channel.startswith("U") else channel
            ts = f"1700000000.{next(self._ts):06d}"
            self.messages[(channel, ts)] = args
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.update":
            key = (str(args.get("channel")), str(args.get("ts")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = args
            return {"ok": True, "channel": key[0], "ts": key[1]}
        if method in ("views.open", "views.update", "views.publish"):
            return {"ok": True, "view": {"id": "V0MODAL", "hash": "h1"}}
        if method == "oauth.v2.access" and args.get("grant_type") == "refresh_token":
            if args.get("refresh_token") != "xoxe-1-refresh":
                return {"ok": False, "error": "invalid_refresh_token"}
            self.rotations += 1
            return {"ok": True, "access_token": f"xoxe.xoxb-rotated-{self.rotations}",
                    "refresh_token": "xoxe-1-refresh", "expires_in": 12 * 3600,
                    "token_type": "bot", "scope": "commands,chat:write", "bot_user_id": "UBOT",
                    "app_id": "A0CIPHER", "team": {"id": self.install_team, "name": "Other"},
                    "enterprise": None, "is_enterprise_install": False}
        if method == "oauth.v2.access" and self.token_lifetime is not None:
            return {"ok": True, "app_id": "A0CIPHER", "access_token": "xoxe.xoxb-installed",
                    "refresh_token": "xoxe-1-refresh", "expires_in": self.token_lifetime,
                    "token_type": "bot", "scope": "commands,chat:write", "bot_user_id": "UBOT",
                    "team": {"id": self.install_team, "name": "Other"}, "enterprise": None,
                    "is_enterprise_install": False, "authed_user": {"id": "U0ADMIN"}}
        if method == "oauth.v2.access":
            return {"ok": True, "app_id": "A0CIPHER", "access_token": "xoxb-installed",
                    "token_type": "bot", "scope": "commands,chat:write", "bot_user_id": "UBOT",
                    "team": {"id": self.install_team, "name": "Other"}, "enterprise": None,
                    "is_enterprise_install": False, "authed_user": {"id": "U0ADMIN"}}
        return {"ok": True}

    def message_text(self, channel: str, ts: str) -> str:
        """A posted message as a reader sees it: its text and every text in its blocks."""
        return _texts(self.messages[(channel, ts)])


SECTION_TEXT_MAX = 3000  # Slack refuses a section whose text is longer
BLOCKS_MAX = 50


def blocks_problem(args: dict[str, Any]) -> str | None:
    """What Slack would say about these blocks ("invalid_blocks"), or None."""
    blocks = args.get("blocks") or (args.get("view") or {}).get("blocks") or []
    if len(blocks) > BLOCKS_MAX:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > SECTION_TEXT_MAX:
            return "invalid_blocks"
    return None


def _texts(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_texts(item) for item in value.values())
    if isinstance(value, list):
        return " ".join(_texts(item) for item in value)
    return value if isinstance(value, str) else ""


def blocks_text(value: Any) -> str:
    return _texts(value)


def _fake_app(fake: FakeSlack) -> Starlette:
    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        args: dict[str, Any] = dict(request.query_params)
        raw = await request.body()
        if raw:
            if request.headers.get("content-type", "").startswith("application/json"):
                args.update(json.loads(raw))
            else:
                args.update(dict(parse_qsl(raw.decode())))
        for key in ("blocks", "view", "unfurls", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        auth = request.headers.get("authorization", "")
        if fake.latency:
            await asyncio.sleep(fake.latency)
        with fake.lock:
            fake.calls.append(Call(method, args, auth.removeprefix("Bearer ") or None))
            answer = fake.answer(method, args)
        return JSONResponse(answer)

    async def response_url(request: Request) -> Response:
        args = json.loads(await request.body())
        problem = blocks_problem(args)
        with fake.lock:
            if problem is None and fake.refuse_responses:
                fake.refuse_responses -= 1
                problem = "invalid_blocks"
        with fake.lock:
            fake.calls.append(Call("response_url" if problem is None else "response_url!refused",
                                   args, None))
        return Response(problem or "ok", 400 if problem else 200)

    return Starlette(routes=[
        Route("/api/{method}", api, methods=["GET", "POST"]),
        Route("/respond/{token}", response_url, methods=["POST"]),
    ])


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    server = UvicornThread(_fake_app(fake))
    server.start()
    fake.url = server.url
    try:
        yield fake
    finally:
        server.stop()


def slack_settings(fake: FakeSlack) -> dict[str, object]:
    return {"slack_signing_secret": SIGNING_SECRET, "slack_bot_token": BOT_TOKEN,
            "slack_api_url": fake.api_url}


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackSender:
    """Sends what Slack sends: signed form posts (commands, interactivity) and JSON events."""

    base_url: str
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None) -> httpx.Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
                   "X-Slack-Signature": signature or sign(body, timestamp, self.secret)}
        return httpx.post(f"{self.base_url}/slack/events", content=body, headers=headers,
                          timeout=10)

    def command(self, command: str, text: str = "", user_id: str = "U0ALICE",
                **extra: str) -> httpx.Response:
        form = {"command": command, "text": text, "user_id": user_id, "team_id": TEAM_ID,
                "trigger_id": f"trigger.{next(self._ids)}", "channel_id": "C0GENERAL",
                "response_url": f"{self.fake.url}/respond/{next(self._ids)}", **extra}
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        payload = {"team": {"id": TEAM_ID}, "api_app_id": "A0CIPHER", **payload}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def view_submission(self, values: dict[str, Any], user_id: str = "U0ALICE",
                        private_metadata: str = "internal",
                        callback_id: str = "share_secret") -> httpx.Response:
        return self.interaction({
            "type": "view_submission", "user": {"id": user_id, "team_id": TEAM_ID},
            "view": {"id": "V0MODAL", "type": "modal", "callback_id": callback_id,
                     "hash": "h1", "private_metadata": private_metadata,
                     "state": {"values": values}},
        })

    def block_action(self, action: dict[str, Any], user_id: str = "U0ALICE",
                     **context: Any) -> httpx.Response:
        return self.interaction({
            "type": "block_actions", "user": {"id": user_id, "team_id": TEAM_ID},
            "trigger_id": f"trigger.{next(self._ids)}", "actions": [action], **context,
        })

    def event(self, event: dict[str, Any], event_id: str | None = None,
              team_id: str = TEAM_ID, **envelope_fields: Any) -> httpx.Response:
        envelope = {"token": "unused", "team_id": team_id, "api_app_id": "A0CIPHER",
                    "type": "event_callback", "event": event,
                    "event_id": event_id or f"Ev{next(self._ids):08d}",
                    "event_time": int(time.time()), "is_ext_shared_channel": False,
                    **envelope_fields}
        return self.post(json.dumps(envelope).encode(), "application/json")


def modal_values(
    audience: str = "internal", users: tuple[str, ...] = ("U0BOB",), emails: str = "",
    fmt: str = "text", label: str | None = None, expiry: str = "86400",
    view_limit: str | None = "1",
) -> dict[str, Any]:
    """A modal's state as Slack submits it."""
    values: dict[str, Any] = {
        "audience": {"audience": {"type": "radio_buttons",
                                  "selected_option": {"value": audience}}},
        "format": {"format": {"type": "static_select", "selected_option": {"value": fmt}}},
        "label": {"label": {"type": "plain_text_input", "value": label}},
        "expiry": {"expiry": {"type": "static_select", "selected_option": {"value": expiry}}},
        "view_limit": {"view_limit": {"type": "number_input", "value": view_limit}},
    }
    if audience == "internal":
        values["users"] = {"users": {"type": "multi_users_select", "selected_users": list(users)}}
    else:
        values["emails"] = {"emails": {"type": "plain_text_input", "value": emails}}
    return values


def handoff_url(response_json: dict[str, object]) -> str:
    view = response_json["view"]
    assert isinstance(view, dict)
    return handoff_url_in(view)


def handoff_url_in(view: dict[str, Any]) -> str:
    buttons = [element for block in view["blocks"] if block["type"] == "actions"
               for element in block["elements"]]
    assert [button["text"]["text"] for button in buttons] == ["Open encryption page"]
    return str(buttons[0]["url"])


def draft_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["draft"][0]


def submitted_view(sender: SlackSender, values: dict[str, Any], *, user_id: str = "U0ALICE",
                   timeout: float = 10.0) -> dict[str, Any]:
    """Submit the modal as Slack does; the view it becomes once the app has looked everyone
    up (the ack itself only says "Preparing…")."""
    before = len(sender.fake.calls_to("views.update"))
    response = sender.view_submission(values, user_id=user_id)
    answer = response.json()
    assert answer["response_action"] == "update", answer
    assert answer["view"]["callback_id"] == "share_secret_preparing"
    updates = sender.fake.wait_for("views.update", before + 1, timeout=timeout)
    view: dict[str, Any] = updates[-1].args["view"]
    return view


def notes_under(view: dict[str, Any]) -> dict[str, str]:
    """The error notes of a form sent back with views.update, by the block they follow."""
    notes: dict[str, str] = {}
    blocks = view["blocks"]
    for previous, block in itertools.pairwise(blocks):
        if block["type"] == "context" and block["elements"][0]["text"].startswith(":warning:"):
            notes[str(previous.get("block_id"))] = block["elements"][0]["text"]
    return notes
