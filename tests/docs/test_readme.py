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


REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_the_docs_send_no_reader_outside_the_repository() -> None:
    """A clone is all a reader has: every file the docs name or link exists in it."""
    for document in DOCUMENTS:
        text = document.read_text()
        assert "../shared" not in text and "SPEC" not in text, document.name
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address, not a file
            assert (document.parent / target).exists(), f"{document.name} links to {target}"
        for named in re.findall(r"`((?:docs|tests|bench|web|core|api|bot|scheduler|vault|cli|"
                                r"http_layer|scripts)/[\w./-]+\.\w+)`", text):
            assert (REPO / named).exists(), f"{document.name} names {named}"
