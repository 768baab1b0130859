"""How fast does the Slack app acknowledge, under concurrent load?

Three processes on loopback, so that the figures are the app's and not the GIL's:

- the api (``python -m cli.main api``: FastAPI with the Bolt app at POST /slack/events) on a
  fresh SQLite file or, with ``--database postgres``, a fresh PostgreSQL database, migrated
  with ``python -m cli.main migrate`` first (the api does not migrate at start);
- a fake Slack Web API (``tests.support.slack``'s, users U0ALICE, U0BOB, U0CAROL, U0DAN),
  answering users.info in about a millisecond where real Slack takes tens of milliseconds;
- this process, the load generator: it sends signed requests as Slack does, CONCURRENCY in
  flight at a time, and times each until its HTTP response, which is Bolt's ack:

  - ``/share-secret`` slash commands (ack at once; views.open runs after the ack);
  - valid ``view_submission`` payloads of the share modal, internal audience with three
    recipients: acked at once with a "Preparing…" view (``response_action=update``); then
    users.info for the creator and each recipient, a draft written to the database and the
    hand-off view sent with ``views.update``, after the ack.

No vault, OpenID provider or mail server runs: the measured paths do not use them, and the
api contacts none of them at start. After the concurrent runs, a short run at concurrency 1
shows the uncontended ack time. Every ack is checked (HTTP 200; ``response_action=update``
for submissions), and so is the work behind it: one views.open per command (counted by the
fake Slack), one draft and one views.update per submission (counted in the database and by
the fake Slack).

Slack gives up on an ack after 3 s; our target is p99 < 200 ms.

    .venv/bin/python -m bench.slack_ack [--requests 400] [--concurrency 20] [--warmup 20]
        [--serial-requests 50] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import httpx
import uvicorn
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.processes import process
from cli.dev import _wait_for_port, _wait_until_up
from core.db.models import Draft
from tests.support.databases import postgres_database
from tests.support.requirements import POSTGRES_URL
from tests.support.servers import free_port
from tests.support.slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    _fake_app,
    modal_values,
    sign,
)

SLACK_BUDGET_MS = 3000.0
TARGET_P99_MS = 200.0
REPO = Path(__file__).resolve().parents[1]
CREATOR = "U0ALICE"
RECIPIENTS = ("U0BOB", "U0CAROL", "U0DAN")
USERS = {"U0ALICE": "Alice", "U0BOB": "Bob", "U0CAROL": "Carol", "U0DAN": "Dan"}
COMMAND = "share-secret"
SUBMISSION = "view_submission"
KINDS = {COMMAND: "/share-secret", SUBMISSION: f"view_submission ({len(RECIPIENTS)} users)"}
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
# Never contacted on the measured paths (and not at start): the api only needs them set.
UNUSED_VAULT_URL = "http://127.0.0.1:9"
UNUSED_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"

Body = tuple[bytes, str]  # what is posted, and its content type


# --- the fake Slack Web API, in its own process ---------------------------------------------

def serve_fake_slack(port: int) -> None:
    """The fake Slack's process: its users, and GET /bench/counts (calls per method)."""
    fake = FakeSlack(url=f"http://127.0.0.1:{port}")
    for user_id, name in USERS.items():
        fake.add_user(user_id, f"{name.lower()}@example.com", name)
    app = _fake_app(fake)

    async def counts(_request: Request) -> Response:
        with fake.lock:
            return JSONResponse(Counter(call.method for call in fake.calls))

    app.router.routes.append(Route("/bench/counts", counts, methods=["GET"]))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)



@contextmanager
def fake_slack_process(directory: Path) -> Iterator[tuple[str, int]]:
    """The fake Slack's URL and process id."""
    port = free_port()
    code = ("import sys; from bench.slack_ack import serve_fake_slack; "
            "serve_fake_slack(int(sys.argv[1]))")
    with process([sys.executable, "-c", code, str(port)], dict(os.environ),
                 directory / "fake-slack.log") as fake:
        _wait_for_port(port, fake)
        yield f"http://127.0.0.1:{port}", fake.pid


def fake_counts(fake_url: str) -> Counter[str]:
    return Counter(httpx.get(f"{fake_url}/bench/counts", timeout=10).json())


def wait_for_calls(fake_url: str, method: str, count: int, timeout: float = 60) -> int:
    """Listeners run after the ack: their calls arrive a moment after the responses."""
    deadline = time.monotonic() + timeout
    while True:
        found = fake_counts(fake_url)[method]
        if found >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# --- the api, in its own process ------------------------------------------------------------

