"""The progress line: drawn on a terminal, never into a pipe or a CI log."""

from __future__ import annotations

import io

import pytest
from cipherslip_cli.progress import Progress

pytestmark = pytest.mark.one_database


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_share_done_and_a_pipe_sees_nothing() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress("Uploading", 4_000_000, stream)
        progress.add(1_000_000)
        progress.add(3_000_000)  # the last step is always drawn
        progress.finish()
    assert pipe.getvalue() == ""
    last = terminal.getvalue().rstrip("\n").split("\r")[-1]
    assert "100%" in last and "4/4 MB" in last and terminal.getvalue().endswith("\n")


def test_a_retried_part_takes_its_progress_back() -> None:
    terminal = Terminal()
    progress = Progress("Uploading", 2_000_000, terminal)
    progress.add(1_500_000)
    progress.add(-1_500_000)  # the part failed and goes again
    progress.add(2_000_000)
    assert progress.done == 2_000_000
