"""How fast do files move through the browser, and how much memory does it take?

Shares a file (default 1 GiB) through headless Chromium — encrypt + upload in parts, then
download + decrypt through the download service worker — with the api in its own process, on
the local blob store and on S3 (moto server, its own process). Prints MB/s each way (a
download counts until the browser's download manager has the whole file); the api's peak RSS
and its growth; the browser's peak memory (proportional set size of all its processes), its
idle level just before and the growth, with the process that grew most; and, measured in the
same run, a plain copy of the file, raw AES-GCM in the same browser and the S3 emulator alone
(the disk, crypto and emulator ceilings the transfer is compared with).

    .venv/bin/python -m bench.file_transfer [--size-mib 1024] [--only local|s3]

Targets on the development machine: >= 100 MB/s each way, api RSS growth < 100 MB, browser
memory < 400 MB. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
from playwright.sync_api import Browser, Page, sync_playwright

from bench.memory import MemoryPeaks
from bench.processes import process
from cli.dev import _wait_for_port, _wait_until_up
from core.blobstore.s3_cors import browser_cors_configuration
from tests.support.browser import CHROMIUM_ARGS
from tests.support.idp import oidc_provider
from tests.support.requirements import require_chromium
from tests.support.servers import free_port
from tests.support.stack import vault_server

MIB = 2**20
EMULATOR_PART_BYTES = 8 * MIB
FILE_NAME = "bench ✓ 1 GiB.bin"
TIMEOUT_MS = 30 * 60 * 1000
REPO = Path(__file__).resolve().parents[1]
RAW_AES_GCM = """async ({ totalBytes }) => {
  // The work the pages do, without the rest: 64 KiB records, sealed 128 at a time (upload),
  // opened one after another (download). A throwaway key, so reusing 128 nonces is harmless.
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false,
    ["encrypt", "decrypt"]);
  const record = new Uint8Array(65536);
  crypto.getRandomValues(record);
  const ivs = Array.from({ length: 128 }, (_, index) => {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(7, index);
    return nonce;
  });
  const records = totalBytes / 65536;
  let sealed = [];
  const encryptStart = performance.now();
  for (let start = 0; start < records; start += 128) {
    const batch = [];
    for (let index = start; index < Math.min(records, start + 128); index++) {
      batch.push(crypto.subtle.encrypt({ name: "AES-GCM", iv: ivs[index % 128] }, key, record));
    }
    sealed = await Promise.all(batch);
  }
  const encryptMs = performance.now() - encryptStart;
  const decryptStart = performance.now();
  for (let index = 0; index < records; index++) {
    await crypto.subtle.decrypt({ name: "AES-GCM", iv: ivs[index % sealed.length] }, key,
      sealed[index % sealed.length]);
  }
  return { encryptMs, decryptMs: performance.now() - decryptStart };
}"""


def random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for start in range(0, size, 16 * MIB):
            out.write(os.urandom(min(16 * MIB, size - start)))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(4 * MIB), b""):
            digest.update(block)
    return digest.hexdigest()



@contextmanager
def moto_process(directory: Path) -> Iterator[str]:
    port = free_port()
    command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p",
               str(port)]
    with process(command, dict(os.environ), directory / "moto.log") as moto:
        _wait_for_port(port, moto)
        yield f"http://127.0.0.1:{port}"


@contextmanager
def api_process(directory: Path, backend: str, moto_url: str | None) -> Iterator[
        tuple[str, int]]:
    """The api in its own process (so its memory is its own), with the vault and the OpenID
    provider in this one."""
    port = free_port()
    data_dir = directory / f"data-{backend}-{port}"
    with ExitStack() as stack:
        idp = stack.enter_context(oidc_provider())
        vault = stack.enter_context(vault_server(directory / "vault"))
        environment = {
            **os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1",
            "CIPHERSLIP_DATA_DIR": str(data_dir),
            "CIPHERSLIP_DATABASE_URL": f"sqlite:///{data_dir / 'bench.db'}",
            "CIPHERSLIP_BASE_URL": f"http://127.0.0.1:{port}",
            "CIPHERSLIP_VAULT_URL": vault.url, "CIPHERSLIP_VAULT_TOKEN": vault.token,
            "CIPHERSLIP_OIDC_DISCOVERY_URL": idp,
            "CIPHERSLIP_OIDC_REQUIRE_VERIFIED_EMAIL": "false",
            "CIPHERSLIP_LOG_LEVEL": "WARNING", "CIPHERSLIP_LOG_FORMAT": "text",
        }
        if backend == "s3":
            assert moto_url is not None
            bucket = f"bench-{os.urandom(4).hex()}"
            s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench")  # noqa: S106 - moto
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=browser_cors_configuration(  # type: ignore[arg-type]
                environment["CIPHERSLIP_BASE_URL"]))
            environment |= {"CIPHERSLIP_BLOB_BACKEND": "s3", "CIPHERSLIP_S3_BUCKET": bucket,
                            "CIPHERSLIP_S3_ENDPOINT_URL": moto_url,
                            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        cipherslip = [sys.executable, "-m", "cli.main"]
        data_dir.mkdir()
        subprocess.run([*cipherslip, "migrate"], env=environment, check=True,
                       capture_output=True, cwd=REPO)
        api = stack.enter_context(process([*cipherslip, "api", "--port", str(port)],
                                          environment, directory / f"api-{backend}.log"))
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", api)
        yield environment["CIPHERSLIP_BASE_URL"], api.pid


def sign_in(page: Page, email: str) -> None:
    """At the development OpenID provider's form: anyone may claim any subject."""
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()


