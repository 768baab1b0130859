// Share codes (against the committed vectors), base64url and link keys.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decodeBase64url, encodeBase64url } from "../../../web/js/lib/base64url.js";
import { InvalidInputError, InvalidShareCodeError } from "../../../web/js/lib/errors.js";
import { decodeLinkKey, encodeLinkKey, generateLinkKey } from "../../../web/js/lib/linkkey.js";
import {
  generateShareCode,
  normalizeShareCode,
  shareCodeBits,
  shareCodeFromBits,
} from "../../../web/js/lib/sharecode.js";
import { loadJson } from "./vectors.mjs";

const SHARE_CODES = loadJson("share_codes.json");

describe("share code vectors", () => {
  for (const { bits, code } of SHARE_CODES.encode) {
    test(`encode ${bits} → ${code}`, () => {
      assert.equal(shareCodeFromBits(BigInt(bits)), code);
      assert.equal(shareCodeBits(code), BigInt(bits));
    });
  }
  for (const { input, code } of SHARE_CODES.normalize) {
    test(`normalize ${JSON.stringify(input)} → ${code}`, () => {
      if (code === null) {
        assert.throws(() => normalizeShareCode(input), (error) => {
          assert.ok(error instanceof InvalidShareCodeError);
          assert.equal(error.field, "share_code");
          return true;
        });
      } else {
        assert.equal(normalizeShareCode(input), code);
      }
    });
  }
});

describe("share codes", () => {
  test("out-of-range bits are refused", () => {
    assert.throws(() => shareCodeFromBits(-1n), RangeError);
    assert.throws(() => shareCodeFromBits(1n << 60n), RangeError);
    assert.throws(() => shareCodeFromBits(5), RangeError);
  });

  test("generated codes are canonical and differ", () => {
    const codes = new Set(Array.from({ length: 20 }, generateShareCode));
    assert.equal(codes.size, 20);
    for (const code of codes) assert.equal(normalizeShareCode(code.toLowerCase()), code);
  });
});

describe("base64url", () => {
  const cases = [
    [[], ""], [[0], "AA"], [[0xff], "_w"], [[0xfb, 0xff], "-_8"], [[1, 2, 3], "AQID"],
    [[0xfa, 0xfb, 0xfc, 0xfd], "-vv8_Q"],
  ];
  for (const [bytes, text] of cases) {
    test(`${JSON.stringify(bytes)} ↔ ${JSON.stringify(text)}`, () => {
      assert.equal(encodeBase64url(new Uint8Array(bytes)), text);
      assert.deepEqual(decodeBase64url(text), new Uint8Array(bytes));
    });
  }

  test("round trips every length up to 70 against node's encoder", () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
      const text = encodeBase64url(bytes);
      assert.equal(text, Buffer.from(bytes).toString("base64url"));
      assert.deepEqual(decodeBase64url(text), bytes);
    }
  });

  for (const bad of ["AA==", "AA=", "A", "AAAAA", "AA AA", "AA\n", "+/AA", "AA.A", "ÄA"]) {
    test(`strictly refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => decodeBase64url(bad, { field: "link_key" }), (error) => {
        assert.ok(error instanceof InvalidInputError);
        assert.equal(error.field, "link_key");
        return true;
      });
    });
  }
});

describe("link keys", () => {
  test("32 random bytes, encoded for the fragment and back", () => {
    const linkKey = generateLinkKey();
    assert.equal(linkKey.length, 32);
    assert.notDeepEqual(generateLinkKey(), linkKey);
    const fragment = encodeLinkKey(linkKey);
    assert.equal(fragment.length, 43);
    assert.deepEqual(decodeLinkKey(fragment), linkKey);
    assert.deepEqual(decodeLinkKey(`#${fragment}`), linkKey);
  });

  test("a cut-off or padded fragment is refused with field link_key", () => {
    const fragment = encodeLinkKey(generateLinkKey());
    for (const bad of [fragment.slice(0, 40), `${fragment}=`, "", `${fragment}AAAA`]) {
      assert.throws(() => decodeLinkKey(bad), (error) => error.field === "link_key");
    }
  });
});

describe("the byte queue the stream decryptor reads records from", () => {
  test("takes return exactly the bytes pushed, in order, however they straddle chunks", async () => {
    const { ByteQueue } = await import("../../../web/js/lib/bytes.js");
    const queue = new ByteQueue();
    const pushed = Uint8Array.from({ length: 1000 }, (_, index) => index % 251);
    for (const [start, end] of [[0, 10], [10, 500], [500, 501], [501, 1000]]) {
      queue.push(pushed.subarray(start, end));
    }
    const taken = [];
    for (const count of [3, 7, 100, 389, 2, 499]) taken.push(...queue.take(count));
    assert.equal(queue.length, 0);
    assert.deepEqual(Uint8Array.from(taken), pushed);
  });

  test("a handed-over chunk is queued as it is, uncopied", async () => {
    const { ByteQueue } = await import("../../../web/js/lib/bytes.js");
    const queue = new ByteQueue();
    const network = Uint8Array.of(5, 6, 7, 8, 9);
    queue.push(network, { handedOver: true });
    queue.push(Uint8Array.of(10));
    const record = queue.take(3);
    assert.equal(record.buffer, network.buffer, "the record is a view of the network's buffer");
    assert.deepEqual(record, Uint8Array.of(5, 6, 7));
    assert.deepEqual(queue.takeAll(), Uint8Array.of(8, 9, 10));
  });

  test("what was taken stays as it was when the pusher reuses its buffer", async () => {
    const { ByteQueue } = await import("../../../web/js/lib/bytes.js");
    const queue = new ByteQueue();
    const buffer = Uint8Array.of(1, 2, 3, 4);
    queue.push(buffer);
    const first = queue.take(2);
    buffer.fill(9);
    assert.deepEqual(first, Uint8Array.of(1, 2));
    assert.deepEqual(queue.takeAll(), Uint8Array.of(3, 4));
  });
});
