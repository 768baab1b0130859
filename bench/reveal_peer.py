"""Cipherslip side by side with Snappass: creates and reveals of small texts, in one run.

What a user of each does, measured with one async load client (aiohttp) in interleaved
rounds, the same number of worker processes on each side:

- **Snappass** 1.6.2 (Flask + Redis + Fernet) under gunicorn (``bench.peers.snappass``,
  installed from PyPI into a venv of the bench's own): a create is its form's POST; a reveal
  is opening the link (GET) and pressing "Reveal secret" (POST).
- **Cipherslip**: ``cipherslip api --workers N`` and ``cipherslip vault --workers N`` as
  separate processes, PostgreSQL, Redis, local blobs, and ``cipherslip scheduler`` (whose
  sequencer links the audit chain as it goes). A create is the create page's two requests
  (reserve with a one-time key pair, then content + sealed metadata), with the browser's
  crypto done in the client; a reveal is opening the link (the share page, GET) and pressing
  "Reveal content" (POST), then decrypting. Each secret: one ~200-byte text, one colleague,
  view limit 1. Sign-ins go through a real OpenID provider beforehand; rate limits are raised
  so that one client may play every user.

Each round creates its share of the secrets on one system, reveals each once, then reveals
each again (every second reveal must be refused; not timed); the next round does the same on
the other system, and the order alternates. Printed: creates/s and reveals/s, p50/p99 of each,
and CPU milliseconds per create and per reveal of every process involved (api, vault,
scheduler, PostgreSQL, Redis, the client; gunicorn, Redis and the client for Snappass), then
the ratios Cipherslip / Snappass. Checked in the measured run: every revealed text equals the
one created, every second reveal refused, every Cipherslip secret burned after exactly one
view with one "opened" event each, and ``cipherslip audit verify`` intact once linked.

Afterwards, a short serial run through a PostgreSQL proxy (``tests.support.pg_round_trips``)
counts the database round trips of each Cipherslip request.

    .venv/bin/python -m bench.reveal_peer [--secrets 2000] [--concurrency 50] [--workers 2]
        [--rounds 4] [--warmup 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from bench.cpu import process_named, tree_cpu_seconds
from bench.peers import snappass
from bench.processes import REPO, process
from cli.dev import _wait_for_port, _wait_until_up
from core.db.models import AuditEvent, Secret
from tests.support.async_client import (
    Person,
    Shared,
    create_text,
    open_share_page,
    reveal_refused,
    reveal_text,
    signed_in,
)
from tests.support.databases import postgres_database
from tests.support.pg_round_trips import RoundTripCounter, counting_proxy
from tests.support.servers import free_port

CIPHERSLIP_REDIS_DB = 5
SNAPPASS_REDIS_DB = 7
PAIRS = 10  # creators and colleagues; secret i goes from creator i % PAIRS to colleague i % PAIRS
TEXT_BYTES = 200
SYSTEMS = ("snappass", "cipherslip")
TARGETS = {"reveals/s": 0.4, "reveal p99": 3.0, "creates/s": 0.2}
CPU_TARGET_MS = {"create": 8.0, "reveal": 5.0}


def sample_text(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + " <>&\"'=+%é\n"
    return "".join(rng.choice(alphabet) for _ in range(TEXT_BYTES - 20)) + "-" * 19 + "."


# --- what is measured ----------------------------------------------------------------------

@dataclass
class Phase:
    """One kind of request on one system: latencies, wall time, and CPU by process."""

    latencies_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def rate(self) -> float:
        return self.count / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def cpu_ms_per_request(self, name: str) -> float:
        return 1000 * self.cpu_seconds.get(name, 0.0) / max(1, self.count)


class CpuMeter:
    """CPU seconds of named process trees (and this client), read before and after a phase."""

    def __init__(self, trees: dict[str, Callable[[], int]]) -> None:
        self._trees = trees

    def read(self) -> dict[str, float]:
        readings = {name: tree_cpu_seconds(root()) for name, root in self._trees.items()}
        readings["client"] = time.process_time()
        return readings


async def run_phase(
    phase: Phase, meter: CpuMeter, jobs: list[Callable[[], Awaitable[None]]], concurrency: int,
) -> None:
    """Run ``jobs`` with ``concurrency`` in flight; add their latencies, wall time and CPU."""
    queue = iter(jobs)
    before = meter.read()
    started = time.perf_counter()

    async def worker() -> None:
        for job in queue:
            job_started = time.perf_counter()
            await job()
            phase.latencies_ms.append((time.perf_counter() - job_started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.wall_seconds += time.perf_counter() - started
    for name, seconds in meter.read().items():
        phase.cpu_seconds[name] = phase.cpu_seconds.get(name, 0.0) + seconds - before[name]


# --- the two systems -----------------------------------------------------------------------

class System:
    name: str
    meter: CpuMeter

    async def create(self, session: aiohttp.ClientSession, index: int, text: str) -> Any:
        raise NotImplementedError

    async def reveal(self, session: aiohttp.ClientSession, index: int, handle: Any) -> str:
        raise NotImplementedError

    async def refused(self, session: aiohttp.ClientSession, index: int, handle: Any) -> bool:
        raise NotImplementedError


class SnappassSystem(System):
    name = "snappass"

    def __init__(self, server: snappass.SnappassServer, redis_pid: int) -> None:
        self.base_url = server.base_url
        self.meter = CpuMeter({"gunicorn": lambda: server.master_pid,
                               "redis": lambda: redis_pid})

    async def create(self, session: aiohttp.ClientSession, index: int, text: str) -> str:
        return await snappass.create(session, self.base_url, text)

    async def reveal(self, session: aiohttp.ClientSession, index: int, handle: Any) -> str:
        revealed = await snappass.reveal(session, handle)
        if revealed is None:
            raise AssertionError("Snappass refused a first reveal")
        return revealed

    async def refused(self, session: aiohttp.ClientSession, index: int, handle: Any) -> bool:
        return await snappass.reveal(session, handle) is None


class CipherslipSystem(System):
    name = "cipherslip"

    def __init__(self, base_url: str, creators: list[Person], colleagues: list[Person],
                 trees: dict[str, Callable[[], int]]) -> None:
        self.base_url = base_url
        self.creators = creators
        self.colleagues = colleagues
        self.meter = CpuMeter(trees)

    async def create(self, session: aiohttp.ClientSession, index: int, text: str) -> Shared:
        colleague = self.colleagues[index % PAIRS]
        return await create_text(session, self.base_url, self.creators[index % PAIRS],
                                 colleague.email, text)

    async def reveal(self, session: aiohttp.ClientSession, index: int, handle: Any) -> str:
        colleague = self.colleagues[index % PAIRS]
        await open_share_page(session, self.base_url, colleague, handle)
        return await reveal_text(session, self.base_url, colleague, handle)

    async def refused(self, session: aiohttp.ClientSession, index: int, handle: Any) -> bool:
        status = await reveal_refused(session, self.base_url, self.colleagues[index % PAIRS],
                                      handle)
        return status == 410


@dataclass
class Results:
    creates: Phase = field(default_factory=Phase)
    reveals: Phase = field(default_factory=Phase)
    second_reveals_refused: int = 0
    mismatches: int = 0


async def round_of(system: System, session: aiohttp.ClientSession, results: Results | None,
                   first: int, count: int, concurrency: int, rng: random.Random) -> None:
    """Create ``count`` secrets, reveal each, reveal each again; into ``results`` unless this
    is the warm-up."""
    texts = {index: sample_text(rng) for index in range(first, first + count)}
    handles: dict[int, Any] = {}
    measured = results or Results()

    def creating(index: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            handles[index] = await system.create(session, index, texts[index])
        return job

    def revealing(index: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            if await system.reveal(session, index, handles[index]) != texts[index]:
                measured.mismatches += 1
        return job

    await run_phase(measured.creates, system.meter, [creating(i) for i in texts], concurrency)
    await run_phase(measured.reveals, system.meter, [revealing(i) for i in texts], concurrency)
    refusals = await asyncio.gather(*(system.refused(session, i, handles[i]) for i in texts))
    measured.second_reveals_refused += sum(refusals)


# --- the Cipherslip stack ------------------------------------------------------------------

@contextmanager
def cipherslip_stack(directory: Path, database_url: str, workers: int) -> Iterator[
        tuple[str, dict[str, str], dict[str, Callable[[], int]]]]:
    """(base URL, environment, process trees): dev IdP, vault, api and scheduler."""
    port, vault_port, idp_port = free_port(), free_port(), free_port()
    redis.Redis(db=CIPHERSLIP_REDIS_DB).flushdb()
    environment = {
        **{name: value for name, value in os.environ.items()
           if not name.startswith("CIPHERSLIP_")},
        "CIPHERSLIP_ENV": "development",
        "CIPHERSLIP_BASE_URL": f"http://127.0.0.1:{port}",
        "CIPHERSLIP_DATA_DIR": str(directory / "data"),
        "CIPHERSLIP_DATABASE_URL": database_url,
        "CIPHERSLIP_CACHE_BACKEND": "redis",
        "CIPHERSLIP_REDIS_URL": f"redis://127.0.0.1:6379/{CIPHERSLIP_REDIS_DB}",
        "CIPHERSLIP_VAULT_URL": f"http://127.0.0.1:{vault_port}",
        "CIPHERSLIP_VAULT_TOKEN": secrets.token_urlsafe(32),
        "CIPHERSLIP_KMS_BACKEND": "local",
        "CIPHERSLIP_OIDC_DISCOVERY_URL":
            f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration",
        "CIPHERSLIP_INTERNAL_DOMAINS": "example.com",
        # One client plays every user from one address.
        "CIPHERSLIP_REVEAL_RATE_PER_USER": "1000000",
        "CIPHERSLIP_REVEAL_RATE_PER_IP": "1000000",
        "CIPHERSLIP_CREATE_RATE_PER_USER": "1000000",
        "AUTHLIB_INSECURE_TRANSPORT": "1",
    }
    cipherslip = [sys.executable, "-m", "cli.main"]
    migrated = subprocess.run([*cipherslip, "migrate"], env=environment, capture_output=True,
                              text=True, cwd=REPO, check=False)
    if migrated.returncode != 0:
        raise RuntimeError(f"cipherslip migrate failed:\n{migrated.stdout}{migrated.stderr}")
    with ExitStack() as stack:
        idp = stack.enter_context(process(
            [*cipherslip, "dev-idp", "--port", str(idp_port)], environment,
            directory / "idp.log"))
        _wait_for_port(idp_port, idp)
        vault = stack.enter_context(process(
            [*cipherslip, "vault", "--port", str(vault_port), "--workers", str(workers)],
            environment, directory / "vault.log"))
        _wait_until_up(f"http://127.0.0.1:{vault_port}/healthz", vault)
        api = stack.enter_context(process(
            [*cipherslip, "api", "--port", str(port), "--workers", str(workers)],
            environment, directory / "api.log"))
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        scheduler = stack.enter_context(process(
            [*cipherslip, "scheduler"], environment, directory / "scheduler.log"))
        yield environment["CIPHERSLIP_BASE_URL"], environment, {
            "api": lambda: api.pid, "vault": lambda: vault.pid,
            "scheduler": lambda: scheduler.pid,
            "postgres": lambda: process_named("postgres"),
            "redis": lambda: process_named("redis-server"),
        }


def check_cipherslip_database(database_url: str, secrets_created: int) -> list[str]:
    """What the database says of exact view counting: every secret burned after one view."""
    engine = create_engine(database_url)
    problems = []
    try:
        with engine.connect() as connection:
            by_state = dict(connection.execute(
                select(Secret.status, func.count()).group_by(Secret.status)).all())
            spent = connection.scalar(select(func.count()).where(Secret.views_used != 1)
                                      .select_from(Secret))
            opened = connection.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.activity_name == "paper_secret_opened_internal"))
            keys_left = connection.scalar(select(func.count()).select_from(Secret).where(
                Secret.wrapped_key.is_not(None)))
    finally:
        engine.dispose()
    if by_state != {"burned": secrets_created}:
        problems.append(f"secret statuses {by_state}, expected {secrets_created} burned")
    if spent:
        problems.append(f"{spent} secrets do not show exactly one view")
    if opened != secrets_created:
        problems.append(f"{opened} opened events for {secrets_created} reveals")
    if keys_left:
        problems.append(f"{keys_left} burned secrets still hold a wrapped key")
    return problems


def audit_chain_verdict(environment: dict[str, str], timeout: float = 30) -> str:
    """``cipherslip audit verify`` once the scheduler's sequencer has linked every event."""
    command = [sys.executable, "-m", "cli.main", "audit", "verify", "--tenant", "default"]
    started = time.monotonic()
    while True:
        verified = subprocess.run(command, env=environment, cwd=REPO, capture_output=True,
                                  text=True, check=False)
        verdict = (verified.stdout + verified.stderr).strip()
        waited = time.monotonic() - started
        if verified.returncode != 0:
            return f"BROKEN: {verdict}"
        if "none waiting" in verdict or waited > timeout:
            return f"intact after {waited:.1f} s: {verdict}"
        time.sleep(0.5)


