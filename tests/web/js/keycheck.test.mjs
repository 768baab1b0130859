// The link key's check, browser side: the committed vectors (derived by Python).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decodeBase64url, encodeBase64url } from "../../../web/js/lib/base64url.js";
import { KEY_CHECK_SIZE, deriveKeyCheck, keyChecksMatch } from "../../../web/js/lib/kdf.js";
import { loadJson } from "./vectors.mjs";

const VECTORS = loadJson("key_check.json");

describe("key check vectors", () => {
  for (const vector of VECTORS) {
    test(vector.name, async () => {
      const derived = await deriveKeyCheck(decodeBase64url(vector.link_key), vector.secret_id);
      assert.equal(derived.length, KEY_CHECK_SIZE);
      assert.equal(encodeBase64url(derived) === vector.key_check, vector.matches);
      assert.equal(keyChecksMatch(derived, decodeBase64url(vector.key_check)), vector.matches);
    });
  }
});

describe("deriveKeyCheck", () => {
  test("refuses a cut-off link key instead of checking it", async () => {
    await assert.rejects(deriveKeyCheck(new Uint8Array(16), "any"));
  });

  test("checks of different lengths never match", () => {
    assert.equal(keyChecksMatch(new Uint8Array(16), new Uint8Array(15)), false);
  });
});
