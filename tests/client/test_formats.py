"""``slip`` checks text formats by the browser's rules: the same inputs are accepted or refused
by the CLI's Python and by the page's JavaScript (run here under node), and env errors read
the same, word for word."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cipherslip_cli.formats import problems

from tests.support.requirements import require_node

pytestmark = [pytest.mark.node, pytest.mark.one_database]
REPO = Path(__file__).resolve().parents[2]
JS_VERDICTS = """
import { validateContent } from "./web/js/formats/index.js";
const cases = JSON.parse(await new Promise((resolve) => {
  let text = ""; process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
}));
console.log(JSON.stringify(cases.map(([format, text]) => validateContent(format, text))));
"""

CASES: list[tuple[str, str]] = [
    ("json", '{"a": 1}'), ("json", "[1, 2.5e3, -0, true, false, null]"), ("json", '"x"'),
    ("json", ""), ("json", "  \n"), ("json", '{"a": 1,}'), ("json", "[NaN]"),
    ("json", "[Infinity]"), ("json", "{'a': 1}"), ("json", '{"a" 1}'), ("json", "[1] [2]"),
    ("json", '"tab\there"'), ("json", "01"), ("json", '{"a": 1, "a": 2}'),
    ("json", '"\\ud800"'), ("json", "\ufeff{}"), ("json", "[" * 50 + "]" * 50),
    ("yaml", "a: 1\nb: [1, 2]\n"), ("yaml", "a: 1\na: 2\n"), ("yaml", "a: *missing\n"),
    ("yaml", "a: &x 1\nb: *x\n"), ("yaml", ""), ("yaml", "# only a comment\n"),
    ("yaml", "a: [1, 2\n"), ("yaml", "key: value\n---\nother: 2\n"), ("yaml", "- a\n- b\n"),
    ("yaml", "a:\n  b: 1\n  b: 2\n"), ("yaml", "just a scalar"),
    ("env", "A=1\nB=2\n"), ("env", "export A=1\n"), ("env", "A = spaced\n"),
    ("env", "# comment\n\nA=1\n"), ("env", ""), ("env", "# only\n"), ("env", "not a line\n"),
    ("env", "=1\n"), ("env", "1A=1\n"), ("env", "A=1\nA=2\n"), ("env", "A='open\n"),
    ("env", 'A="multi\nline"\n'), ("env", 'A="never closed\nB=2\n'),
    ("env", 'A="x" trailing\n'), ("env", 'A="x" # fine\n'), ("env", "A=x=y\r\nB=2\r\n"),
    ("env", "\ufeffA=1\n"), ("env", 'A="esc\\"aped"\n'), ("env", "a.b-c=1\n"),
    ("env", "export =1\n"), ("env", "exportA=1\n"),
]


@pytest.fixture(scope="module")
def browser_verdicts() -> list[dict[str, object]]:
    node = require_node()
    answer = subprocess.run([node, "--input-type=module", "-e", JS_VERDICTS],
                            input=json.dumps(CASES), capture_output=True, text=True,
                            cwd=REPO, check=True, timeout=60)
    verdicts: list[dict[str, object]] = json.loads(answer.stdout)
    return verdicts


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{fmt}-{number}" for number, (fmt, _) in enumerate(CASES)])
def test_the_cli_agrees_with_the_browser(browser_verdicts: list[dict[str, object]],
                                         index: int) -> None:
    content_format, text = CASES[index]
    verdict = browser_verdicts[index]
    found = problems(content_format, text)
    assert (found == []) == verdict["ok"], (text, found, verdict)
    if content_format == "env" and not verdict["ok"]:
        errors = verdict["errors"]
        assert isinstance(errors, list)
        assert found == [error["message"] for error in errors]
