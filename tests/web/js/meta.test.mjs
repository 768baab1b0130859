// Sealed metadata against the committed vectors: sealing reproduces Python's bytes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { StreamAuthenticationError, StreamFormatError } from "../../../web/js/lib/errors.js";
import { encodeMeta, openMeta, sealMeta } from "../../../web/js/lib/meta.js";
import { utf8Encode } from "../../../web/js/lib/bytes.js";
import { loadCsl1 } from "./vectors.mjs";

const VECTORS = loadCsl1();

/** The vectors' meta_valid promise: the salt comes from bytes 8..24 of the stream. */
function metaArguments(vector) {
  return [vector.link_key, vector.data_key, vector.secret_id, vector.stream.subarray(8, 24)];
}

describe("sealed metadata vectors", () => {
  for (const vector of VECTORS) {
    if (vector.meta_valid) {
      test(`opens to its meta: ${vector.name}`, async () => {
        assert.deepEqual(await openMeta(vector.sealed_meta, ...metaArguments(vector)), vector.meta);
      });

      test(`sealing reproduces the bytes: ${vector.name}`, async () => {
        const sealedMeta = await sealMeta(vector.meta, ...metaArguments(vector));
        assert.deepEqual(sealedMeta, vector.sealed_meta);
      });
    } else {
      test(`is rejected: ${vector.name}`, async () => {
        await assert.rejects(openMeta(vector.sealed_meta, ...metaArguments(vector)),
          StreamAuthenticationError);
      });
    }
  }
});

describe("canonical JSON", () => {
  test("keys in the documented order (docs/FORMATS.md), compact, raw UTF-8 (no \\u escapes for non-ASCII)", () => {
    const meta = { size: 3, type: "application/x-pem-file", name: "clé 🔑.pem", format: "file" };
    assert.equal(new TextDecoder().decode(encodeMeta(meta)),
      '{"format":"file","name":"clé 🔑.pem","type":"application/x-pem-file","size":3}');
  });

  test("control characters and quotes are escaped the way Python's json.dumps does", () => {
    const meta = { format: "file", name: 'a"b\\c\n\t\u0001\u007f\u2028', type: "x", size: 0 };
    // Expected bytes written out by hand from json.dumps(..., ensure_ascii=False).
    const expected = '{"format":"file","name":"a\\"b\\\\c\\n\\t\\u0001\u007f\u2028","type":"x","size":0}';
    assert.deepEqual(encodeMeta(meta), utf8Encode(expected));
  });

  const invalidMetas = {
    "unknown format": { format: "html", name: null, type: "t", size: 1 },
    "missing key": { format: "text", name: null, type: "t" },
    "extra key": { format: "text", name: null, type: "t", size: 1, label: "x" },
    "negative size": { format: "text", name: null, type: "t", size: -1 },
    "fractional size": { format: "text", name: null, type: "t", size: 1.5 },
    "boolean size": { format: "text", name: null, type: "t", size: true },
    "numeric name": { format: "file", name: 5, type: "t", size: 1 },
    "lone surrogate in name": { format: "file", name: "a\ud800", type: "t", size: 1 },
    "null type": { format: "text", name: null, type: null, size: 1 },
  };
  for (const [what, meta] of Object.entries(invalidMetas)) {
    test(`refuses ${what}`, () => {
      assert.throws(() => encodeMeta(meta), StreamFormatError);
    });
  }
});

describe("opening", () => {
  const linkKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const meta = { format: "json", name: null, type: "application/json", size: 12 };

  test("round trip, and each input is bound", async () => {
    const sealedMeta = await sealMeta(meta, linkKey, dataKey, "secret-1", salt);
    assert.deepEqual(await openMeta(sealedMeta, linkKey, dataKey, "secret-1", salt), meta);
    const otherSalt = salt.slice();
    otherSalt[0] ^= 1;
    for (const args of [
      [linkKey, dataKey, "secret-2", salt],
      [dataKey, linkKey, "secret-1", salt],
      [linkKey, dataKey, "secret-1", otherSalt],
    ]) {
      await assert.rejects(openMeta(sealedMeta, ...args), StreamAuthenticationError);
    }
  });
});
