"""Memory of the processes a bench drives: an api's resident set, and a browser's
proportional set size over all its processes (pages shared between processes are split
between them, so the sum counts each page once)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class MemoryPeaks:
    """Samples the api's RSS (given its pid) and the browser's PSS every quarter second: the
    total of all its processes, and the largest single process (the page's renderer, or the
    browser process that carries uploads to the network). The sampler runs at the lowest
    priority so that reading the processes' page tables takes as little as possible from
    what it measures."""

    api_pid: int | None
    browser_root_pid: int
    api_baseline: int = 0
    api_peak: int = 0
    browser_baseline: int = 0
    browser_peak: int = 0
    process_growth: dict[str, int] = field(default_factory=dict)
    _process_baseline: dict[int, tuple[str, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        if self.api_pid is not None:
            self.api_baseline = self.api_peak = rss_bytes(self.api_pid)
        processes = browser_processes(self.browser_root_pid)
        self._process_baseline = {pid: (role, pss_bytes(pid)) for pid, role in processes}
        self.browser_baseline = self.browser_peak = sum(
            pss for _, pss in self._process_baseline.values())
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not self._stop.wait(0.25):
            if self.api_pid is not None:
                self.api_peak = max(self.api_peak, rss_bytes(self.api_pid))
            total = 0
            for pid, role in browser_processes(self.browser_root_pid):
                pss = pss_bytes(pid)
                total += pss
                baseline_role, baseline = self._process_baseline.get(pid, (role, 0))
                key = f"{baseline_role} {pid}"
                self.process_growth[key] = max(self.process_growth.get(key, 0), pss - baseline)
            self.browser_peak = max(self.browser_peak, total)

    def stop(self) -> None:
        self._stop.set()

    def largest_growth(self) -> tuple[str, int]:
        """The process whose memory grew most, by role ("renderer", "browser", …)."""
        if not self.process_growth:
            return "none", 0
        key = max(self.process_growth, key=lambda name: self.process_growth[name])
        return key.split()[0], self.process_growth[key]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def browser_processes(root: int) -> list[tuple[int, str]]:
    """(pid, role) of every Chromium process under ``root``. Chromium rewrites its children's
    command lines into one string, so the role is read from ``--type=`` within it."""
    found = []
    for pid in descendants(root):
        try:
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        role = "browser"
        for argument in command.split():
            if argument.startswith("--type="):
                role = argument.removeprefix("--type=")
            elif argument.startswith("--utility-sub-type="):
                role = argument.removeprefix("--utility-sub-type=").rsplit(".", 1)[-1]
        found.append((pid, role))
    return found


def pss_bytes(pid: int) -> int:
    """Proportional set size: pages shared between processes are split between them, so
    the sum over the browser's processes counts each page once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


