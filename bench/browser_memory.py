"""What does uploading in parts cost Chromium's memory by itself, and how much of that is the
automation driving it?

A page that does nothing but what the share page does with the network: 8 MiB parts, each a
Blob of 128 sealed-record-sized pieces, PUT with XMLHttpRequest, four in flight, to a local
sink (no crypto, no files, no api). Run twice: in Chromium launched by Playwright (the
DevTools protocol attached, following every request, as in bench/file_transfer.py), and in
the same Chromium launched headless with nothing attached. Prints, for each, the total PSS
of all the browser's processes when idle, its peak and the growth, and the process that grew
most; compare the growth with bench/file_transfer.py's.

    .venv/bin/python -m bench.browser_memory [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import sync_playwright

from bench.memory import MemoryPeaks
from tests.support.browser import CHROMIUM_ARGS
from tests.support.requirements import require_chromium

MIB = 2**20
SEALED_RECORD_BYTES = 65_536 + 16
RECORDS_PER_PART = 128
TIMEOUT_SECONDS = 600
UPLOAD_PAGE = """<!doctype html><meta charset="utf-8"><title>upload</title><script>
(async () => {
  const parts = PARTS;
  const record = new Uint8Array(RECORD);
  crypto.getRandomValues(record.subarray(0, 65536));
  await fetch("/go");  // answered once the bench has measured the idle browser
  const send = (body) => new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", "/part");
    request.onload = resolve;
    request.onerror = reject;
    request.send(body);
  });
  const inFlight = new Set();
  for (let part = 0; part < parts; part++) {
    while (inFlight.size >= 4) await Promise.race(inFlight);
    // Fresh buffers per part, as WebCrypto returns for every sealed record.
    const pieces = Array.from({ length: RECORDS }, () => record.slice());
    const task = send(new Blob(pieces)).finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  await fetch("/done");
})();
</script>"""


class Sink(ThreadingHTTPServer):
    """Serves the page, holds it at /go until told, swallows the parts, hears /done."""

    daemon_threads = True

    def __init__(self, page: str) -> None:
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.page = page.encode()
        self.go = threading.Event()
        self.done = threading.Event()
        self.received = 0


class SinkHandler(BaseHTTPRequestHandler):
    server: Sink

    def do_GET(self) -> None:
        if self.path == "/go":
            self.server.go.wait(TIMEOUT_SECONDS)
        elif self.path == "/done":
            self.server.done.set()
        body = self.server.page if self.path == "/upload.html" else b""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        remaining = int(self.headers["Content-Length"])
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, MIB)))
        self.server.received += int(self.headers["Content-Length"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def sink(parts: int) -> Iterator[Sink]:
    page = UPLOAD_PAGE.replace("PARTS", str(parts)).replace("RECORDS", str(RECORDS_PER_PART)) \
        .replace("RECORD", str(SEALED_RECORD_BYTES))
    server = Sink(page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def measure(server: Sink, browser_root_pid: int) -> MemoryPeaks:
    """Once the page waits at /go: sample while it uploads."""
    memory = MemoryPeaks(None, browser_root_pid)
    memory.start()
    server.go.set()
    if not server.done.wait(TIMEOUT_SECONDS):
        raise TimeoutError("the page did not finish uploading")
    memory.stop()
    return memory


def settle() -> None:
    # The page waits at /go as soon as it has loaded; let the browser's start-up work finish
    # before its idle memory is taken.
    time.sleep(2)


def with_playwright(parts: int) -> MemoryPeaks:
    with sink(parts) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_port}/upload.html", wait_until="commit")
        settle()
        # The browser's processes are the Playwright driver's descendants.
        memory = measure(server, os.getpid())
        browser.close()
    return memory


def without_automation(parts: int) -> MemoryPeaks:
    with sink(parts) as server, tempfile.TemporaryDirectory(prefix="bench-profile-") as profile:
        browser = subprocess.Popen(
            [require_chromium(), "--headless", *CHROMIUM_ARGS, f"--user-data-dir={profile}",
             f"http://127.0.0.1:{server.server_port}/upload.html"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            settle()
            return measure(server, browser.pid)
        finally:
            browser.terminate()
            browser.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    parts = max(1, args.size_mib * MIB // (SEALED_RECORD_BYTES * RECORDS_PER_PART))
    print(f"uploading {parts} parts of {SEALED_RECORD_BYTES * RECORDS_PER_PART / MIB:.1f} MiB "
          "from headless Chromium, twice ...", flush=True)
    runs = [("Playwright (DevTools attached)", with_playwright(parts)),
            ("nothing attached", without_automation(parts))]
    print(f"\n{'Chromium driven by':32} {'idle':>7} {'peak':>8} {'growth':>8}  most grown process")
    for name, memory in runs:
        role, grown = memory.largest_growth()
        growth = memory.browser_peak - memory.browser_baseline
        print(f"{name:32} {memory.browser_baseline / 1e6:4.0f} MB "
              f"{memory.browser_peak / 1e6:5.0f} MB {growth / 1e6:5.0f} MB  "
              f"{role} +{grown / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
