"""``slip share`` and ``slip reveal`` as processes against the real api and vault: the exact
bytes come back, formats are checked before anything is sent, every refusal has its exit
code, and the server holds neither the plaintext nor the link key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cipherslip_crypto.encoding import b64url_decode

from tests.support.faults import fault_proxy
from tests.support.slip import SLIP, slip_environment
from tests.support.smtp import links_in
from tests.support.stack import Stack

pytestmark = pytest.mark.one_database


def slip(stack: Stack, token: str, *arguments: str, config_dir: Path,
         stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, *SLIP, *arguments], input=stdin,
                          env=slip_environment(config_dir, server=stack.base_url, token=token),
                          capture_output=True, timeout=120, check=False, cwd=cwd)


def token_for(stack: Stack, email: str, *scopes: str) -> str:
    return str(stack.user(email).api("POST", "/api/v1/tokens", json={
        "name": "cli", "scopes": list(scopes)}).json()["token"])


@pytest.fixture
def tokens(stack: Stack) -> tuple[str, str]:
    return (token_for(stack, "alice@example.com", "secrets:write", "secrets:read"),
            token_for(stack, "bob@example.com", "secrets:reveal"))


def test_text_from_stdin_round_trips_byte_for_byte(stack: Stack, tokens: tuple[str, str],
                                                   tmp_path: Path) -> None:
    writer, revealer = tokens
    secret = "pässwörd \N{KEY} with trailing newline\n".encode()
    shared = slip(stack, writer, "share", "--to", "bob@example.com", "--label", "DB",
                  "--json", config_dir=tmp_path, stdin=secret)
    assert shared.returncode == 0, shared.stderr
    answer = json.loads(shared.stdout)
    assert answer["share_url"].startswith(f"{stack.base_url}/s/{answer['share_code']}#")
    revealed = slip(stack, revealer, "reveal", answer["share_url"], config_dir=tmp_path)
    assert revealed.returncode == 0, revealed.stderr
    assert revealed.stdout == secret
    assert b"no views left" in revealed.stderr
    again = slip(stack, revealer, "reveal", answer["share_url"], config_dir=tmp_path)
    assert again.returncode == 5, again.stderr  # used up: the secret has ended
    # The server never held the link key or the plaintext.
    link_key = b64url_decode(answer["share_url"].split("#")[1])
    for blob in stack.stored_blobs(answer["id"]):
        assert secret not in blob.read_bytes() and link_key not in blob.read_bytes()


def test_a_file_in_parts_with_its_name_and_output_rules(stack: Stack, tokens: tuple[str, str],
                                                        tmp_path: Path) -> None:
    writer, revealer = tokens
    original = tmp_path / "backup report.bin"
    original.write_bytes(os.urandom(17 * 2**20 + 12345))  # three parts
    shared = slip(stack, writer, "share", "--to", "bob@example.com", "--views", "2",
                  str(original), "--json", config_dir=tmp_path)
    assert shared.returncode == 0, shared.stderr
    url = json.loads(shared.stdout)["share_url"]
    target = tmp_path / "out.bin"
    target.write_bytes(b"keep me")
    refused = slip(stack, revealer, "reveal", url, "-o", str(target), config_dir=tmp_path)
    assert refused.returncode == 2 and b"--force" in refused.stderr
    assert target.read_bytes() == b"keep me"
    saved = slip(stack, revealer, "reveal", url, "-o", str(target), "--force",
                 config_dir=tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert target.read_bytes() == original.read_bytes()
    assert b"1 view(s) left" in saved.stderr
    piped = slip(stack, revealer, "reveal", url, config_dir=tmp_path)
    assert piped.returncode == 0 and piped.stdout == original.read_bytes()
    assert not list(tmp_path.glob(".out.bin.*"))  # no partial file left behind


@pytest.mark.parametrize(("content_format", "content", "problem"), [
    ("json", b'{"a": 1,}', b"line 1, column 9"),
    ("json", b"[NaN]", b"NaN is not JSON"),
    ("yaml", b"a: 1\na: 2\n", b"unique"),
    ("yaml", b"a: *missing\n", b"undefined alias"),
    ("env", b"GOOD=1\nnot a line\n", b"line 2: expected KEY=value"),
    ("env", b"A=1\nA=2\n", b"duplicate key A (first on line 1)"),
    ("text", b"\xff\xfe binary", b"not UTF-8"),
])
def test_formats_are_checked_before_anything_is_sent(
        stack: Stack, tokens: tuple[str, str], tmp_path: Path, content_format: str,
        content: bytes, problem: bytes) -> None:
    writer, _ = tokens
    before = stack.user("alice@example.com").api(
        "GET", "/api/v1/secrets", params={"status": "all"}).json()
    refused = slip(stack, writer, "share", "--to", "bob@example.com", "--format",
                   content_format, config_dir=tmp_path, stdin=content)
    assert refused.returncode == 2 and problem in refused.stderr, refused.stderr
    after = stack.user("alice@example.com").api(
        "GET", "/api/v1/secrets", params={"status": "all"}).json()
    assert after == before  # nothing created


def test_valid_formats_are_accepted(stack: Stack, tokens: tuple[str, str],
                                    tmp_path: Path) -> None:
    writer, revealer = tokens
    env = b'export A=1\nPEM="-----BEGIN KEY-----\nabc\n-----END KEY-----"\n# note\nB = x=y\n'
    for content_format, content in [("env", env), ("json", b'{"a": [1, 2.5, null]}'),
                                    ("yaml", b"a: &x 1\nb: *x\n---\nc: [1]\n")]:
        shared = slip(stack, writer, "share", "--to", "bob@example.com", "--format",
                      content_format, config_dir=tmp_path, stdin=content)
        assert shared.returncode == 0, shared.stderr
        revealed = slip(stack, revealer, "reveal", shared.stdout.decode().strip(),
                        config_dir=tmp_path)
        assert revealed.stdout == content


def test_refusals_and_their_exit_codes(stack: Stack, tokens: tuple[str, str],
                                       tmp_path: Path) -> None:
    writer, revealer = tokens
    shared = slip(stack, writer, "share", "--to", "bob@example.com", config_dir=tmp_path,
                  stdin=b"s3cret")
    url = shared.stdout.decode().strip()
    base, key = url.split("#")
    cut = slip(stack, revealer, "reveal", f"{base}#{key[:-5]}", config_dir=tmp_path)
    assert cut.returncode == 6 and b"damaged" in cut.stderr
    altered = slip(stack, revealer, "reveal", f"{base}#{'A' * 43}", config_dir=tmp_path)
    assert altered.returncode == 6 and b"No view was used" in altered.stderr
    no_key = slip(stack, revealer, "reveal", base, config_dir=tmp_path)
    assert no_key.returncode == 6
    carol = token_for(stack, "carol@example.com", "secrets:reveal")
    denied = slip(stack, carol, "reveal", url, config_dir=tmp_path)
    assert denied.returncode == 1, denied.stderr
    no_scope = slip(stack, writer, "reveal", url, config_dir=tmp_path)
    assert no_scope.returncode == 1 and b"secrets:reveal" in no_scope.stderr
    # After all those, bob's one view is intact.
    assert slip(stack, revealer, "reveal", url, config_dir=tmp_path).stdout == b"s3cret"
    assert slip(stack, revealer, "reveal", "https://x/nothing", config_dir=tmp_path
                ).returncode == 2
    for bad in (["--expires", "45d"], ["--views", "0"], ["--format", "xml"]):
        usage = slip(stack, writer, "share", "--to", "bob@example.com", *bad,
                     config_dir=tmp_path, stdin=b"x")
        assert usage.returncode == 2, (bad, usage.stderr)
    reveal_only = slip(stack, revealer, "share", "--to", "alice@example.com",
                       config_dir=tmp_path, stdin=b"x")
    assert reveal_only.returncode == 1 and b"secrets:write" in reveal_only.stderr


def test_revoked_secret_and_revoked_token(stack: Stack, tokens: tuple[str, str],
                                          tmp_path: Path) -> None:
    writer, revealer = tokens
    shared = slip(stack, writer, "share", "--to", "bob@example.com", "--json",
                  config_dir=tmp_path, stdin=b"x")
    answer = json.loads(shared.stdout)
    assert slip(stack, writer, "revoke", answer["share_code"], config_dir=tmp_path
                ).returncode == 0
    gone = slip(stack, revealer, "reveal", answer["share_url"], config_dir=tmp_path)
    assert gone.returncode == 5 and b"revoked" in gone.stderr
    bob = stack.user("bob@example.com")
    for token in bob.api("GET", "/api/v1/tokens").json():
        bob.api("DELETE", f"/api/v1/tokens/{token['id']}")
    dead = slip(stack, revealer, "reveal", answer["share_url"], config_dir=tmp_path)
    assert dead.returncode == 3


def test_completion_scripts_name_every_command() -> None:
    for shell in ("bash", "zsh", "fish"):
        script = subprocess.run(
            [sys.executable, *SLIP, "completion", shell],
            env=slip_environment(Path("/nonexistent")), capture_output=True,
            text=True, check=True).stdout
        for word in ("share", "reveal", "login", "--expires", "--force"):
            assert word.lstrip("-") in script, (shell, word)
    bash = subprocess.run(
        ["bash", "-c", f"source <({sys.executable} -m cipherslip_cli completion bash); "
         "COMP_WORDS=(slip sh); COMP_CWORD=1; _slip; echo ${COMPREPLY[@]}"],
        env=slip_environment(Path("/nonexistent")), capture_output=True, text=True,
        check=True).stdout
    assert bash.split() == ["share"]


def test_an_external_recipient_reveals_with_the_emailed_link(
        stack: Stack, tokens: tuple[str, str], tmp_path: Path) -> None:
    writer, _ = tokens
    shared = slip(stack, writer, "share", "--to", "guest@partner.test", "--external",
                  "--views", "2", config_dir=tmp_path, stdin=b"vpn: s3cr3t\n")
    assert shared.returncode == 0, shared.stderr
    url = shared.stdout.decode().strip()
    environment = slip_environment(tmp_path)
    guest = subprocess.Popen(
        [sys.executable, *SLIP, "reveal", url, "--email", "guest@partner.test"],
        env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    [mail] = stack.smtp.mail.wait_for(1)
    [magic_link] = links_in(mail)
    output, errors = guest.communicate(magic_link.encode() + b"\n", timeout=60)
    assert guest.returncode == 0, errors
    assert output == b"vpn: s3cr3t\n"
    assert b"Paste the sign-in link" in errors
    # A sign-in link works once.
    again = subprocess.run(
        [sys.executable, *SLIP, "reveal", url, "--email", "guest@partner.test"],
        env=environment, input=magic_link.encode() + b"\n", capture_output=True, timeout=60,
        check=False)
    assert again.returncode == 1 and b"already used" in again.stderr
    assert again.stdout == b""


def test_a_failed_part_is_sealed_and_sent_again(stack: Stack, tokens: tuple[str, str],
                                                tmp_path: Path) -> None:
    writer, revealer = tokens
    original = tmp_path / "three parts.bin"
    original.write_bytes(os.urandom(17 * 2**20))
    with fault_proxy(stack.base_url) as (proxy, proxy_url):
        refusals = {"left": 2}

        def fails(method: str, path: str) -> bool:
            if method == "PUT" and path.endswith("/parts/2") and refusals["left"]:
                refusals["left"] -= 1
                return True
            return False

        proxy.fails = fails
        shared = subprocess.run(
            [sys.executable, *SLIP, "share", "--to", "bob@example.com",
             str(original)], capture_output=True, timeout=120, check=False,
            env=slip_environment(tmp_path, server=proxy_url, token=writer))
    assert shared.returncode == 0, shared.stderr
    puts = [path.rsplit("/", 1)[1] for method, path in proxy.seen
            if method == "PUT" and "/parts/" in path]
    assert sorted(puts) == ["1", "2", "2", "2", "3"]  # part 2 twice refused, then accepted
    target = tmp_path / "received.bin"
    revealed = slip(stack, revealer, "reveal", shared.stdout.decode().strip(), "-o",
                    str(target), config_dir=tmp_path)
    assert revealed.returncode == 0, revealed.stderr
    assert target.read_bytes() == original.read_bytes()


def test_request_answer_and_read_from_the_terminal(stack: Stack, tmp_path: Path) -> None:
    asker = token_for(stack, "alice@example.com", "secrets:write", "secrets:read",
                      "secrets:reveal")
    answerer = token_for(stack, "bob@example.com", "secrets:write", "secrets:read")
    asked = slip(stack, asker, "request", "--from", "bob@example.com", "--label", "DB pass",
                 "--format", "env", "--open-for", "2h", "--json", config_dir=tmp_path)
    assert asked.returncode == 0, asked.stderr
    url = json.loads(asked.stdout)["request_url"]
    assert "/r/" in url and "#" in url
    early = slip(stack, asker, "reveal", url, config_dir=tmp_path)
    assert early.returncode == 5 and b"no answer yet" in early.stderr
    wrong_format = slip(stack, answerer, "share", "--answer", url, config_dir=tmp_path,
                        stdin=b"x")
    assert wrong_format.returncode == 2 and b"--format env" in wrong_format.stderr
    damaged = slip(stack, answerer, "share", "--answer", url[:-4] + "AAAA", "--format", "env",
                   config_dir=tmp_path, stdin=b"A=1\n")
    assert damaged.returncode == 6 and b"Nothing was encrypted" in damaged.stderr
    answered = slip(stack, answerer, "share", "--answer", url, "--format", "env",
                    config_dir=tmp_path, stdin=b"DB_PASSWORD=s3cr3t\n")
    assert answered.returncode == 0, answered.stderr
    assert b"only alice@example.com can open it" in answered.stdout
    again = slip(stack, answerer, "share", "--answer", url, "--format", "env",
                 config_dir=tmp_path, stdin=b"B=2\n")
    assert again.returncode == 1, again.stderr  # answered once
    read = slip(stack, asker, "reveal", url, config_dir=tmp_path)
    assert read.returncode == 0, read.stderr
    assert read.stdout == b"DB_PASSWORD=s3cr3t\n"
    outsider = slip(stack, token_for(stack, "carol@example.com", "secrets:read",
                                     "secrets:reveal"), "reveal", url, config_dir=tmp_path)
    assert outsider.returncode == 1
    # Addresses outside the organization: only with --external.
    inside_only = slip(stack, asker, "request", "--from", "vendor@partner.test",
                       config_dir=tmp_path)
    assert inside_only.returncode == 1 and b"not members of your organization" in (
        inside_only.stderr)
    external = slip(stack, asker, "request", "--from", "vendor@partner.test", "--external",
                    config_dir=tmp_path)
    assert external.returncode == 0 and b"/r/" in external.stdout