# --- round trips ---------------------------------------------------------------------------

async def count_round_trips(directory: Path, environment: dict[str, str], database_url: str,
                            requests: int) -> dict[str, float]:
    """A one-worker api whose database connections go through a counting proxy; serial
    requests; round trips per request of each kind."""
    url = make_url(database_url)
    with counting_proxy(url.host or "127.0.0.1", url.port or 5432) as (proxy_port, counter):
        proxied = url.set(host="127.0.0.1", port=proxy_port,
                          query={"sslmode": "disable", "gssencmode": "disable"})
        port = free_port()
        proxied_environment = {
            **environment, "CIPHERSLIP_BASE_URL": f"http://127.0.0.1:{port}",
            "CIPHERSLIP_DATABASE_URL": proxied.render_as_string(hide_password=False)}
        with process([sys.executable, "-m", "cli.main", "api", "--port", str(port)],
                     proxied_environment, directory / "api-round-trips.log") as api:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{base_url}/healthz", api)
            return await _counted_requests(base_url, counter, requests)


async def _counted_requests(base_url: str, counter: RoundTripCounter,
                            requests: int) -> dict[str, float]:
    creator = signed_in(base_url, "rt-creator@example.com")
    colleague = signed_in(base_url, "rt-colleague@example.com")
    counts: dict[str, list[int]] = {"create (both requests)": [], "share page (GET)": [],
                                    "reveal (POST)": []}
    async with aiohttp.ClientSession() as session:
        for index in range(requests + 5):
            before = counter.read()
            shared = await create_text(session, base_url, creator, colleague.email, "x" * 200)
            created = counter.read()
            await open_share_page(session, base_url, colleague, shared)
            opened = counter.read()
            await reveal_text(session, base_url, colleague, shared)
            revealed = counter.read()
            if index >= 5:  # the first requests open the pool's connections
                counts["create (both requests)"].append(created - before)
                counts["share page (GET)"].append(opened - created)
                counts["reveal (POST)"].append(revealed - opened)
    return {kind: statistics.mean(values) for kind, values in counts.items()}


