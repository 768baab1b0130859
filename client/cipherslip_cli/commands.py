"""What each ``slip`` command does; they raise :class:`SlipError` to stop (main prints it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import BinaryIO

from cipherslip_crypto.meta import FORMATS, Format

from cipherslip_cli import config
from cipherslip_cli.api import OK, Api, Refused, SlipError, Unauthenticated, UsageError, signed_in
from cipherslip_cli.guest import guest_api
from cipherslip_cli.login import LoginFailed, login
from cipherslip_cli.requests import (
    NewRequest,
    answer_link,
    ask,
    checked_request,
    is_request_link,
    parse_request_link,
)
from cipherslip_cli.reveal import parse_link, refuse_existing, reveal
from cipherslip_cli.share import (
    Shared,
    ShareRequest,
    file_name,
    parse_expiry,
    parse_views,
    read_text,
    share_file,
    share_stdin_file,
    share_text,
)


def cmd_login(args: argparse.Namespace) -> int:
    server = args.server.rstrip("/")
    if args.token_stdin:
        return _store_given_token(server)
    try:
        created = login(server, device=args.device, open_browser=not args.no_browser,
                        announce=lambda line: print(line, file=sys.stderr))
    except LoginFailed as failed:
        raise Unauthenticated(str(failed)) from None
    path = config.save(config.Credentials(server, created["token"], created["id"]))
    print(f"Signed in: token “{created['name']}” stored in {path} (only you can read it).")
    return OK


def _store_given_token(server: str) -> int:
    """A token made on the web (or by a CI's secret store), read from standard input so it
    never sits in the shell's history or the process list; checked before it is kept."""
    token = sys.stdin.readline().strip()
    if not token:
        raise UsageError("--token-stdin: no token on standard input")
    with Api(config.Credentials(server, token)) as api:
        me = api.json("GET", "/api/v1/me")
    # Its id too, so that `slip logout` can revoke it.
    token_id = (me.get("api_token") or {}).get("id")
    path = config.save(config.Credentials(server, token, token_id))
    print(f"Signed in as {me.get('email')}: the token is stored in {path} (only you can "
          "read it).")
    return OK


def cmd_logout(_: argparse.Namespace) -> int:
    credentials = signed_in()
    if credentials.token_id is not None:
        with Api(credentials) as api:
            try:
                api.call("DELETE", f"/api/v1/tokens/{credentials.token_id}")
            except Unauthenticated:
                pass  # already revoked or expired: forgetting it is all that is left
            except SlipError as error:
                raise type(error)(f"{error.message}; the token was not revoked, nor "
                                  "forgotten") from None
    config.forget()
    print("Signed out: the token is revoked and forgotten.")
    return OK


def cmd_whoami(_: argparse.Namespace) -> int:
    with Api(signed_in()) as api:
        print(api.json("GET", "/api/v1/me").get("email"))
    return OK


def cmd_list(args: argparse.Namespace) -> int:
    with Api(signed_in()) as api:
        secrets = api.json("GET", "/api/v1/secrets",
                           params={"status": "all"} if args.all else {})
    if args.json:
        print(json.dumps(secrets, indent=2))
        return OK
    for secret in secrets:
        print(f"{secret['share_code']}  {secret['status']:<8} {secret.get('label') or ''}")
    return OK


def _normalized_code(text: str) -> str:
    """Share codes are read forgivingly, as the web does: case, dashes and spaces ignored."""
    return "".join(character for character in text.upper() if character.isalnum())


def cmd_revoke(args: argparse.Namespace) -> int:
    with Api(signed_in()) as api:
        # All of them: an ended secret's code should get the server's "already …", not "none".
        secrets = api.json("GET", "/api/v1/secrets", params={"status": "all"})
        wanted = _normalized_code(args.code)
        found = [secret for secret in secrets
                 if _normalized_code(str(secret["share_code"])) == wanted]
        if not found:
            raise Refused(f"none of your secrets has the share code {args.code}")
        api.call("POST", f"/api/v1/secrets/{found[0]['id']}/revoke")
    print(f"Revoked {found[0]['share_code']}: its content is destroyed.")
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    """Super admins (a token with audit:read): the newest events, or every match as JSON
    Lines (streamed, for a SIEM or jq)."""
    path = "/api/v1/admin/audit/export" if args.jsonl else "/api/v1/admin/audit"
    params = {"filter": args.filter} if args.filter else {}
    with Api(signed_in()) as api:
        if args.jsonl:
            with api.stream(path, params=params) as response:
                for line in response.iter_lines():
                    print(line)
            return OK
        page = api.json("GET", path, params=params)
    for event in page["items"]:
        who = event["actor"]["user"]["email"] or "-"
        code = (event.get("secret") or {}).get("share_code") or ""
        print(f"{event['time']}  {event['activity_name']:<36} {who:<32} {code}")
    return OK


def cmd_request(args: argparse.Namespace) -> int:
    new = NewRequest(
        responders=_recipients(args.from_), external=args.external, label=args.label,
        expected_format=None if args.format == "any" else args.format,
        open_for_seconds=parse_expiry(args.open_for, maximum="7d"),
        answer_expires_in_seconds=parse_expiry(args.expires),
        answer_view_limit=parse_views(args.views))
    with Api(signed_in()) as api:
        url, request = ask(api, new)
    if args.json:
        print(json.dumps({"request_url": url, "request_code": request["request_code"],
                          "id": request["id"], "open_until": request["open_until"]}))
    else:
        print(url)
        print(f"Asked {', '.join(new.responders)}; open until {request['open_until']}. Send "
              "them the link; keep it: you read the answer with `slip reveal` and it.",
              file=sys.stderr)
    return OK


def _recipients(values: list[str]) -> list[str]:
    found = [part.strip() for value in values for part in value.replace(";", ",").split(",")]
    return [address for address in found if address]


def cmd_share(args: argparse.Namespace) -> int:
    source: str = args.file
    content_format: Format = args.format or ("text" if source == "-" else "file")
    if content_format not in FORMATS:
        raise UsageError(f"--format is one of {', '.join(FORMATS)}")
    if not args.answer and not args.to:
        raise UsageError("say who it is for: --to ADDRESS (or --answer REQUEST_URL)")
    answering = parse_request_link(args.answer) if args.answer else None
    request = ShareRequest(
        recipients=_recipients(args.to or []), external=args.external,
        content_format=content_format, label=args.label,
        expires_in_seconds=parse_expiry(args.expires), view_limit=parse_views(args.views),
        answering=answering.request_code if answering else None,
        link_key=answering.link_key if answering else None)
    if source == "-" and sys.stdin.isatty():
        print("Type or paste the secret, then Ctrl-D:", file=sys.stderr)
    with Api(signed_in()) as api:
        asked = checked_request(api, answering) if answering else None
        if asked is not None and asked["expected_format"] not in (None, content_format):
            raise UsageError(f"this request asks for {asked['expected_format']}: add --format "
                             f"{asked['expected_format']}")
        shared = _send(api, request, source, args.name)
    if asked is not None:
        if args.json:
            print(json.dumps({"answered": asked["request_code"], "id": shared.secret_id}))
        else:
            print(f"Answered: only {asked['requester_email']} can open it, with their "
                  "request link.")
        return OK
    if args.json:
        print(json.dumps({"share_url": shared.share_url, "share_code": shared.share_code,
                          "id": shared.secret_id, "expires_at": shared.expires_at}))
    else:
        print(shared.share_url)
        print(f"Shared with {', '.join(request.recipients)} until {shared.expires_at}. The "
              "link holds the key: send it whole.", file=sys.stderr)
    return OK


def _send(api: Api, request: ShareRequest, source: str, name: str | None) -> Shared:
    """Read the content (a path or standard input), encrypt and upload it."""
    if request.content_format != "file":
        if source == "-":
            return share_text(api, request, read_text(sys.stdin.buffer, request.content_format))
        with _opened(source) as handle:
            return share_text(api, request, read_text(handle, request.content_format))
    if source == "-":
        return share_stdin_file(api, request, name or "stdin.bin")
    with _opened(source) as handle:
        return share_file(api, request, handle.fileno(), name or file_name(source))


def _opened(path: str) -> BinaryIO:
    try:
        return Path(path).open("rb")  # the caller's `with` closes it
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def cmd_reveal(args: argparse.Namespace) -> int:
    request_url = is_request_link(args.url)
    link = None if request_url else parse_link(args.url)
    output = Path(args.output) if args.output and args.output != "-" else None
    refuse_existing(output, force=args.force)  # before any email is asked for
    if link is not None and args.email:
        api = guest_api(link.server, link.share_code, args.email)
    else:
        api = Api(signed_in())
    with api:
        if link is None:  # the requester reads the answer to a request, with its key
            link = answer_link(api, parse_request_link(args.url))
        revealed = reveal(api, link, output=output, force=args.force)
    left = ("no views left: the content is destroyed" if revealed.burned
            else "unlimited views" if revealed.views_left is None
            else f"{revealed.views_left} view(s) left")
    where = f"saved to {revealed.written_to}" if revealed.written_to else "written"
    if revealed.written_to or not sys.stdout.isatty():
        print(f"{revealed.meta['format']} secret {where}; {left}.", file=sys.stderr)
    else:
        print(f"\n({left})", file=sys.stderr)
    return OK
