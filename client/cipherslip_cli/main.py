"""``slip``: the command line. Exit codes: 0 done, 1 refused by the server, 2 usage,
3 not signed in or token invalid, 4 network."""

from __future__ import annotations

import argparse
import json
import sys

import httpx

from cipherslip_cli import config
from cipherslip_cli.login import LoginFailed, login

EXAMPLES = """examples:
  slip login --server https://secrets.example.com
  CIPHERSLIP_SERVER=https://secrets.example.com CIPHERSLIP_TOKEN=cipherslip_pat_… slip whoami
  slip list --json
  slip revoke 7K3M-Q9XA-2BWD
  slip audit --filter 'activity_name = "paper_secret_access_denied"' --jsonl > denied.jsonl
  slip logout
"""
OK, REFUSED, USAGE, UNAUTHENTICATED, NETWORK = 0, 1, 2, 3, 4
DESCRIPTION = ("Cipherslip from a terminal or a CI job, signed in through your browser's SSO. "
               "Exit codes: 0 done, 1 refused by the server, 2 usage, 3 not signed in or "
               "token invalid, 4 network.")


def _fail(message: str, code: int) -> int:
    print(f"slip: {message}", file=sys.stderr)
    return code


def _client(credentials: config.Credentials) -> httpx.Client:
    return httpx.Client(base_url=credentials.server, timeout=30,
                        headers={"authorization": f"Bearer {credentials.token}",
                                 "user-agent": "cipherslip-cli/0.1"})


def _refusal(response: httpx.Response) -> int:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"the server answered HTTP {response.status_code}"
    return _fail(message, UNAUTHENTICATED if response.status_code == 401 else REFUSED)


def cmd_login(args: argparse.Namespace) -> int:
    server = args.server.rstrip("/")
    try:
        created = login(server, device=args.device, open_browser=not args.no_browser,
                        announce=lambda line: print(line, file=sys.stderr))
    except LoginFailed as failed:
        return _fail(str(failed), UNAUTHENTICATED)
    except httpx.HTTPError as error:
        return _fail(f"cannot reach {server}: {type(error).__name__}", NETWORK)
    path = config.save(config.Credentials(server, created["token"], created["id"]))
    print(f"Signed in: token “{created['name']}” stored in {path} (only you can read it).")
    return OK


def cmd_logout(_: argparse.Namespace) -> int:
    credentials = config.load()
    if credentials is None:
        return _fail("not signed in", UNAUTHENTICATED)
    if credentials.token_id is not None:
        try:
            with _client(credentials) as client:
                client.delete(f"/api/v1/tokens/{credentials.token_id}")
        except httpx.HTTPError as error:
            return _fail(f"cannot reach the server to revoke the token: "
                         f"{type(error).__name__}; nothing was forgotten", NETWORK)
    config.forget()
    print("Signed out: the token is revoked and forgotten.")
    return OK


def _get(path: str) -> tuple[int, object]:
    credentials = config.load()
    if credentials is None:
        return _fail("not signed in: run `slip login --server URL`, or set CIPHERSLIP_SERVER "
                     "and CIPHERSLIP_TOKEN", UNAUTHENTICATED), None
    try:
        with _client(credentials) as client:
            response = client.get(path)
    except httpx.HTTPError as error:
        return _fail(f"cannot reach {credentials.server}: {type(error).__name__}", NETWORK), None
    if response.status_code != 200:
        return _refusal(response), None
    return OK, response.json()


def cmd_whoami(_: argparse.Namespace) -> int:
    status, me = _get("/api/v1/me")
    if isinstance(me, dict):
        print(me.get("email"))
    return status


def cmd_list(args: argparse.Namespace) -> int:
    status, secrets = _get("/api/v1/secrets" + ("?status=all" if args.all else ""))
    if not isinstance(secrets, list):
        return status
    if args.json:
        print(json.dumps(secrets, indent=2))
        return status
    for secret in secrets:
        print(f"{secret['share_code']}  {secret['status']:<8} {secret.get('label') or ''}")
    return status


def _normalized_code(text: str) -> str:
    """Share codes are read forgivingly, as the web does: case, dashes and spaces ignored."""
    return "".join(character for character in text.upper() if character.isalnum())


def cmd_revoke(args: argparse.Namespace) -> int:
    # All of them: an ended secret's code should get the server's "already …", not "none".
    status, secrets = _get("/api/v1/secrets?status=all")
    if not isinstance(secrets, list):
        return status
    wanted = _normalized_code(args.code)
    found = [secret for secret in secrets
             if _normalized_code(str(secret["share_code"])) == wanted]
    if not found:
        return _fail(f"none of your secrets has the share code {args.code}", REFUSED)
    credentials = config.load()
    assert credentials is not None  # _get succeeded
    try:
        with _client(credentials) as client:
            response = client.post(f"/api/v1/secrets/{found[0]['id']}/revoke")
    except httpx.HTTPError as error:
        return _fail(f"cannot reach {credentials.server}: {type(error).__name__}", NETWORK)
    if response.status_code != 200:
        return _refusal(response)
    print(f"Revoked {found[0]['share_code']}: its content is destroyed.")
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    """Super admins (a token with audit:read): the newest events, or every match as JSON
    Lines (streamed, for a SIEM or jq)."""
    credentials = config.load()
    if credentials is None:
        return _fail("not signed in", UNAUTHENTICATED)
    path = "/api/v1/admin/audit/export" if args.jsonl else "/api/v1/admin/audit"
    params = {"filter": args.filter} if args.filter else {}
    try:
        with _client(credentials) as client, client.stream("GET", path,
                                                           params=params) as response:
            if response.status_code != 200:
                response.read()
                return _refusal(response)
            if args.jsonl:
                for line in response.iter_lines():
                    print(line)
                return OK
            response.read()
            page = response.json()
    except httpx.HTTPError as error:
        return _fail(f"cannot reach {credentials.server}: {type(error).__name__}", NETWORK)
    for event in page["items"]:
        who = event["actor"]["user"]["email"] or "-"
        code = (event.get("secret") or {}).get("share_code") or ""
        print(f"{event['time']}  {event['activity_name']:<36} {who:<32} {code}")
    return OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="slip", description=DESCRIPTION,
                                  epilog=EXAMPLES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True)
    signin = commands.add_parser("login", help="sign in through your browser (any SSO)")
    signin.add_argument("--server", required=True, help="e.g. https://secrets.example.com")
    signin.add_argument("--device", help="how this computer is named on the token")
    signin.add_argument("--no-browser", action="store_true",
                        help="print the approval URL instead of opening a browser")
    signin.set_defaults(run=cmd_login)
    commands.add_parser("logout", help="revoke and forget this computer's token").set_defaults(
        run=cmd_logout)
    commands.add_parser("whoami", help="who the token acts as").set_defaults(run=cmd_whoami)
    listing = commands.add_parser("list", help="your secrets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--all", action="store_true", help="ended secrets too")
    listing.set_defaults(run=cmd_list)
    revoking = commands.add_parser("revoke", help="end one of your secrets now")
    revoking.add_argument("code", help="its share code, e.g. 7K3M-Q9XA-2BWD")
    revoking.set_defaults(run=cmd_revoke)
    auditing = commands.add_parser("audit", help="the audit log (super admins, audit:read)")
    auditing.add_argument("--filter", default="",
                          help='e.g. \'activity_name = "paper_secret_access_denied"\'')
    auditing.add_argument("--jsonl", action="store_true",
                          help="every matching event as JSON Lines (all pages)")
    auditing.set_defaults(run=cmd_audit)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    status: int = args.run(args)
    return status
