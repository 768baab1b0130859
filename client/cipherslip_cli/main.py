"""``slip``: the command line — end-to-end encrypted, signed in through the browser's SSO."""

from __future__ import annotations

import argparse
import sys

from cipherslip_crypto.meta import FORMATS

from cipherslip_cli import commands
from cipherslip_cli.api import EXIT_CODES_HELP, USAGE, SlipError
from cipherslip_cli.completion import cmd_completion

EXAMPLES = f"""examples:
  slip login --server https://secrets.example.com
  slip login --server https://secrets.example.com --token-stdin < token.txt
  slip share --to bob@example.com --label "Staging DB" db-password.txt --format text
  printf %s "$DB_PASSWORD" | slip share --to bob@example.com --expires 1h
  slip share --to new.hire@example.com --format env --views 3 .env
  slip share --to vendor@partner.org --external --expires 7d build.tar.gz --json
  slip reveal 'https://secrets.example.com/s/7K3M-Q9XA-2BWD#…' -o db.txt
  slip reveal 'https://secrets.example.com/s/7K3M-Q9XA-2BWD#…' --email me@partner.org
  slip request --from dba@example.com --label "Staging DB password"   # prints /r/… link
  slip share --answer 'https://secrets.example.com/r/4TQ2-…#…' db-password.txt --format text
  slip reveal 'https://secrets.example.com/r/4TQ2-…#…'                  # the answer
  CIPHERSLIP_SERVER=https://secrets.example.com CIPHERSLIP_TOKEN=cipherslip_pat_… slip whoami
  slip list --json
  slip revoke 7K3M-Q9XA-2BWD
  slip audit --filter 'activity_name = "paper_secret_access_denied"' --jsonl > denied.jsonl
  source <(slip completion bash)

{EXIT_CODES_HELP}
"""
DESCRIPTION = ("Cipherslip from a terminal or a CI job: secrets are encrypted and decrypted on "
               "this machine; the server only ever holds ciphertext.")


def _add_share(commands_: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    share = commands_.add_parser(
        "share", help="encrypt and share a secret (text from stdin, or a file)",
        description="Encrypt here, upload ciphertext, print the share URL (its # part holds "
                    "the key). Text formats are checked as the web checks them.",
        epilog="examples:\n  echo -n hunter2 | slip share --to bob@example.com\n"
               "  slip share --to bob@example.com --format env .env\n"
               "  slip share --to a@example.com --to b@example.com backup.tar.gz --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    share.add_argument("file", nargs="?", default="-",
                       help="a file to share, or - (default) for standard input")
    share.add_argument("--to", action="append", metavar="ADDRESS",
                       help="a recipient's email (repeat, or separate with commas)")
    share.add_argument("--answer", metavar="REQUEST_URL",
                       help="answer a request: only its requester can open it")
    share.add_argument("--external", action="store_true",
                       help="recipients outside your organization (they sign in by email)")
    share.add_argument("--format", choices=FORMATS,
                       help="text, json, yaml, env or file (default: file for a path, text "
                            "for standard input)")
    share.add_argument("--label", help="what it is, shown to recipients")
    share.add_argument("--name", help="the file name recipients see (default: the file's)")
    share.add_argument("--expires", default="24h", help="1h to 30d (default 24h)")
    share.add_argument("--views", default="1", help="1 to 1000, or unlimited (default 1)")
    share.add_argument("--json", action="store_true",
                       help="print {share_url, share_code, id, expires_at} as JSON")
    share.set_defaults(run=commands.cmd_share)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="slip", description=DESCRIPTION, epilog=EXAMPLES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands_ = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    signin = commands_.add_parser("login", help="sign in through your browser (any SSO)")
    signin.add_argument("--server", required=True, help="e.g. https://secrets.example.com")
    signin.add_argument("--device", help="how this computer is named on the token")
    signin.add_argument("--no-browser", action="store_true",
                        help="print the approval URL instead of opening a browser")
    signin.add_argument("--token-stdin", action="store_true",
                        help="store a token made on the web, read from standard input, "
                             "instead of signing in through the browser")
    signin.set_defaults(run=commands.cmd_login)
    commands_.add_parser("logout", help="revoke and forget this computer's token").set_defaults(
        run=commands.cmd_logout)
    commands_.add_parser("whoami", help="who the token acts as").set_defaults(
        run=commands.cmd_whoami)
    _add_share(commands_)
    asking = commands_.add_parser(
        "request", help="ask colleagues for a secret (prints the request link)",
        description="Makes the request's key here and prints its link: send it to the "
                    "people asked, keep it to read the answer (`slip reveal LINK`).")
    asking.add_argument("--from", dest="from_", action="append", required=True,
                        metavar="ADDRESS", help="whom to ask (repeat, or commas)")
    asking.add_argument("--external", action="store_true",
                        help="ask addresses outside your organization (they confirm them by "
                             "email on the request's page)")
    asking.add_argument("--label", help="what you need (shown to them; ≤ 500 characters)")
    asking.add_argument("--format", default="any", choices=("any", *FORMATS),
                        help="the format you expect (default any)")
    asking.add_argument("--open-for", default="1d", help="1h to 7d (default 1d)")
    asking.add_argument("--expires", default="24h", help="the answer's expiry, 1h to 30d")
    asking.add_argument("--views", default="1", help="views of the answer (default 1)")
    asking.add_argument("--json", action="store_true", help="machine-readable output")
    asking.set_defaults(run=commands.cmd_request)
    reveal = commands_.add_parser(
        "reveal", help="reveal a secret and decrypt it here",
        description="Checks the link's key against the secret first (a damaged link uses "
                    "no view), then reveals (using a view) and writes the exact bytes.")
    reveal.add_argument("url", help="the share URL, with its #key (quote it in the shell)")
    reveal.add_argument("-o", "--output", metavar="FILE",
                        help="write here (default: standard output; a file to a terminal is "
                             "saved under its own name)")
    reveal.add_argument("--force", action="store_true", help="replace FILE if it exists")
    reveal.add_argument("--email", metavar="ADDRESS",
                        help="for external recipients (no token): sign in with the link "
                             "emailed to ADDRESS, pasted when asked")
    reveal.set_defaults(run=commands.cmd_reveal)
    listing = commands_.add_parser("list", help="your secrets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--all", action="store_true", help="ended secrets too")
    listing.set_defaults(run=commands.cmd_list)
    revoking = commands_.add_parser("revoke", help="end one of your secrets now")
    revoking.add_argument("code", help="its share code, e.g. 7K3M-Q9XA-2BWD")
    revoking.set_defaults(run=commands.cmd_revoke)
    auditing = commands_.add_parser("audit", help="the audit log (super admins, audit:read)")
    auditing.add_argument("--filter", default="",
                          help='e.g. \'activity_name = "paper_secret_access_denied"\'')
    auditing.add_argument("--jsonl", action="store_true",
                          help="every matching event as JSON Lines (all pages)")
    auditing.set_defaults(run=commands.cmd_audit)
    completion = commands_.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    completion.set_defaults(run=lambda args: cmd_completion(args, parser()))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except SlipError as error:
        print(f"slip: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("slip: interrupted", file=sys.stderr)
        return USAGE
    return status
