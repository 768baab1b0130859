"""How fast does ``slip`` move a file, and how much memory does it take?

Shares a file (default 1 GiB) with ``slip share`` — encrypted on this machine, uploaded in
parts — and reveals it with ``slip reveal -o`` — downloaded and decrypted as a stream — against
the api in its own process (local blob store by default, or S3 on a moto server) with the
vault. Prints MB/s each way (each from the command's start to its exit, so creating and
completing the secret count), the peak resident set of each ``slip`` process (from the kernel's
accounting of that child), the api's peak RSS, and, measured in the same run, the ceilings:
raw AES-256-GCM in this Python on 64 KiB records and a plain copy of the file.

    .venv/bin/python -m bench.cli_transfer [--size-mib 1024] [--backend local|s3]

Targets on the development machine: >= 150 MB/s each way on the local blob store, < 150 MB
peak RSS for the CLI. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.file_transfer import (
    api_process,
    moto_process,
    plain_copy_seconds,
    random_file,
    sha256,
)
from bench.memory import rss_bytes
from tests.support.client import BrowserLikeClient
from tests.support.slip import SLIP, slip_environment

MIB = 2**20
MB = 10**6


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes
    output: bytes


def high_water_mark(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), in bytes; 0 once it has gone.

    Not ``wait4``'s ``ru_maxrss``: the kernel folds the memory the child had *before* exec —
    a copy of this (large) bench process — into that figure."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run_slip(base_url: str, token: str, arguments: list[str], config_dir: Path) -> Run:
    """One ``slip`` process; its peak RSS read from the kernel every 20 ms while it runs (the
    high-water mark only grows, so a late read loses nothing that an earlier one saw)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, *SLIP, *arguments],
                             env=slip_environment(config_dir, server=base_url, token=token),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, high_water_mark(child.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, errors = child.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"slip {arguments[0]} failed ({child.returncode}): {errors.decode()}")
    return Run(seconds, peak, output)


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, rss_bytes(pid)
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def stop(self) -> int:
        self._stop.set()
        return self.peak


def aes_gcm_ceiling(size: int) -> float:
    """MB/s of sealing ``size`` bytes in 64 KiB records with the CLI's AES-GCM, one thread."""
    aead, record = AESGCM(AESGCM.generate_key(256)), os.urandom(64 * 1024)
    nonce = bytes(12)  # a throwaway key: reusing the nonce is harmless here
    started = time.perf_counter()
    for _ in range(size // len(record)):
        aead.encrypt(nonce, record, None)
    return size / MB / (time.perf_counter() - started)


def token(base_url: str, email: str, scopes: list[str]) -> str:
    person = BrowserLikeClient(base_url, email).sign_in()
    try:
        answer = person.api("POST", "/api/v1/tokens", json={"name": "bench", "scopes": scopes})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])
    finally:
        person.close()


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--size-mib", type=int, default=1024)
    options.add_argument("--backend", choices=("local", "s3"), default="local")
    args = options.parse_args()
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="cli-transfer-") as temporary, ExitStack() as stack:
        directory = Path(temporary)
        moto_url = (stack.enter_context(moto_process(directory)) if args.backend == "s3"
                    else None)
        base_url, api_pid = stack.enter_context(api_process(directory, args.backend,
                                                            moto_url))
        writer = token(base_url, "alice@example.com", ["secrets:write"])
        revealer = token(base_url, "bob@example.com", ["secrets:reveal"])
        original = directory / "original.bin"
        random_file(original, size)
        api_memory = PeakRss(api_pid)
        up = run_slip(base_url, writer, ["share", "--to", "bob@example.com", str(original),
                                         "--json"], directory)
        share_url = json.loads(up.output)["share_url"]
        received = directory / "received.bin"
        down = run_slip(base_url, revealer, ["reveal", share_url, "-o", str(received)],
                        directory)
        api_peak = api_memory.stop()
        identical = sha256(received) == sha256(original)
        received.unlink()
        copy = size / MB / plain_copy_seconds(original, directory)
        aes = aes_gcm_ceiling(min(size, 256 * MIB))
    print(f"slip, {args.size_mib} MiB on the {args.backend} blob store, {os.cpu_count()} CPUs")
    print(f"  share  (encrypt + upload):  {size / MB / up.seconds:7.0f} MB/s  "
          f"({up.seconds:.1f} s), peak RSS {up.peak_rss / MB:.0f} MB")
    print(f"  reveal (download + decrypt): {size / MB / down.seconds:6.0f} MB/s  "
          f"({down.seconds:.1f} s), peak RSS {down.peak_rss / MB:.0f} MB")
    print(f"  same SHA-256 after the round trip: {identical}")
    print(f"  api peak RSS during both: {api_peak / MB:.0f} MB")
    print(f"  ceilings: AES-256-GCM one thread {aes:.0f} MB/s; plain file copy {copy:.0f} MB/s")
    print("  targets: >= 150 MB/s each way, < 150 MB peak RSS")
    if not identical:
        raise SystemExit("the revealed file differs from the original")


if __name__ == "__main__":
    main()