@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A URL of an empty database (PostgreSQL: a fresh one, dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    admin = make_url(POSTGRES_URL)
    try:
        socket.create_connection((admin.host or "127.0.0.1", admin.port or 5432), 2).close()
    except OSError as exc:
        raise SystemExit(f"--database postgres: nothing answers at {admin.host}:{admin.port} "
                         f"({exc}); set CIPHERSLIP_TEST_POSTGRES_URL") from exc
    with postgres_database() as url:  # the tests' fresh database: created, later dropped
        yield url


@contextmanager
def api_process(directory: Path, database_url: str, fake_url: str) -> Iterator[tuple[str, int]]:
    """The api's URL and process id; its database migrated before it starts."""
    port = free_port()
    data_dir = directory / "data"
    data_dir.mkdir()
    environment = {
        **os.environ,
        "CIPHERSLIP_BASE_URL": f"http://127.0.0.1:{port}",
        "CIPHERSLIP_DATA_DIR": str(data_dir),
        "CIPHERSLIP_DATABASE_URL": database_url,
        "CIPHERSLIP_VAULT_URL": UNUSED_VAULT_URL,
        "CIPHERSLIP_VAULT_TOKEN": secrets.token_urlsafe(32),
        "CIPHERSLIP_OIDC_DISCOVERY_URL": UNUSED_DISCOVERY_URL,
        "CIPHERSLIP_INTERNAL_DOMAINS": "example.com",  # as in the tests' stack
        "CIPHERSLIP_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "CIPHERSLIP_SLACK_BOT_TOKEN": BOT_TOKEN,
        "CIPHERSLIP_SLACK_API_URL": f"{fake_url}/api/",
        "CIPHERSLIP_LOG_LEVEL": "WARNING", "CIPHERSLIP_LOG_FORMAT": "text",
    }
    cipherslip = [sys.executable, "-m", "cli.main"]
    migrated = subprocess.run([*cipherslip, "migrate"], env=environment, capture_output=True,
                              text=True, cwd=REPO, check=False)
    if migrated.returncode != 0:
        raise RuntimeError(f"cipherslip migrate failed:\n{migrated.stdout}{migrated.stderr}")
    with process([*cipherslip, "api", "--port", str(port)], environment,
                 directory / "api.log") as api:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        yield environment["CIPHERSLIP_BASE_URL"], api.pid


def drafts_in(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Draft)) or 0)
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load generator (this process) ------------------------------------------------------

def command_body(number: int, fake_url: str) -> Body:
    form = {"command": "/share-secret", "text": "", "user_id": CREATOR, "team_id": TEAM_ID,
            "trigger_id": f"trigger.{number}", "channel_id": "C0GENERAL",
            "response_url": f"{fake_url}/respond/{number}"}
    return urlencode(form).encode(), "application/x-www-form-urlencoded"


def submission_body(number: int, fake_url: str) -> Body:
    payload = {
        "team": {"id": TEAM_ID}, "api_app_id": "A0CIPHER", "type": "view_submission",
        "user": {"id": CREATOR, "team_id": TEAM_ID},
        "view": {"id": f"V{number:08d}", "type": "modal", "callback_id": "share_secret",
                 "hash": "h1", "private_metadata": "internal",
                 "state": {"values": modal_values(users=RECIPIENTS, label=f"bench {number}")}},
    }
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


BODIES: dict[str, Callable[[int, str], Body]] = {COMMAND: command_body,
                                                 SUBMISSION: submission_body}


def check_ack(kind: str, status: int, text: str) -> None:
    if status != 200:
        raise RuntimeError(f"{kind}: HTTP {status}: {text[:200]}")
    if kind == SUBMISSION:
        answer = json.loads(text)
        if answer.get("response_action") != "update":
            raise RuntimeError(f"{kind}: not a hand-off: {text[:300]}")


async def _send(session: aiohttp.ClientSession, url: str, kind: str, number: int,
                fake_url: str) -> float:
    """One request, signed just before it leaves (a fresh timestamp); ms until the ack."""
    body, content_type = BODIES[kind](number, fake_url)
    timestamp = int(time.time())
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
               "X-Slack-Signature": sign(body, timestamp)}
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
    elapsed = (time.perf_counter() - started) * 1000
    check_ack(kind, response.status, text)
    return elapsed


async def _load(base_url: str, fake_url: str, kind: str, count: int, concurrency: int,
                first_number: int) -> list[float]:
    numbers = iter(range(first_number, first_number + count))
    times: list[float] = []
    url = f"{base_url}/slack/events"
    # aiohttp rather than httpx: it costs the load generator a fraction of the CPU per
    # request, CPU the api would otherwise lose on a small machine.
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:  # CONCURRENCY workers: that many requests in flight
            for number in numbers:
                times.append(await _send(session, url, kind, number, fake_url))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times


def run_load(base_url: str, fake_url: str, kind: str, count: int, concurrency: int,
             first_number: int) -> list[float]:
    """``count`` requests, ``concurrency`` at a time."""
    return asyncio.run(_load(base_url, fake_url, kind, count, concurrency, first_number))


@dataclass
class Result:
    kind: str
    times: list[float]
    seconds: float
    cpu_ms: dict[str, float]  # process -> CPU ms per timed request


@dataclass
class Measurement:
    concurrent: list[Result]
    serial: list[Result]


