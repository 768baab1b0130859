"""CPU time per request, one kind at a time: a quieter figure than a loaded run's for trying
out a change to the hot path.

One api process (plus the vault, the dev IdP and the scheduler, as ``bench.reveal_peer``
starts them, on PostgreSQL and Redis); requests one after another; the CPU seconds of the api,
the vault, PostgreSQL and Redis read from the kernel before and after each batch of
``--requests`` of one kind: creates (both requests), share pages (GET) and reveals (POST).
Prints milliseconds per request, the median of ``--batches`` batches.

    .venv/bin/python -m bench.api_cpu [--requests 300] [--batches 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import aiohttp

from bench.cpu import tree_cpu_seconds
from bench.reveal_peer import cipherslip_stack
from tests.support.async_client import (
    Shared,
    create_text,
    open_share_page,
    reveal_text,
    signed_in,
)
from tests.support.databases import postgres_database

KINDS = ("create (both requests)", "share page (GET)", "reveal (POST)")
PROCESSES = ("api", "vault", "postgres", "redis")


async def batches(base_url: str, pids: dict[str, int], requests: int, count: int) -> dict[
        tuple[str, str], list[float]]:
    """Milliseconds per request of each (kind, process), one value per batch."""
    creator = signed_in(base_url, "cpu-creator@example.com")
    colleague = signed_in(base_url, "cpu-colleague@example.com")
    measured: dict[tuple[str, str], list[float]] = {
        (kind, name): [] for kind in KINDS for name in PROCESSES}

    def now() -> dict[str, float]:
        return {name: tree_cpu_seconds(pid) for name, pid in pids.items()}

    async with aiohttp.ClientSession() as session:
        for batch in range(count + 1):  # the first batch warms up, unmeasured
            started = now()
            shared: list[Shared] = [
                await create_text(session, base_url, creator, colleague.email, "x" * 200)
                for _ in range(requests)]
            created = now()
            for item in shared:
                await open_share_page(session, base_url, colleague, item)
            opened = now()
            for item in shared:
                await reveal_text(session, base_url, colleague, item)
            revealed = now()
            if batch:
                for kind, (before, after) in zip(KINDS, ((started, created), (created, opened),
                                                         (opened, revealed)), strict=True):
                    for name in PROCESSES:
                        measured[kind, name].append(
                            1000 * (after[name] - before[name]) / requests)
    return measured


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--requests", type=int, default=300)
    options.add_argument("--batches", type=int, default=5)
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="api-cpu-") as temporary, \
            postgres_database() as database_url, \
            cipherslip_stack(Path(temporary), database_url, workers=1) as (base_url, _, trees):
        pids = {name: trees[name]() for name in PROCESSES}
        measured = asyncio.run(batches(base_url, pids, args.requests, args.batches))
    print(f"CPU ms per request (median of {args.batches} batches of {args.requests}; "
          "one api process, serial):")
    print(f"  {'':<24} " + " ".join(f"{name:>8}" for name in PROCESSES))
    for kind in KINDS:
        print(f"  {kind:<24} " + " ".join(
            f"{statistics.median(measured[kind, name]):8.2f}" for name in PROCESSES))
    values = measured[KINDS[2], "api"]
    print(f"  (api, reveals: batches {min(values):.2f} to {max(values):.2f})")


if __name__ == "__main__":
    main()