# --- the run -------------------------------------------------------------------------------

def report(results: dict[str, Results], workers: int, round_trips: dict[str, float],
           chain: str, problems: list[str]) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs; {workers} worker processes on each side")
    for name, measured in results.items():
        print(f"\n{name}:")
        for kind, phase in (("create", measured.creates), ("reveal", measured.reveals)):
            cpu = ", ".join(f"{process_name} {phase.cpu_ms_per_request(process_name):.2f}"
                            for process_name in sorted(phase.cpu_seconds))
            print(f"  {kind}s: {phase.count} at {phase.rate():.0f}/s, p50 "
                  f"{phase.percentile(0.5):.0f} ms, p99 {phase.percentile(0.99):.0f} ms; "
                  f"CPU ms per {kind}: {cpu}")
        print(f"  second reveals refused: {measured.second_reveals_refused} of "
              f"{measured.reveals.count}; texts differing: {measured.mismatches}")
    ours, peer = results["cipherslip"], results["snappass"]
    ratios = {
        "reveals/s": ours.reveals.rate() / peer.reveals.rate(),
        "reveal p99": ours.reveals.percentile(0.99) / peer.reveals.percentile(0.99),
        "creates/s": ours.creates.rate() / peer.creates.rate(),
    }
    print("\nCipherslip / Snappass:")
    for name, ratio in ratios.items():
        wanted = TARGETS[name]
        met = ratio <= wanted if name == "reveal p99" else ratio >= wanted
        sign = "<=" if name == "reveal p99" else ">="
        print(f"  {name}: {ratio:.2f} (target {sign} {wanted}: {'met' if met else 'NOT met'})")
    for kind, phase in (("create", ours.creates), ("reveal", ours.reveals)):
        api_ms = phase.cpu_ms_per_request("api")
        met = api_ms <= CPU_TARGET_MS[kind]
        print(f"  api CPU per {kind}: {api_ms:.2f} ms (target <= {CPU_TARGET_MS[kind]}: "
              f"{'met' if met else 'NOT met'})")
    print("\nPostgreSQL round trips per Cipherslip request (serial, through a counting proxy):")
    for kind, mean in round_trips.items():
        print(f"  {kind}: {mean:.1f}")
    print(f"\naudit chain after linking: {chain}")
    if problems:
        print("\nCORRECTNESS PROBLEMS:\n  " + "\n  ".join(problems))
    else:
        print("correctness: every text revealed intact, every second reveal refused, "
              "exact view counts")


