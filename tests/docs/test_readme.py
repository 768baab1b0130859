"""The README stays true: it starts with the two set-up commands and documents every setting."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_first_two_commands_are_make_run_and_make_test() -> None:
    commands = re.findall(r"^(make [a-z-]+)", README, flags=re.MULTILINE)
    assert commands[:2] == ["make run", "make test"]


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"`CIPHERSLIP_([A-Z0-9_]+)`", README))
    settings = {name.upper() for name in Settings.model_fields}
    assert documented == settings
