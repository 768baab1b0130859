"""The api's CPU time per request, one kind at a time: a quieter figure than a loaded run's
for trying out a change to the hot path.

One api process (plus the vault, the dev IdP and the scheduler, as ``bench.reveal_peer``
starts them, on PostgreSQL and Redis); requests one after another; the api's CPU seconds read
from the kernel before and after each batch of ``--requests`` of one kind: creates (both
requests), share pages (GET) and reveals (POST). Prints milliseconds per request, the median of
``--batches`` batches.

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


async def batches(base_url: str, api_pid: int, requests: int, count: int) -> dict[
        str, list[float]]:
    creator = signed_in(base_url, "cpu-creator@example.com")
    colleague = signed_in(base_url, "cpu-colleague@example.com")
    measured: dict[str, list[float]] = {"create (both requests)": [], "share page (GET)": [],
                                        "reveal (POST)": []}
    async with aiohttp.ClientSession() as session:
        for batch in range(count + 1):  # the first batch warms up, unmeasured
            started = tree_cpu_seconds(api_pid)
            shared: list[Shared] = [
                await create_text(session, base_url, creator, colleague.email, "x" * 200)
                for _ in range(requests)]
            created = tree_cpu_seconds(api_pid)
            for item in shared:
                await open_share_page(session, base_url, colleague, item)
            opened = tree_cpu_seconds(api_pid)
            for item in shared:
                await reveal_text(session, base_url, colleague, item)
            revealed = tree_cpu_seconds(api_pid)
            if batch:
                for kind, seconds in zip(measured, (created - started, opened - created,
                                                    revealed - opened), strict=True):
                    measured[kind].append(1000 * seconds / requests)
    return measured


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--requests", type=int, default=300)
    options.add_argument("--batches", type=int, default=5)
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="api-cpu-") as temporary, \
            postgres_database() as database_url, \
            cipherslip_stack(Path(temporary), database_url, workers=1) as (base_url, _, trees):
        measured = asyncio.run(batches(base_url, trees["api"](), args.requests, args.batches))
    print(f"api CPU ms per request (median of {args.batches} batches of {args.requests}; "
          "one process, serial):")
    for kind, values in measured.items():
        print(f"  {kind:<24} {statistics.median(values):5.2f}  "
              f"(batches {min(values):.2f} to {max(values):.2f})")


if __name__ == "__main__":
    main()
