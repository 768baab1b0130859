"""The bundled browser crypto (web/static/dist/cipherslip-crypto.js) against every committed
vector, in real headless Chromium with real WebCrypto, under the product's strict CSP.

The page only *observes* (plaintext digests, error kinds, opened keys); Python compares with
the vectors, so each failure names its vector. Interop is also checked live in both
directions: Python seals a data key to a browser key pair, and Python decrypts a stream the
browser encrypted.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cipherslip_crypto import csl1, hpke
from cipherslip_crypto.encoding import b64url_decode, b64url_encode
from cipherslip_crypto.meta import open_meta
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tests.support.assets import ensure_bundles
from tests.support.servers import serve
from tests.support.vector_files import load_csl1, load_json
from tests.support.vectors import VECTOR_DIR

pytestmark = [pytest.mark.browser, pytest.mark.node]

# No 'unsafe-inline', no 'unsafe-eval': the bundle must load and run under this.
CSP = "default-src 'none'; script-src 'self'; connect-src 'self'"
# Valid, but not what an encryptor produces, so re-encryption is not expected to match it.
NON_CANONICAL = {"full record then empty final record"}
CHUNK_SIZE = 7919

CSL1_CASES = load_csl1()
HPKE_CASES = load_json("hpke.json")
KEY_CHECK_CASES = load_json("key_check.json")
SHARE_CODES = load_json("share_codes.json")

RUN_VECTORS_JS = """
async (chunkSize) => {
  const lib = await import("/cipherslip-crypto.js");
  const fetchJson = async (name) => {
    const response = await fetch(`/vectors/${name}`);
    if (!response.ok) throw new Error(`GET /vectors/${name}: ${response.status}`);
    return response.json();
  };
  const bytes = lib.decodeBase64url;
  const sha256 = async (input) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", input))]
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const outcome = async (operation) => {
    try {
      return { value: await operation() };
    } catch (error) {
      return { error: error.kind ?? error.name, message: String(error.message) };
    }
  };
  const decryptInChunks = async (stream, linkKey, dataKey, secretId) => {
    const decryptor = new lib.Csl1StreamDecryptor(linkKey, dataKey, secretId);
    const records = [];
    for (let offset = 0; offset < stream.length; offset += chunkSize) {
      records.push(...await decryptor.push(stream.subarray(offset, offset + chunkSize)));
    }
    records.push(await decryptor.finish());
    const plaintext = new Uint8Array(records.reduce((total, record) => total + record.length, 0));
    let offset = 0;
    for (const record of records) { plaintext.set(record, offset); offset += record.length; }
    return plaintext;
  };

  const csl1 = {};
  for (const vector of await fetchJson("csl1.json")) {
    const [stream, linkKey, dataKey] = [vector.stream, vector.link_key, vector.data_key].map(bytes);
    const metaArgs = [linkKey, dataKey, vector.secret_id, stream.subarray(8, 24)];
    csl1[vector.name] = {
      decrypt: await outcome(async () =>
        sha256(await lib.decryptContent(stream, linkKey, dataKey, vector.secret_id))),
      chunked: await outcome(async () =>
        sha256(await decryptInChunks(stream, linkKey, dataKey, vector.secret_id))),
      reencrypt: await outcome(async () => sha256(await lib.encryptContent(
        bytes(vector.plaintext), linkKey, dataKey, vector.secret_id,
        { header: stream.subarray(0, 32) }))),
      metaOpen: await outcome(() => lib.openMeta(bytes(vector.sealed_meta), ...metaArgs)),
      metaSeal: await outcome(async () => sha256(await lib.sealMeta(vector.meta, ...metaArgs))),
    };
  }

  const ecdh = { name: "ECDH", namedCurve: "P-256" };
  const hpke = {};
  for (const vector of await fetchJson("hpke.json")) {
    hpke[vector.name] = await outcome(async () => {
      const { d, ...publicJwk } = vector.recipient_jwk;
      const keyPair = {
        privateKey: await crypto.subtle.importKey(
          "jwk", vector.recipient_jwk, ecdh, false, ["deriveBits"]),
        publicKey: await crypto.subtle.importKey("jwk", publicJwk, ecdh, true, []),
      };
      const dataKey = await lib.openDataKey(
        keyPair, bytes(vector.sealed), vector.secret_id, vector.purpose);
      return lib.encodeBase64url(dataKey);
    });
  }

  const keyChecks = {};
  for (const vector of await fetchJson("key_check.json")) {
    keyChecks[vector.name] = await outcome(async () => {
      const derived = await lib.deriveKeyCheck(bytes(vector.link_key), vector.secret_id);
      return { derived: lib.encodeBase64url(derived),
               matches: lib.keyChecksMatch(derived, bytes(vector.key_check)) };
    });
  }

  const shareCodes = await fetchJson("share_codes.json");
  const encode = {};
  for (const { bits } of shareCodes.encode) {
    encode[bits] = await outcome(() => lib.shareCodeFromBits(BigInt(bits)));
  }
  const normalize = {};
  for (const { input } of shareCodes.normalize) {
    normalize[input] = await outcome(() => lib.normalizeShareCode(input));
  }
  return { csl1, hpke, keyChecks, encode, normalize };
}
"""


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture(scope="module")
def crypto_bundle() -> Path:
    return ensure_bundles() / "cipherslip-crypto.js"


# A module script run by the page itself (not through DevTools, which may bypass CSP): it
# records CSP violations and does a small round trip, so a bundle that needed eval or inline
# script would show up here.
CSP_PROBE_JS = """
const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
window.cspViolations = violations;
try {
  const lib = await import("/cipherslip-crypto.js");
  const linkKey = lib.generateLinkKey();
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  const plaintext = new TextEncoder().encode("probe");
  const stream = await lib.encryptContent(plaintext, linkKey, dataKey, "probe");
  const opened = await lib.decryptContent(stream, linkKey, dataKey, "probe");
  await lib.newRecipientKeyPair();
  document.documentElement.dataset.probe =
    new TextDecoder().decode(opened) === "probe" ? "ok" : "round trip mismatch";
} catch (error) {
  document.documentElement.dataset.probe = `${error.name}: ${error.message}`;
}
"""


async def _index(_request: Request) -> HTMLResponse:
    # An http://127.0.0.1 origin is a secure context, so WebCrypto is available.
    return HTMLResponse(
        "<!doctype html><title>Cipherslip crypto vectors</title>"
        '<script type="module" src="/csp-probe.js"></script>',
        headers={"Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer"},
    )


async def _csp_probe(_request: Request) -> Response:
    return Response(CSP_PROBE_JS, media_type="text/javascript")


@pytest.fixture(scope="module")
def page(crypto_bundle: Path, browser: Browser) -> Iterator[Page]:
    app = Starlette(routes=[
        Route("/", _index),
        Route("/csp-probe.js", _csp_probe),
        Mount("/vectors", StaticFiles(directory=VECTOR_DIR)),
        Mount("/", StaticFiles(directory=crypto_bundle.parent)),
    ])
    with serve(app) as server:
        context = browser.new_context()
        try:
            opened = context.new_page()
            opened.goto(f"{server.url}/")
            yield opened
        finally:
            context.close()


@pytest.fixture(scope="module")
def results(page: Page) -> dict[str, Any]:
    observed: dict[str, Any] = page.evaluate(RUN_VECTORS_JS, CHUNK_SIZE)
    return observed


def test_bundle_runs_in_a_secure_context_under_the_strict_csp(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.probe !== undefined")
    assert page.evaluate("() => document.documentElement.dataset.probe") == "ok"
    assert page.evaluate("() => window.isSecureContext") is True
    # The CSP is really enforced on this page: an inline script does not run...
    inline_ran = page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineScriptRan = true";
        document.head.append(script);
        return window.inlineScriptRan === true;
    }""")
    assert inline_ran is False
    page.wait_for_function("() => window.cspViolations.length > 0")
    # ...and is reported; the bundle itself caused no violation.
    violations = page.evaluate("() => window.cspViolations")
    assert violations == ["script-src-elem inline"], violations


