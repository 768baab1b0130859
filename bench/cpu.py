"""CPU time of the processes a bench measures, read from /proc (Linux).

A server is a tree (uvicorn or gunicorn master and workers; the postmaster and its backends):
its CPU is the root's own time, what it has reaped of children that exited (cutime/cstime),
and the time of the children still running.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.memory import descendants

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of ``root`` and every process under it, the exited ones included."""
    total = 0
    for pid in descendants(root):
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue  # exited between the listing and the read; its parent reaps its time
        total += int(fields[11]) + int(fields[12])
        if pid == root:
            total += int(fields[13]) + int(fields[14])
    return total / TICKS


def process_named(name: str) -> int:
    """The oldest process whose command is ``name`` and whose parent is not (a server's
    root: PostgreSQL's postmaster, not a backend)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            fields = _stat_fields(int(entry.name))
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip()
        except OSError:
            continue
        if comm == name and parent != name:
            found.append((int(fields[19]), int(entry.name)))  # (start time, pid)
    if not found:
        raise RuntimeError(f"no {name} process runs on this machine")
    return min(found)[1]