def measure(requests: int, concurrency: int, warmup: int, serial: int, database_kind: str,
            directory: Path) -> Measurement:
    concurrent: list[Result] = []
    single: list[Result] = []
    batches = itertools.count(1, max(requests, warmup, serial))  # first trigger/view numbers
    with ExitStack() as stack:
        database_url = stack.enter_context(database(database_kind, directory))
        fake_url, fake_pid = stack.enter_context(fake_slack_process(directory))
        try:
            base_url, api_pid = stack.enter_context(api_process(directory, database_url,
                                                                fake_url))
        except Exception:
            print((directory / "api.log").read_text()[-3000:]
                  if (directory / "api.log").exists() else "", file=sys.stderr)
            raise
        pids = {"api": api_pid, "fake Slack": fake_pid}

        def timed(kind: str, count: int, in_flight: int) -> Result:
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            own_before = time.process_time()
            started = time.perf_counter()
            times = run_load(base_url, fake_url, kind, count, in_flight, next(batches))
            seconds = time.perf_counter() - started
            cpu = {name: (cpu_seconds(pid) - before[name]) * 1000 / count
                   for name, pid in pids.items()}
            cpu["load generator"] = (time.process_time() - own_before) * 1000 / count
            return Result(kind, times, seconds, cpu)

        for kind in (COMMAND, SUBMISSION):
            run_load(base_url, fake_url, kind, warmup, concurrency, next(batches))
            concurrent.append(timed(kind, requests, concurrency))
        for kind in (COMMAND, SUBMISSION):  # uncontended: one request at a time
            single.append(timed(kind, serial, 1))
        # The work behind the acks really happened: every modal opened, every draft saved.
        expected = warmup + requests + serial
        opened = wait_for_calls(fake_url, "views.open", expected)
        if opened != expected:
            raise RuntimeError(f"expected {expected} views.open calls, the fake Slack got "
                               f"{opened}")
        updated = wait_for_calls(fake_url, "views.update", expected)
        deadline = time.monotonic() + 30
        while (saved := drafts_in(database_url)) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        if updated != expected or saved != expected:
            raise RuntimeError(f"expected {expected} drafts and hand-offs, found {saved} and "
                               f"{updated}")
        lookups = fake_counts(fake_url)["users.info"]
        print(f"checked: {opened} views.open calls, {saved} drafts saved, {lookups} users.info "
              f"calls; every submission acked with response_action=update")
    return Measurement(concurrent, single)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def report(measurement: Measurement, requests: int, concurrency: int, warmup: int,
           database_kind: str) -> None:
    print(f"\nSlack acks, {concurrency} requests in flight, {requests} per kind after "
          f"{warmup} warm-up ({DATABASES[database_kind]}, loopback; api, fake Slack and load "
          f"generator each in its own process)")
    print(f"  {'kind':<28}{'n':>5}{'req/s':>8}{'mean ms':>9}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'max ms':>8}")
    met = True
    for result in measurement.concurrent:
        values = result.times
        met = met and p99(values) < TARGET_P99_MS
        print(f"  {KINDS[result.kind]:<28}{len(values):>5}{len(values) / result.seconds:>8.0f}"
              f"{statistics.fmean(values):>9.1f}{statistics.median(values):>8.1f}"
              f"{p99(values):>8.1f}{max(values):>8.1f}")
    serial = measurement.serial
    print(f"  concurrency 1, {len(serial[0].times)} per kind: " + "; ".join(
        f"{KINDS[result.kind]} p50 {statistics.median(result.times):.1f} ms, "
        f"p99 {p99(result.times):.1f} ms" for result in serial))
    print(f"  CPUs: os.cpu_count() = {os.cpu_count()}, shared by the api, the fake Slack and "
          f"the load generator; CPU ms per request at concurrency {concurrency}:")
    for result in measurement.concurrent:
        print(f"    {KINDS[result.kind]:<26}" + ", ".join(
            f"{name} {ms:.1f}" for name, ms in result.cpu_ms.items()))
    print(f"  Slack's budget: {SLACK_BUDGET_MS / 1000:.0f} s per ack; "
          f"target: p99 < {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="timed requests per kind")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per kind")
    parser.add_argument("--serial-requests", type=int, default=50,
                        help="requests per kind of the concurrency-1 run")
    parser.add_argument("--database", choices=sorted(DATABASES), default="sqlite",
                        help="postgres: a fresh database on CIPHERSLIP_TEST_POSTGRES_URL's "
                             "server (default postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    args = parser.parse_args()
    if args.requests < 2 or args.concurrency < 1 or args.warmup < 0 or args.serial_requests < 2:
        parser.error("need --requests >= 2, --concurrency >= 1, --warmup >= 0, "
                     "--serial-requests >= 2")
    with tempfile.TemporaryDirectory(prefix="cipherslip-bench-") as directory:
        measurement = measure(args.requests, args.concurrency, args.warmup,
                              args.serial_requests, args.database, Path(directory))
    report(measurement, args.requests, args.concurrency, args.warmup, args.database)


if __name__ == "__main__":
    main()