@dataclass
class Transfer:
    backend: str
    upload_seconds: float
    download_seconds: float
    upload_memory: MemoryPeaks
    download_memory: MemoryPeaks
    identical: bool


def transfer(browser: Browser, base_url: str, api_pid: int, backend: str,
             original: Path) -> Transfer:
    alice = browser.new_context()
    bob = browser.new_context(accept_downloads=True)
    creator = alice.new_page()
    creator.goto(base_url + "/new")
    sign_in(creator, "alice@example.com")
    creator.locator("#create-form").wait_for()
    creator.locator("#recipient-input").fill("bob@example.com")
    creator.locator("#recipient-input").press("Enter")
    creator.locator("#format").select_option("file")
    creator.locator("#file").set_input_files(original)
    # The browser's processes are the Playwright driver's descendants.
    upload_memory = MemoryPeaks(api_pid, os.getpid())
    upload_memory.start()
    began = time.perf_counter()
    creator.get_by_role("button", name="Share secret").click()
    creator.locator("#result").wait_for(state="visible", timeout=TIMEOUT_MS)
    upload_seconds = time.perf_counter() - began
    upload_memory.stop()
    share_url = creator.locator("#share-url").input_value()
    alice.close()

    recipient = bob.new_page()
    recipient.goto(share_url)
    recipient.get_by_role("link", name="Sign in").first.click()
    sign_in(recipient, "bob@example.com")
    recipient.get_by_role("button", name="Download file").wait_for()
    download_memory = MemoryPeaks(api_pid, os.getpid())
    download_memory.start()
    began = time.perf_counter()
    with recipient.expect_download(timeout=TIMEOUT_MS) as started:
        recipient.get_by_role("button", name="Download file").click()
    # path() returns once the browser's download manager has the whole file on disk: the
    # moment a user sees the download finished. (save_as would add Playwright's own copy.)
    saved = started.value.path()
    download_seconds = time.perf_counter() - began
    download_memory.stop()
    identical = sha256(saved) == sha256(original)
    bob.close()
    return Transfer(backend, upload_seconds, download_seconds, upload_memory, download_memory,
                    identical)


def plain_copy_seconds(original: Path, directory: Path) -> float:
    target = directory / "copy.bin"
    began = time.perf_counter()
    shutil.copyfile(original, target)
    with target.open("rb") as copied:
        os.fsync(copied.fileno())
    seconds = time.perf_counter() - began
    target.unlink()
    return seconds


