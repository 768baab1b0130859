"""A user's secrets as Slack shows them: `/secrets list`, App Home, and the help text."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import (
    AUDIENCE_WORDS,
    STATUS_WORDS,
    Block,
    context,
    escape,
    fit,
    header,
    plain,
    revoke_button,
    secret_actions,
    section,
    views_text,
    when,
)
from core.services.manage import SecretSummary
from core.services.states import SecretStatus

LIST_SHOWN = 20  # two blocks each, within a message's 50
HOME_SHOWN = 50
SHARE_FROM_HOME_ACTION = "share_from_home"

HELP = """*Cipherslip* shares passwords, keys and files so that no server ever sees them.
• `/share-secret` choose recipients and options; the content goes into an encryption page
• `/secrets list` your secrets: status, views and expiry
• `/secrets revoke XXXX-XXXX-XXXX` end a secret now and destroy its content
• `/secrets request` ask someone for a secret; they answer on a page that encrypts it
• `/secrets audit [filter]` the audit log (super admins), e.g.
  `/secrets audit activity_name = "paper_secret_access_denied"`
• `/secrets help` this text"""


def help_blocks(unknown: str | None = None) -> list[Block]:
    """The help text with a header; an unknown subcommand is named first."""
    blocks: list[Block] = [header("Cipherslip in Slack")]
    if unknown is not None:
        blocks.append(section(f"Unknown subcommand `{fit(escape(unknown), 100)}`."))
    blocks.append(section(HELP))
    return blocks


def summary_line(secret: SecretSummary) -> str:
    title = escape(secret.label) if secret.label else "Secret"
    status = STATUS_WORDS.get(secret.status, secret.status)
    if secret.status == SecretStatus.ACTIVE:
        views = views_text(secret.views_used, secret.view_limit)
        detail = f"{views} · expires {when(secret.expires_at)}"
    else:
        detail = f"{secret.views_used} view{'s' if secret.views_used != 1 else ''}"
    audience = AUDIENCE_WORDS.get(secret.audience, secret.audience)
    return (f"*{title}* · `{secret.share_code}` · {status}\n{detail} · {audience}, "
            f"{len(secret.recipients)} recipient{'s' if len(secret.recipients) != 1 else ''}")


def list_message(secrets: list[SecretSummary], base_url: str) -> tuple[str, list[Block]]:
    if not secrets:
        return "You have no secrets yet.", [header("Your secrets"), section(
            "You have no secrets yet. Start one with `/share-secret`.")]
    shown = secrets[:LIST_SHOWN]
    blocks = [header(f"Your secrets ({len(secrets)}, newest first)")]
    for secret in shown:
        blocks.append(section(summary_line(secret)))
        blocks.append(secret_actions(base_url, secret.id, secret.share_code,
                                     active=secret.status == SecretStatus.ACTIVE))
    if len(secrets) > len(shown):
        blocks.append(context(f"{len(secrets) - len(shown)} more on <{base_url}/secrets|the web>."))
    return f"Your secrets: {len(secrets)}", blocks


def home_view(secrets: list[SecretSummary] | None, base_url: str, hint: str) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "actions", "block_id": "home_actions", "elements": [{
            "type": "button", "action_id": SHARE_FROM_HOME_ACTION, "style": "primary",
            "text": plain("Share a secret"),
        }]},
        header("Your active secrets"),
    ]
    if secrets is None:
        blocks.append(section(hint))
    elif not secrets:
        blocks.append(section("Nothing active. Share one with `/share-secret`."))
    for secret in (secrets or [])[:HOME_SHOWN]:
        blocks.append(section(summary_line(secret), block_id=f"secret_{secret.id}",
                              accessory=revoke_button(secret.id, secret.share_code)))
    blocks.append(context(f"All your secrets, ended ones too: <{base_url}/secrets|Cipherslip>. "
                          "Content never appears in Slack."))
    return {"type": "home", "blocks": blocks}
