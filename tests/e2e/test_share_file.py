"""Issue acceptance: files up to 1 GiB, encrypted and decrypted as streams in Chromium.

A 50 MiB file with a non-ASCII name goes up in parts (through the api with the local blob
store, straight to S3 — moto server — with presigned URLs) and comes back through the download
service worker with the same SHA-256. Cancel leaves nothing behind; a flipped bit in storage
makes the download fail visibly; without service workers the in-page fallback still works.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Download, Page, Request, Route, expect
from sqlalchemy import func, select

from core.db.models import AuditEvent, Secret
from tests.e2e.conftest import BrowserStack
from tests.e2e.test_share_text import open_as, sign_in_at_idp
from tests.support.browser import wait_until
from tests.support.moto import MotoServer

pytestmark = pytest.mark.browser

FILE_NAME = "clé privée — 日本 ✓.bin"
MIB = 2**20
TRANSFER_TIMEOUT_MS = 120_000


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stack_options(request: pytest.FixtureRequest, backend: str) -> dict[str, object]:
    if backend == "local":
        return {}
    moto: MotoServer = request.getfixturevalue("moto")
    return {"blob_backend": "s3", "s3_endpoint_url": moto.endpoint_url,
            "s3_bucket": moto.browser_bucket()}


@pytest.fixture
def files_stack(request: pytest.FixtureRequest, browser_stack: BrowserStack,
                backend: str) -> Iterator[BrowserStack]:
    if backend == "s3":
        moto: MotoServer = request.getfixturevalue("moto")
        settings = browser_stack.stack.settings
        moto.allow_browser(settings.s3_bucket, settings.base_url)
    yield browser_stack
    assert browser_stack.page_errors == []


def random_file(directory: Path, size: int, name: str = FILE_NAME) -> Path:
    path = directory / "upload" / name
    path.parent.mkdir(exist_ok=True)
    with path.open("wb") as out:
        for start in range(0, size, 4 * MIB):
            out.write(os.urandom(min(4 * MIB, size - start)))
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def creator_page(context: BrowserContext, base_url: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/new")
    sign_in_at_idp(page, "alice@example.com")
    expect(page).to_have_url(base_url + "/new")
    return page


def fill_file_form(page: Page, path: Path, recipient: str = "bob@example.com") -> None:
    page.locator("#recipient-input").fill(recipient)
    page.locator("#recipient-input").press("Enter")
    page.locator("#format").select_option("file")
    expect(page.locator("#content")).to_be_hidden()
    page.locator("#file").set_input_files(path)


def share_file(page: Page, path: Path) -> str:
    fill_file_form(page, path)
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#result")).to_be_visible(timeout=TRANSFER_TIMEOUT_MS)
    return page.locator("#share-url").input_value()


def download_file(page: Page) -> Download:
    with page.expect_download(timeout=TRANSFER_TIMEOUT_MS) as started:
        page.get_by_role("button", name="Download file").click()
    return started.value


def stored_objects(stack: BrowserStack, moto: MotoServer | None) -> list[str]:
    """Everything in the blob store (S3: objects and unfinished multipart uploads)."""
    settings = stack.stack.settings
    if moto is None:
        root = settings.effective_blob_dir
        return sorted(str(path) for path in root.rglob("*") if path.is_file())
    s3 = moto.client("s3")
    objects = s3.list_objects_v2(Bucket=settings.s3_bucket).get("Contents", [])
    uploads = s3.list_multipart_uploads(Bucket=settings.s3_bucket).get("Uploads", [])
    return sorted([item["Key"] for item in objects] + [f"upload {u['Key']}" for u in uploads])


def moto_or_none(request: pytest.FixtureRequest, backend: str) -> MotoServer | None:
    return request.getfixturevalue("moto") if backend == "s3" else None


def test_fifty_mib_round_trip_with_the_same_sha256(
    files_stack: BrowserStack, backend: str, tmp_path: Path
) -> None:
    stack = files_stack.stack
    original = random_file(tmp_path, 50 * MIB)
    requests: list[Request] = []
    creator, colleague = files_stack.person(), files_stack.person()
    creator.on("request", lambda request: requests.append(request))  # noqa: PLW0108

    share_url = share_file(creator_page(creator, stack.base_url), original)
    part_puts = [r for r in requests if r.method == "PUT" and "content" not in r.url]
    assert len(part_puts) == 7  # 50 MiB in ~8 MiB parts
    if backend == "s3":
        # The api never carried the bytes: every part went to the storage origin.
        assert all(r.url.startswith(f"{stack.settings.s3_endpoint_url}/") for r in part_puts)
        assert all("partNumber=" in r.url for r in part_puts)
    else:
        assert all(re.search(r"/api/v1/secrets/[^/]+/parts/\d$", r.url) for r in part_puts)

    page = open_as(colleague, share_url, "bob@example.com")
    download = download_file(page)
    assert download.suggested_filename == FILE_NAME
    saved = download.path()
    assert saved.stat().st_size == 50 * MIB
    assert sha256(saved) == sha256(original)
    expect(page.locator("#download-status")).to_contain_text(f"Saved {FILE_NAME}")
    expect(page.locator("#file-name")).to_have_text(FILE_NAME)
    expect(page.locator("#file-burn-notice")).to_be_visible()  # the default is one view
    # Saved by the streaming service worker, not by the in-page fallback.
    scopes = page.evaluate(
        "navigator.serviceWorker.getRegistrations().then(all => all.map(r => r.scope))")
    assert scopes == [f"{stack.base_url}/download/"]
    with stack.services.db() as session:
        downloads = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.activity_name == "paper_secret_file_downloaded"))
        assert downloads == 1
        names = session.scalars(select(Secret.label)).all()
    assert FILE_NAME not in str(names)  # the name travels only in the sealed metadata


def test_cancel_and_a_closed_tab_leave_nothing(
    files_stack: BrowserStack, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    stack = files_stack.stack
    moto = moto_or_none(request, backend)
    original = random_file(tmp_path, 30 * MIB)
    held: list[Route] = []
    # Parts after the first wait forever, so the upload is surely mid-way when Cancel comes.
    later_parts = re.compile(r"(/parts/[2-9]$)|(partNumber=[2-9]&)|(partNumber=[2-9]$)")
    creator = files_stack.person()
    page = creator_page(creator, stack.base_url)
    page.route(later_parts, lambda route: held.append(route))  # noqa: PLW0108
    fill_file_form(page, original)
    page.get_by_role("button", name="Share secret").click()
    expect(page.locator("#upload")).to_be_visible()
    expect(page.locator("#upload-name")).to_have_text(FILE_NAME)
    # Progress shows once the first part is sealed and moving: allow a busy machine its time.
    expect(page.locator("#upload-status")).to_contain_text(re.compile(r"\d+% · .* of 31\.5 MB"),
                                                           timeout=30_000)
    wait_until(page, "() => document.getElementById('upload-progress').value > 0",
               what="the upload shows progress")
    assert held, "no part was held back"
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#form-error")).to_have_text("Upload cancelled; nothing was shared.")
    expect(page.locator("#upload")).to_be_hidden()
    with stack.services.db() as session:
        assert session.scalars(select(Secret.status)).all() == []

    # A tab closed mid-upload cannot cancel: the scheduler removes what it left after an hour.
    closing = creator.new_page()
    closing.goto(stack.base_url + "/new")
    closing.route(later_parts, lambda route: held.append(route))  # noqa: PLW0108
    fill_file_form(closing, original)
    closing.get_by_role("button", name="Share secret").click()
    expect(closing.locator("#upload-status")).to_contain_text("%", timeout=30_000)
    wait_until(closing, "() => document.getElementById('upload-progress').value > 0",
               what="the upload shows progress")
    closing.close()
    with stack.services.db() as session:
        assert session.scalars(select(Secret.status)).all() == ["pending"]
    stack.clock.advance(timedelta(minutes=61))
    for report in stack.purge_jobs().run_all():
        assert report.failed == 0, report
    with stack.services.db() as session:
        assert session.scalars(select(Secret.status)).all() == []
    assert stored_objects(files_stack, moto) == []


def flip_a_bit(stack: BrowserStack, moto: MotoServer | None, offset: int) -> None:
    with stack.stack.services.db() as session:
        blob_key = session.scalars(select(Secret.blob_key)).one()
    assert blob_key is not None
    if moto is None:
        path = stack.stack.settings.effective_blob_dir / blob_key
        content = bytearray(path.read_bytes())
        content[offset] ^= 0x01
        path.write_bytes(bytes(content))
        return
    s3 = moto.client("s3")
    bucket = stack.stack.settings.s3_bucket
    content = bytearray(s3.get_object(Bucket=bucket, Key=blob_key)["Body"].read())
    content[offset] ^= 0x01
    s3.put_object(Bucket=bucket, Key=blob_key, Body=bytes(content))


def test_a_flipped_bit_fails_the_download_visibly(
    files_stack: BrowserStack, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    moto = moto_or_none(request, backend)
    original = random_file(tmp_path, 12 * MIB + 777)
    creator, colleague = files_stack.person(), files_stack.person()
    share_url = share_file(creator_page(creator, files_stack.stack.base_url), original)
    flip_a_bit(files_stack, moto, offset=9 * MIB)  # in part 2, well after the header

    page = open_as(colleague, share_url, "bob@example.com")
    downloads: list[Download] = []
    page.on("download", lambda download: downloads.append(download))  # noqa: PLW0108
    page.get_by_role("button", name="Download file").click()
    status = page.locator("#download-status")
    expect(status).to_contain_text("failed its integrity check", timeout=TRANSFER_TIMEOUT_MS)
    expect(status).to_have_attribute("role", "alert")
    # The download had started (the worker streams as it decrypts) and the browser was told it
    # failed, so no complete file is left under the name.
    assert len(downloads) == 1
    assert downloads[0].failure() is not None
    # The stored copy stays damaged, so there is nothing to retry.
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    files_stack.page_errors.clear()  # Chromium logs the failed download stream


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_without_service_workers_the_page_saves_the_file_itself(
    files_stack: BrowserStack, tmp_path: Path
) -> None:
    original = random_file(tmp_path, 3 * MIB + 5)
    creator = files_stack.person()
    share_url = share_file(creator_page(creator, files_stack.stack.base_url), original)
    blocked = files_stack.browser.new_context(service_workers="block")
    try:
        page = open_as(blocked, share_url, "bob@example.com")
        download = download_file(page)
        assert download.suggested_filename == FILE_NAME
        assert sha256(download.path()) == sha256(original)
        expect(page.locator("#download-status")).to_contain_text("Saved")
        assert page.evaluate("navigator.serviceWorker.getRegistrations()") in ([], None)
    finally:
        blocked.close()

