"""Child processes for benches: each measured server runs in its own process, its output in a
log file, and is stopped (terminate, then kill) however the bench ends."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def process(command: list[str], environment: dict[str, str], log: Path) -> Iterator[
        subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        started = subprocess.Popen(command, env=environment, stdout=output,
                                   stderr=subprocess.STDOUT, cwd=REPO)
        try:
            yield started
        finally:
            started.terminate()
            try:
                started.wait(10)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()
