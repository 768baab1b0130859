"""The suite-wide check on error answers (tests/support/error_answers.py) flags internals."""

from __future__ import annotations

import httpx
import pytest

from tests.support.error_answers import ErrorAnswers


def answer(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, text=text,
                          request=httpx.Request("GET", "http://127.0.0.1/api/v1/x"))


@pytest.mark.parametrize("text", [
    'Traceback (most recent call last):\n  File "/work/main/api/app.py", line 3',
    '{"error": {"message": "local blob store: cannot read \'t/s/ab.csl1\'"}}',
    "could not open /tmp/pytest-of-root/data/blobs/t/s",
    "(psycopg.OperationalError) connection refused",
])
def test_internals_in_an_error_answer_are_caught(text: str) -> None:
    answers = ErrorAnswers()
    answers.record(answer(500, text))
    assert len(answers.leaks) == 1


def test_ordinary_refusals_and_successes_pass() -> None:
    answers = ErrorAnswers()
    answers.record(answer(404, '{"error": {"code": "not_found", "message": "no such secret"}}'))
    answers.record(answer(200, "Traceback is fine in a 200 (it is content)"))
    answers.record(answer(403, '<script src="/static/dist/common.js"></script>Access denied'))
    assert answers.leaks == [] and answers.checked == 2