def test_every_vector_was_run(results: dict[str, Any]) -> None:
    assert set(results["csl1"]) == {case["name"] for case in CSL1_CASES}
    assert set(results["hpke"]) == {case["name"] for case in HPKE_CASES}
    assert set(results["keyChecks"]) == {case["name"] for case in KEY_CHECK_CASES}
    assert set(results["encode"]) == {case["bits"] for case in SHARE_CODES["encode"]}
    assert set(results["normalize"]) == {case["input"] for case in SHARE_CODES["normalize"]}


@pytest.mark.parametrize("case", CSL1_CASES, ids=lambda case: str(case["name"]))
def test_csl1_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    observed = results["csl1"][case["name"]]
    if case["valid"]:
        expected = {"value": _sha256(case["plaintext"])}
        assert observed["decrypt"] == expected
        assert observed["chunked"] == expected
        if case["name"] not in NON_CANONICAL:
            assert observed["reencrypt"] == {"value": _sha256(case["stream"])}
    else:
        assert observed["decrypt"].get("error") == case["error"], observed["decrypt"]
        assert observed["chunked"].get("error") == case["error"], observed["chunked"]


@pytest.mark.parametrize("case", CSL1_CASES, ids=lambda case: str(case["name"]))
def test_sealed_meta_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    observed = results["csl1"][case["name"]]
    if case["meta_valid"]:
        assert observed["metaOpen"] == {"value": case["meta"]}
        assert observed["metaSeal"] == {"value": _sha256(case["sealed_meta"])}
    else:
        assert observed["metaOpen"].get("error") == "authentication", observed["metaOpen"]


