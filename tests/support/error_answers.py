"""Every error answer the suite's clients receive, checked for what must never reach a user:
stack traces, source paths, temporary or data directories, blob keys, driver names."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import httpx

# What internals look like in an answer (compared case-insensitively).
INTERNAL = re.compile(
    r"traceback|File \"|\.py\b|/tmp/|/work/|\.cipherslip/|blobs/|\.csl1|\.partial|"
    r"sqlalchemy|psycopg|sqlite3|botocore|urllib3|aiohttp|errno|\bOSError\b",
    re.IGNORECASE,
)


@dataclass
class ErrorAnswers:
    checked: int = 0
    leaks: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        response.read()
        # A page may load /static/… scripts by name; only what it says counts.
        text = re.sub(r'(src|href)="[^"]*"', "", response.text)
        found = INTERNAL.search(text)
        with self._lock:
            self.checked += 1
            if found:
                context = text[max(0, found.start() - 60):found.end() + 60]
                self.leaks.append(f"{response.request.method} {response.request.url.path} "
                                  f"{response.status_code}: …{context}…")


ANSWERS = ErrorAnswers()
