"""A file's upload: its CSL1 stream cut into the server's parts, each sealed from its own slice
of the file (records depend only on their index), sent by a few threads, and sent again —
sealed afresh — when an attempt fails for a reason another attempt can fix.

Memory stays bounded: a part is read, sealed and sent one 64 KiB record at a time, so at most
``WORKERS`` parts (~8 MiB of ciphertext each) are in flight, whatever the file's size.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from cipherslip_crypto import csl1

from cipherslip_cli.api import Api, Refused, SlipError, Unreachable, refusal

WORKERS = 4
ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.5
URL_BATCH = 16


@dataclass(frozen=True)
class Part:
    number: int  # 1-based
    first_record: int
    record_count: int
    plain_start: int
    plain_end: int
    final: bool  # holds the stream's last record

    def stream_bytes(self) -> int:
        header = csl1.HEADER_SIZE if self.number == 1 else 0
        return header + (self.plain_end - self.plain_start) + self.record_count * csl1.TAG_SIZE


def parts_of(plaintext_size: int, records_per_part: int, part_count: int) -> list[Part]:
    """The parts the server expects; a mismatch means client and server disagree on framing."""
    record_total = max(1, -(-plaintext_size // csl1.RECORD_SIZE))
    count = -(-record_total // records_per_part)
    if count != part_count:
        raise SlipError(f"upload plan mismatch: {count} parts here, {part_count} on the server")
    parts = []
    for index in range(count):
        first = index * records_per_part
        records = min(records_per_part, record_total - first)
        parts.append(Part(
            number=index + 1, first_record=first, record_count=records,
            plain_start=min(plaintext_size, first * csl1.RECORD_SIZE),
            plain_end=min(plaintext_size, (first + records) * csl1.RECORD_SIZE),
            final=index == count - 1))
    return parts


@dataclass
class Sealing:
    """What every part is sealed with."""

    link_key: bytes
    data_key: bytes
    secret_id: str
    header: csl1.StreamHeader


def sealed_records(descriptor: int, part: Part, sealing: Sealing,
                   on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    encryptor = csl1.StreamEncryptor(sealing.link_key, sealing.data_key, sealing.secret_id,
                                     sealing.header, first_record=part.first_record)
    if part.number == 1:
        yield sealing.header.to_bytes()
    offset = part.plain_start
    for index in range(part.record_count):
        end = min(part.plain_end, offset + csl1.RECORD_SIZE)
        chunk = os.pread(descriptor, end - offset, offset)
        if len(chunk) != end - offset:
            raise SlipError("the file changed while it was being shared")
        last = part.final and index == part.record_count - 1
        yield encryptor.seal_record(chunk, final=last)
        on_bytes(len(chunk))
        offset = end


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


class PartUploader:
    def __init__(self, api: Api, created: dict[str, Any], descriptor: int, sealing: Sealing,
                 on_bytes: Callable[[int], None]) -> None:
        plan = created["upload"]
        self.api, self.descriptor, self.sealing = api, descriptor, sealing
        self.on_bytes = on_bytes
        self.parts_url: str = plan["parts_url"]
        self.direct: bool = plan["direct"]
        self._urls: dict[int, str] = {}
        self._urls_lock = threading.Lock()
        self.part_count: int = plan["part_count"]

    def upload(self, parts: list[Part]) -> None:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(parts))) as pool:
            for finished in [pool.submit(self._send_with_retries, part) for part in parts]:
                finished.result()

    def _send_with_retries(self, part: Part) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            sent = [0]

            def count(size: int, sent: list[int] = sent) -> None:
                sent[0] += size
                self.on_bytes(size)

            try:
                self._send(part, count)
                return
            except Unreachable:
                self.on_bytes(-sent[0])  # that progress is undone; the part goes again
                if attempt == ATTEMPTS:
                    raise
                time.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))

    def _send(self, part: Part, count: Callable[[int], None]) -> None:
        body = sealed_records(self.descriptor, part, self.sealing, count)
        headers = {"content-type": "application/octet-stream",
                   "content-length": str(part.stream_bytes())}
        try:
            if self.direct:
                response = self.api.storage.put(self._url(part.number), content=body,
                                                headers=headers)
            else:
                response = self.api.http.put(f"{self.parts_url}/{part.number}", content=body,
                                             headers=headers)
        except httpx.HTTPError as error:
            raise self.api.unreachable(error) from error
        if response.is_success:
            return
        if self.direct:
            if response.status_code == 403:  # the presigned URL expired: ask for a new one
                with self._urls_lock:
                    self._urls.pop(part.number, None)
            if response.status_code == 403 or _retryable(response.status_code):
                raise Unreachable(f"part {part.number}: storage answered HTTP "
                                  f"{response.status_code}")
            raise Refused(f"part {part.number}: storage answered HTTP {response.status_code}")
        refused = refusal(response)
        if _retryable(response.status_code):
            raise Unreachable(f"part {part.number}: {refused.message}")
        raise refused

    def _url(self, number: int) -> str:
        with self._urls_lock:
            if number not in self._urls:
                batch = [part for part in range(number, min(self.part_count, number + URL_BATCH
                                                            - 1) + 1) if part not in self._urls]
                answer = self.api.json("POST", f"{self.parts_url}/urls", json={"parts": batch})
                self._urls.update({int(key): url for key, url in answer["urls"].items()})
            return self._urls[number]
