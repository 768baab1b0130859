"""One listener per module; each declares what it answers (COMMAND, VIEW, ACTION or EVENT)
and registers itself. The manifest test compares these with app_manifest.yml."""

from __future__ import annotations

from types import ModuleType

from bot.listeners import (
    app_home_opened,
    link_shared,
    open_encryption_page,
    open_on_web,
    request_submission,
    revoke_button,
    secrets_command,
    share_from_home,
    share_secret_audience,
    share_secret_command,
    share_secret_submission,
)

LISTENERS: tuple[ModuleType, ...] = (
    share_secret_command, share_secret_audience, share_secret_submission,
    open_encryption_page, secrets_command, revoke_button, app_home_opened, link_shared,
    share_from_home, open_on_web, request_submission,
)


def commands() -> set[str]:
    return {module.COMMAND for module in LISTENERS if hasattr(module, "COMMAND")}


def events() -> set[str]:
    return {module.EVENT for module in LISTENERS if hasattr(module, "EVENT")}
