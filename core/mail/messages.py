"""The magic-link email: who shared, the label, and the link. Never content or link key."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import make_msgid

from core.services.policy import clean_display_name

MAGIC_LINK_MINUTES = 15


def magic_link_message(
    *, mail_from: str, to: str, sender_name: str, sender_email: str, label: str | None,
    link: str, product: str, asking: bool = False,
) -> EmailMessage:
    """``asking``: the sender asks the reader for a secret (a request), rather than sharing
    one."""
    # Names and labels come from people and IdPs: no line break may reach a header.
    sender_name = clean_display_name(sender_name) or sender_email
    label = clean_display_name(label) if label else None
    product = clean_display_name(product)
    who = sender_name if sender_name == sender_email else f"{sender_name} ({sender_email})"
    about = f' labelled "{label}"' if label else ""
    # What happened, in a sentence's middle: "… shared a secret labelled "X" with you …".
    deed = (f"asks you for a secret{about}" if asking else f"shared a secret{about} with you")
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = (f"{sender_name} asks you for a secret" if asking
                          else f"{sender_name} shared a secret with you")
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2].rstrip(">") or None)
    # Automated mail: no auto-replies, no tracking of our own.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{who} {deed} on {product}.\n\n"
        f"To confirm this is your address, open this sign-in link:\n\n{link}\n\n"
        f"It works once and expires in {MAGIC_LINK_MINUTES} minutes. Then open the link "
        f"{sender_name} sent you (it holds the key; this email does not).\n\n"
        "If you did not ask for this, ignore this email.\n"
    )
    safe_link = html.escape(link, quote=True)
    message.add_alternative(
        "<!doctype html><html><body style=\"font-family:sans-serif\">"
        f"<p>{html.escape(who)} {html.escape(deed)} on {html.escape(product)}.</p>"
        f"<p><a href=\"{safe_link}\">Confirm it's you</a></p>"
        f"<p>Or paste this link into your browser: {safe_link}</p>"
        f"<p>It works once and expires in {MAGIC_LINK_MINUTES} minutes. Then open the link "
        f"{html.escape(sender_name)} sent you (it holds the key; this email does not).</p>"
        "<p>If you did not ask for this, ignore this email.</p></body></html>",
        subtype="html",
    )
    return message
