"""`make run` is `cipherslip dev`: the product as separate processes on embedded defaults.

Started for real here: the flow works through it, the vault is its own process, and an
interrupt stops every process it started.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.memory import descendants
from cli.dev import _wait_until_up
from tests.support.client import BrowserLikeClient
from tests.support.idp import csrf_token_from
from tests.support.requirements import require_redis
from tests.support.servers import free_port
from tests.support.smtp import links_in

REPO = Path(__file__).resolve().parents[2]


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    base_url: str
    ports: dict[str, int]
    output: list[str]
    data_dir: Path


def children_of(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[DevStack]:
    ports = {"api": free_port(), "vault": free_port(), "idp": free_port(), "smtp": free_port()}
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATA_DIR"] = str(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "dev", "--port", str(ports["api"]),
         "--vault-port", str(ports["vault"]), "--idp-port", str(ports["idp"]),
         "--smtp-port", str(ports["smtp"])],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            pytest.fail("cipherslip dev exited early:\n" + "".join(output))
        output.append(line)
        if "Ctrl-C" in line:  # the last line of the banner
            break
    else:
        pytest.fail("cipherslip dev did not start in time:\n" + "".join(output))
    stack = DevStack(process, f"http://127.0.0.1:{ports['api']}", ports, output, tmp_path)
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "kill"])
def test_dev_stack_serves_the_flow_and_stops_cleanly(
    dev_stack: DevStack, stop_signal: signal.Signals
) -> None:
    output = "".join(dev_stack.output)
    banner = output[output.index("Cipherslip is running"):]
    assert dev_stack.base_url in banner and "sign in" in banner.lower()
    # The banner names the real data directory, the admin, and the development setup in one
    # line, instead of each process warning about it; and no library talks about itself.
    assert f"Data: {dev_stack.data_dir / 'data'} " in banner
    assert "admin@example.com is a super admin" in banner
    assert "Development setup: local master-key file" in banner
    assert "for development only" not in output and "lives in this process's memory" not in output
    assert "Deprecat" not in output
    assert len(dev_stack.output) < 30, output
    # idp, mail sink, vault, api, scheduler: separate processes
    assert len(children_of(dev_stack.process.pid)) == 5

    ready = httpx.get(f"{dev_stack.base_url}/readyz", timeout=10)
    assert ready.json() == {"ready": True,
                            "checks": {"database": "ok", "blob_store": "ok", "vault": "ok",
                                       "cache": "ok"}}
    vault_ready = httpx.get(f"http://127.0.0.1:{dev_stack.ports['vault']}/readyz", timeout=10)
    assert vault_ready.status_code == 200
    # The vault refuses anyone without the run's service token.
    refused = httpx.post(f"http://127.0.0.1:{dev_stack.ports['vault']}/v1/data-keys", json={})
    assert refused.status_code == 401

    alice = BrowserLikeClient(dev_stack.base_url, "alice@example.com").sign_in()
    bob = BrowserLikeClient(dev_stack.base_url, "bob@example.com").sign_in()
    link = alice.create_text("from make run", ["bob@example.com"])
    assert bob.reveal(link) == "from make run"
    data = dev_stack.data_dir / "data"
    assert (data / "cipherslip.db").exists() and (data / "master.key").exists()

    # An external recipient's sign-in link goes through the development mail sink.
    external = alice.create_text("for a partner", ["partner@elsewhere.test"],
                                 audience="external")
    guest = BrowserLikeClient(dev_stack.base_url, "partner@elsewhere.test")
    assert guest.request_link(external.share_code, "partner@elsewhere.test").status_code == 202
    [kept] = list((data / "mail").glob("*.eml"))
    mail = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    [magic_link] = links_in(mail)
    assert guest.confirm_link(magic_link).status_code == 200
    assert guest.reveal(external) == "for a partner"

    # In development admin@example.com is a super admin.
    admin = BrowserLikeClient(dev_stack.base_url, "admin@example.com").sign_in()
    assert admin.http.get("/admin/audit").status_code == 200

    children = children_of(dev_stack.process.pid)
    dev_stack.process.send_signal(stop_signal)
    assert dev_stack.process.wait(timeout=30) == 0
    for child in children:
        assert not Path(f"/proc/{child}").exists() or "Z" in Path(
            f"/proc/{child}/stat").read_text().split()[2], f"process {child} still running"
    for port in dev_stack.ports.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_api_refuses_to_start_without_a_vault_token(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATA_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "cli.main", "api", "--port", "1"], cwd=REPO,
                            env=environment, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2
    assert "CIPHERSLIP_VAULT_TOKEN" in result.stderr


def test_api_workers_need_the_shared_cache(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment.update(CIPHERSLIP_DATA_DIR=str(tmp_path), CIPHERSLIP_VAULT_TOKEN="t" * 40)
    result = subprocess.run([sys.executable, "-m", "cli.main", "api", "--port", "1",
                             "--workers", "2"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "--workers 2" in result.stderr and "CIPHERSLIP_CACHE_BACKEND=redis" in result.stderr


def test_api_and_vault_run_several_worker_processes(tmp_path: Path) -> None:
    """Each is a supervisor with N worker processes on one port; a sign-in made through one
    worker is known to the others (sessions in Redis)."""
    redis_url = require_redis().rsplit("/", 1)[0] + "/13"
    api_port, vault_port = free_port(), free_port()
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment.update(
        CIPHERSLIP_DATA_DIR=str(tmp_path), CIPHERSLIP_VAULT_TOKEN="t" * 40,
        CIPHERSLIP_CACHE_BACKEND="redis", CIPHERSLIP_REDIS_URL=redis_url,
        CIPHERSLIP_VAULT_URL=f"http://127.0.0.1:{vault_port}",
        CIPHERSLIP_BASE_URL=f"http://127.0.0.1:{api_port}", CIPHERSLIP_LOG_FORMAT="text")
    servers = [subprocess.Popen([sys.executable, "-m", "cli.main", name, "--port", str(port),
                                 "--workers", "2"], cwd=REPO, env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for name, port in (("vault", vault_port), ("api", api_port))]
    try:
        for server, port in zip(servers, (vault_port, api_port), strict=True):
            _wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
            workers = [pid for pid in descendants(server.pid) if pid != server.pid
                       and "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
            assert len(workers) == 2, f"{port}: {workers}"
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}") as client:
            first = csrf_token_from(client.get("/verify").text)
            # Fresh connections reach either worker; the visitor's CSRF token lives in the
            # session, so it is the same whichever answers.
            tokens = {csrf_token_from(httpx.get(f"http://127.0.0.1:{api_port}/verify",
                                                cookies=client.cookies).text)
                      for _ in range(12)}
            assert tokens == {first}
    finally:
        for server in servers:
            server.terminate()
            server.wait(15)


def test_a_port_already_taken_is_named_in_one_line_and_nothing_starts(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("CIPHERSLIP_")}
    environment["CIPHERSLIP_DATA_DIR"] = str(tmp_path / "data")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "cli.main", "dev", "--port", str(free_port()),
             "--vault-port", str(taken), "--idp-port", str(free_port()),
             "--smtp-port", str(free_port())],
            cwd=REPO, env=environment, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr == (f"cipherslip dev: port {taken} is already in use by another "
                               f"program; stop it, or choose another port with --vault-port "
                               f"{taken + 1}\n")
    assert not (tmp_path / "data").exists()  # nothing was started, not even the migration