@pytest.mark.parametrize("case", HPKE_CASES, ids=lambda case: str(case["name"]))
def test_hpke_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    observed = results["hpke"][case["name"]]
    if case["valid"]:
        assert observed == {"value": case["data_key"]}
    else:
        assert observed.get("error") == "key_transport", observed


@pytest.mark.parametrize("case", SHARE_CODES["encode"], ids=lambda case: str(case["bits"]))
def test_share_code_encode_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    assert results["encode"][case["bits"]] == {"value": case["code"]}


@pytest.mark.parametrize("case", SHARE_CODES["normalize"], ids=lambda case: repr(case["input"]))
def test_share_code_normalize_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    observed = results["normalize"][case["input"]]
    if case["code"] is None:
        assert observed.get("error") == "invalid_input", observed
    else:
        assert observed == {"value": case["code"]}


def test_python_seals_a_data_key_that_the_browser_opens(page: Page) -> None:
    """The vault's real sealing code against a fresh non-extractable browser key pair."""
    recipient = page.evaluate("""async () => {
        const lib = await import("/cipherslip-crypto.js");
        const { keyPair, publicKeyRaw } = await lib.newRecipientKeyPair();
        window.recipientKeyPair = keyPair;
        let exported = "refused";
        try { await crypto.subtle.exportKey("pkcs8", keyPair.privateKey); exported = "allowed"; }
        catch (error) { exported = error.name; }
        return { publicKey: lib.encodeBase64url(publicKeyRaw),
                 extractable: keyPair.privateKey.extractable, exported };
    }""")
    assert recipient["extractable"] is False
    assert recipient["exported"] == "InvalidAccessError"
    data_key = os.urandom(32)
    sealed = hpke.seal_data_key(
        data_key, b64url_decode(recipient["publicKey"]), "secret-42", "reveal"
    )
    open_js = """async ([sealed, purpose]) => {
        const lib = await import("/cipherslip-crypto.js");
        try {
            const dataKey = await lib.openDataKey(
                window.recipientKeyPair, lib.decodeBase64url(sealed), "secret-42", purpose);
            return { value: lib.encodeBase64url(dataKey) };
        } catch (error) { return { error: error.kind }; }
    }"""
    assert page.evaluate(open_js, [b64url_encode(sealed), "reveal"]) == {
        "value": b64url_encode(data_key)
    }
    assert page.evaluate(open_js, [b64url_encode(sealed), "create"]) == {"error": "key_transport"}


def test_browser_encrypts_a_stream_that_python_decrypts(page: Page) -> None:
    """Random header and keys made in the browser; Python's reference code opens the result."""
    made = page.evaluate("""async () => {
        const lib = await import("/cipherslip-crypto.js");
        const plaintext = new Uint8Array(65536 * 2 + 77);
        // getRandomValues fills at most 64 KiB per call.
        for (let offset = 0; offset < plaintext.length; offset += 65536) {
            crypto.getRandomValues(plaintext.subarray(offset, offset + 65536));
        }
        const linkKey = lib.generateLinkKey();
        const dataKey = crypto.getRandomValues(new Uint8Array(32));
        const stream = await lib.encryptContent(plaintext, linkKey, dataKey, "secret-7");
        const meta = { format: "file", name: "nøkkel.pem", type: "application/x-pem-file",
                       size: plaintext.length };
        const sealedMeta = await lib.sealMeta(
            meta, linkKey, dataKey, "secret-7", stream.subarray(8, 24));
        const b64 = lib.encodeBase64url;
        return { plaintext: b64(plaintext), linkKey: b64(linkKey), dataKey: b64(dataKey),
                 stream: b64(stream), sealedMeta: b64(sealedMeta), meta };
    }""")
    link_key, data_key = b64url_decode(made["linkKey"]), b64url_decode(made["dataKey"])
    stream = b64url_decode(made["stream"])
    plaintext = b64url_decode(made["plaintext"])
    assert len(stream) == csl1.stream_size(len(plaintext))
    assert csl1.decrypt(stream, link_key, data_key, "secret-7") == plaintext
    sealed_meta = b64url_decode(made["sealedMeta"])
    assert open_meta(sealed_meta, link_key, data_key, "secret-7", stream[8:24]) == made["meta"]


@pytest.mark.parametrize("case", KEY_CHECK_CASES, ids=lambda case: str(case["name"]))
def test_key_check_vector(case: dict[str, Any], results: dict[str, Any]) -> None:
    observed = results["keyChecks"][case["name"]]["value"]
    assert observed["matches"] is case["matches"]
    assert (observed["derived"] == case["key_check"]) is case["matches"]