async def measure(args: argparse.Namespace, systems: dict[str, System]) -> dict[str, Results]:
    rng = random.Random(12)
    results = {name: Results() for name in SYSTEMS}
    per_round = args.secrets // args.rounds
    # Idle connections are dropped by the client before a server drops them (uvicorn after 75 s,
    # gunicorn's sync workers after each answer), as browsers do.
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        for name in SYSTEMS:
            await round_of(systems[name], session, None, 10**6, args.warmup, args.concurrency,
                           rng)
        for number in range(args.rounds):
            order = SYSTEMS if number % 2 == 0 else tuple(reversed(SYSTEMS))
            for name in order:
                await round_of(systems[name], session, results[name], number * per_round,
                               per_round, args.concurrency, rng)
                print(f"round {number + 1}/{args.rounds} {name}: done", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=2000, help="secrets per system")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=100, help="secrets per system, unmeasured")
    parser.add_argument("--round-trip-requests", type=int, default=50)
    args = parser.parse_args()
    snappass_bin = snappass.ensure_venv(REPO / ".cipherslip" / "bench" / "snappass-venv")
    redis_pid = process_named("redis-server")
    with tempfile.TemporaryDirectory(prefix="cipherslip-peer-") as temporary, ExitStack() as stack:
        directory = Path(temporary)
        print(f"logs in {directory}", flush=True)
        database_url = stack.enter_context(postgres_database())
        base_url, environment, trees = stack.enter_context(
            cipherslip_stack(directory, database_url, args.workers))
        redis.Redis(db=SNAPPASS_REDIS_DB).flushdb()
        peer = stack.enter_context(snappass.snappass_server(
            snappass_bin, workers=args.workers,
            redis_url=f"redis://127.0.0.1:6379/{SNAPPASS_REDIS_DB}",
            log=directory / "snappass.log"))
        creators = [signed_in(base_url, f"creator{n}@example.com") for n in range(PAIRS)]
        colleagues = [signed_in(base_url, f"colleague{n}@example.com") for n in range(PAIRS)]
        systems: dict[str, System] = {
            "snappass": SnappassSystem(peer, redis_pid),
            "cipherslip": CipherslipSystem(base_url, creators, colleagues, trees),
        }
        results = asyncio.run(measure(args, systems))
        created = results["cipherslip"].creates.count + args.warmup
        problems = check_cipherslip_database(database_url, created)
        for name, measured in results.items():
            if measured.second_reveals_refused != measured.reveals.count:
                problems.append(f"{name}: only {measured.second_reveals_refused} second "
                                f"reveals refused of {measured.reveals.count}")
            if measured.mismatches:
                problems.append(f"{name}: {measured.mismatches} revealed texts differ")
        chain = audit_chain_verdict(environment)
        round_trips = asyncio.run(count_round_trips(directory, environment, database_url,
                                                    args.round_trip_requests))
        report(results, args.workers, round_trips, chain, problems)
        return 1 if problems or not chain.startswith("intact") else 0


if __name__ == "__main__":
    sys.exit(main())