def emulator_seconds(moto_url: str, original: Path) -> tuple[float, float]:
    """The S3 emulator's own ceiling, doing what the browser asks of it without the browser
    or the crypto: the file up in 8 MiB parts, four at a time, completed; then down in one
    streamed GET."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")  # noqa: S106 - moto
    s3.create_bucket(Bucket="ceiling")
    size = original.stat().st_size
    offsets = range(0, size, EMULATOR_PART_BYTES)

    def send(number: int, offset: int) -> None:
        with original.open("rb") as source:
            source.seek(offset)
            s3.upload_part(Bucket="ceiling", Key="file", UploadId=upload_id, PartNumber=number,
                           Body=source.read(EMULATOR_PART_BYTES))

    began = time.perf_counter()
    upload_id = s3.create_multipart_upload(Bucket="ceiling", Key="file")["UploadId"]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(1, len(offsets) + 1), offsets))
    listed = s3.list_parts(Bucket="ceiling", Key="file", UploadId=upload_id,
                           MaxParts=len(offsets))["Parts"]
    s3.complete_multipart_upload(Bucket="ceiling", Key="file", UploadId=upload_id,
                                 MultipartUpload={"Parts": [
                                     {"PartNumber": part["PartNumber"], "ETag": part["ETag"]}
                                     for part in listed]})
    up = time.perf_counter() - began
    began = time.perf_counter()
    body = s3.get_object(Bucket="ceiling", Key="file")["Body"]
    received = sum(len(chunk) for chunk in body.iter_chunks(MIB))
    down = time.perf_counter() - began
    assert received == size
    s3.delete_object(Bucket="ceiling", Key="file")
    return up, down


def mb_per_second(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--only", choices=["local", "s3"])
    args = parser.parse_args()
    size = args.size_mib * MIB
    backends = [args.only] if args.only else ["local", "s3"]
    with tempfile.TemporaryDirectory(prefix="cipherslip-bench-") as temp, sync_playwright() as pw:
        directory = Path(temp)
        original = directory / FILE_NAME
        print(f"generating a {size / MIB:,.0f} MiB file ...", flush=True)
        random_file(original, size)
        browser = pw.chromium.launch(executable_path=require_chromium(), headless=True,
                                     args=CHROMIUM_ARGS)
        results = []
        emulator: tuple[float, float] | None = None
        for backend in backends:
            print(f"{backend}: encrypt + upload, then download + decrypt ...", flush=True)
            with ExitStack() as stack:
                moto_url = stack.enter_context(moto_process(directory)) if backend == "s3" \
                    else None
                base_url, api_pid = stack.enter_context(api_process(directory, backend,
                                                                    moto_url))
                results.append(transfer(browser, base_url, api_pid, backend, original))
                if moto_url is not None:
                    emulator = emulator_seconds(moto_url, original)
        page = browser.new_page()
        copy_seconds = plain_copy_seconds(original, directory)
        with api_process(directory, "local", None) as (base_url, _):
            page.goto(base_url + "/healthz")  # a secure context for WebCrypto
            raw = page.evaluate(RAW_AES_GCM, {"totalBytes": size})
        browser.close()

    copy_rate = mb_per_second(size, copy_seconds)
    encrypt_rate = mb_per_second(size, raw["encryptMs"] / 1000)
    decrypt_rate = mb_per_second(size, raw["decryptMs"] / 1000)
    print(f"\n{size / MIB:,.0f} MiB file; plain copy {copy_rate:,.0f} MB/s; raw AES-GCM in "
          f"Chromium {encrypt_rate:,.0f} MB/s encrypt, {decrypt_rate:,.0f} MB/s decrypt\n")
    print(f"{'backend':8} {'direction':20} {'MB/s':>7} {'÷ copy':>7} {'÷ AES-GCM':>10}")
    for result in results:
        up = mb_per_second(size, result.upload_seconds)
        down = mb_per_second(size, result.download_seconds)
        print(f"{result.backend:8} {'encrypt + upload':20} {up:7,.0f} {up / copy_rate:7.2f} "
              f"{up / encrypt_rate:10.2f}")
        print(f"{result.backend:8} {'download + decrypt':20} {down:7,.0f} "
              f"{down / copy_rate:7.2f} {down / decrypt_rate:10.2f}")
    if emulator is not None:
        print(f"{'s3':8} {'(emulator alone)':20} {mb_per_second(size, emulator[0]):7,.0f} up, "
              f"{mb_per_second(size, emulator[1]):,.0f} down: boto3 to moto as the browser "
              "uses it, no browser, no crypto")
    print(f"\n{'backend':8} {'direction':20} {'api RSS':>9} {'growth':>8} {'browser PSS':>12} "
          f"{'idle':>7} {'growth':>8}  most grown process")
    for result in results:
        for direction, memory in (("encrypt + upload", result.upload_memory),
                                  ("download + decrypt", result.download_memory)):
            api_growth = max(0, memory.api_peak - memory.api_baseline)
            browser_growth = max(0, memory.browser_peak - memory.browser_baseline)
            role, grown = memory.largest_growth()
            print(f"{result.backend:8} {direction:20} {memory.api_peak / 1e6:6.0f} MB "
                  f"{api_growth / 1e6:5.0f} MB {memory.browser_peak / 1e6:9.0f} MB "
                  f"{memory.browser_baseline / 1e6:4.0f} MB {browser_growth / 1e6:5.0f} MB  "
                  f"{role} +{grown / 1e6:.0f} MB")
    for result in results:
        print(f"{result.backend}: SHA-256 of the download "
              f"{'identical to' if result.identical else 'DIFFERENT from'} the original")


if __name__ == "__main__":
    main()
