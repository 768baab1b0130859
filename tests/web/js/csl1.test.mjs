// CSL1 content stream against the committed vectors, in both directions (docs/FORMATS.md).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  Csl1Decryptor,
  Csl1Encryptor,
  Csl1Header,
  Csl1StreamDecryptor,
  Csl1StreamEncryptor,
  HEADER_SIZE,
  RECORD_SIZE,
  SEALED_RECORD_SIZE,
  decryptContent,
  encryptContent,
  plaintextSize,
  streamSize,
} from "../../../web/js/lib/csl1.js";
import { concatBytes } from "../../../web/js/lib/bytes.js";
import {
  StreamAuthenticationError,
  StreamFormatError,
  StreamTruncatedError,
} from "../../../web/js/lib/errors.js";
import { loadCsl1, splitIntoChunks } from "./vectors.mjs";

const VECTORS = loadCsl1();
const VALID = VECTORS.filter((vector) => vector.valid);
const INVALID = VECTORS.filter((vector) => !vector.valid);
// Not what an encryptor produces (it would make one full final record), but a valid stream.
const NON_CANONICAL = new Set(["full record then empty final record"]);
const ERROR_CLASSES = {
  authentication: StreamAuthenticationError,
  truncated: StreamTruncatedError,
  format: StreamFormatError,
};

/** Decrypt through the chunk-framing API, feeding `chunkSize` bytes at a time. */
async function decryptInChunks(vector, chunkSize) {
  const decryptor = new Csl1StreamDecryptor(vector.link_key, vector.data_key, vector.secret_id);
  const plaintextRecords = [];
  for (const chunk of splitIntoChunks(vector.stream, chunkSize)) {
    plaintextRecords.push(...await decryptor.push(chunk));
  }
  plaintextRecords.push(await decryptor.finish());
  return concatBytes(...plaintextRecords);
}

test("the vectors cover what the format promises", () => {
  const sizes = new Set(VALID.map((vector) => vector.plaintext.length));
  for (const size of [0, 1, 65_535, 65_536, 65_537, 200_000]) assert.ok(sizes.has(size), `${size}`);
  const kinds = new Set(INVALID.map((vector) => vector.error));
  assert.deepEqual([...kinds].sort(), ["authentication", "format", "truncated"]);
  assert.ok(VECTORS.some((vector) => NON_CANONICAL.has(vector.name)));
});

describe("valid vectors decrypt to their plaintext", () => {
  for (const vector of VALID) {
    test(`whole buffer: ${vector.name}`, async () => {
      const plaintext = await decryptContent(
        vector.stream, vector.link_key, vector.data_key, vector.secret_id,
      );
      assert.deepEqual(plaintext, vector.plaintext);
    });

    for (const chunkSize of [1 + 7918, 65_551, 100_003]) {
      test(`in ${chunkSize}-byte chunks: ${vector.name}`, async () => {
        assert.deepEqual(await decryptInChunks(vector, chunkSize), vector.plaintext);
      });
    }
  }

  test("byte by byte through the header, then the rest", async () => {
    const vector = VALID.find((candidate) => candidate.plaintext.length === 65_537);
    const decryptor = new Csl1StreamDecryptor(vector.link_key, vector.data_key, vector.secret_id);
    const plaintextRecords = [];
    for (let offset = 0; offset < HEADER_SIZE + 3; offset++) {
      plaintextRecords.push(...await decryptor.push(vector.stream.subarray(offset, offset + 1)));
    }
    plaintextRecords.push(...await decryptor.push(vector.stream.subarray(HEADER_SIZE + 3)));
    plaintextRecords.push(await decryptor.finish());
    assert.deepEqual(concatBytes(...plaintextRecords), vector.plaintext);
  });

  test("record by record with Csl1Decryptor.openRecord", async () => {
    for (const vector of VALID) {
      const decryptor = await Csl1Decryptor.create(
        vector.link_key, vector.data_key, vector.secret_id, vector.stream.subarray(0, HEADER_SIZE),
      );
      const body = vector.stream.subarray(HEADER_SIZE);
      const sealedRecords = splitIntoChunks(body, SEALED_RECORD_SIZE);
      if (sealedRecords.length === 0) sealedRecords.push(body);
      const plaintextRecords = [];
      for (const [index, sealedRecord] of sealedRecords.entries()) {
        const final = index === sealedRecords.length - 1;
        plaintextRecords.push(await decryptor.openRecord(sealedRecord, { final }));
      }
      assert.ok(decryptor.finished, vector.name);
      assert.deepEqual(concatBytes(...plaintextRecords), vector.plaintext, vector.name);
    }
  });
});

describe("invalid vectors are rejected with their reason", () => {
  for (const vector of INVALID) {
    test(`whole buffer: ${vector.name} → ${vector.error}`, async () => {
      await assert.rejects(
        decryptContent(vector.stream, vector.link_key, vector.data_key, vector.secret_id),
        (error) => {
          assert.ok(error instanceof ERROR_CLASSES[vector.error], `${error}`);
          assert.equal(error.kind, vector.error);
          return true;
        },
      );
    });

    test(`in 7919-byte chunks: ${vector.name} → ${vector.error}`, async () => {
      await assert.rejects(decryptInChunks(vector, 7919), (error) => {
        assert.equal(error.kind, vector.error, `${error}`);
        return true;
      });
    });
  }
});

describe("encryption reproduces the committed streams byte for byte", () => {
  for (const vector of VALID.filter((candidate) => !NON_CANONICAL.has(candidate.name))) {
    const header = vector.stream.subarray(0, HEADER_SIZE);

    test(`encryptContent: ${vector.name}`, async () => {
      const stream = await encryptContent(
        vector.plaintext, vector.link_key, vector.data_key, vector.secret_id, { header },
      );
      assert.equal(stream.length, vector.stream.length);
      assert.deepEqual(stream, vector.stream);
    });

    test(`Csl1StreamEncryptor in 4099-byte chunks: ${vector.name}`, async () => {
      const encryptor = await Csl1StreamEncryptor.create(
        vector.link_key, vector.data_key, vector.secret_id, { header: Csl1Header.parse(header) },
      );
      const parts = [encryptor.header];
      for (const chunk of splitIntoChunks(vector.plaintext, 4099)) {
        parts.push(...await encryptor.push(chunk));
      }
      parts.push(await encryptor.finish());
      assert.deepEqual(concatBytes(...parts), vector.stream);
    });
  }

  test("the non-canonical split vector is reproduced by the record API", async () => {
    const vector = VALID.find((candidate) => NON_CANONICAL.has(candidate.name));
    const encryptor = await Csl1Encryptor.create(
      vector.link_key, vector.data_key, vector.secret_id,
      { header: vector.stream.subarray(0, HEADER_SIZE) },
    );
    const stream = concatBytes(
      encryptor.header,
      await encryptor.sealRecord(vector.plaintext, { final: false }),
      await encryptor.sealRecord(new Uint8Array(0), { final: true }),
    );
    assert.deepEqual(stream, vector.stream);
  });
});

describe("round trips and framing rules", () => {
  const linkKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(32));

  for (const size of [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 300_001]) {
    test(`random header, ${size} bytes: sizes agree and it decrypts`, async () => {
      const plaintext = new Uint8Array(size).map((_, index) => (index * 31) & 0xff);
      const stream = await encryptContent(plaintext, linkKey, dataKey, "secret-1");
      assert.equal(stream.length, streamSize(size));
      assert.equal(plaintextSize(stream.length), size);
      assert.deepEqual(await decryptContent(stream, linkKey, dataKey, "secret-1"), plaintext);
      await assert.rejects(decryptContent(stream, linkKey, dataKey, "secret-2"),
        StreamAuthenticationError);
    });
  }

  test("two encryptions of the same plaintext differ (fresh header)", async () => {
    const plaintext = new Uint8Array([1, 2, 3]);
    const first = await encryptContent(plaintext, linkKey, dataKey, "s");
    const second = await encryptContent(plaintext, linkKey, dataKey, "s");
    assert.notDeepEqual(first.subarray(8, 31), second.subarray(8, 31));
  });

  for (const length of [0, 31, 32, 47, 32 + 65_552 + 1, 32 + 65_552 + 15]) {
    test(`plaintextSize rejects ${length}, which cannot be a stream`, () => {
      assert.throws(() => plaintextSize(length), StreamFormatError);
    });
  }

  test("the encryptor refuses records after the final one", async () => {
    const encryptor = await Csl1Encryptor.create(linkKey, dataKey, "s");
    await encryptor.sealRecord(new Uint8Array([1]), { final: true });
    await assert.rejects(encryptor.sealRecord(new Uint8Array([2]), { final: true }),
      StreamFormatError);
  });

  test("the encryptor refuses short non-final and oversized records", async () => {
    const encryptor = await Csl1Encryptor.create(linkKey, dataKey, "s");
    await assert.rejects(encryptor.sealRecord(new Uint8Array(5), { final: false }), /64 KiB/);
    await assert.rejects(encryptor.sealRecord(new Uint8Array(RECORD_SIZE + 1), { final: true }),
      /64 KiB/);
  });

  test("concurrent sealRecord calls get consecutive positions", async () => {
    const header = Csl1Header.generate();
    const plaintext = new Uint8Array(2 * RECORD_SIZE + 10).fill(7);
    const concurrent = await Csl1Encryptor.create(linkKey, dataKey, "s", { header });
    const sealedRecords = await Promise.all([
      concurrent.sealRecord(plaintext.subarray(0, RECORD_SIZE), { final: false }),
      concurrent.sealRecord(plaintext.subarray(RECORD_SIZE, 2 * RECORD_SIZE), { final: false }),
      concurrent.sealRecord(plaintext.subarray(2 * RECORD_SIZE), { final: true }),
    ]);
    const expected = await encryptContent(plaintext, linkKey, dataKey, "s", { header });
    assert.deepEqual(concatBytes(concurrent.header, ...sealedRecords), expected);
  });

  test("header parse rejects reserved bytes and short input; serialization round trips", () => {
    const header = Csl1Header.generate();
    const headerBytes = header.toBytes();
    assert.equal(headerBytes.length, HEADER_SIZE);
    assert.deepEqual(Csl1Header.parse(headerBytes).toBytes(), headerBytes);
    for (const index of [7, 31]) {
      const altered = headerBytes.slice();
      altered[index] = 1;
      assert.throws(() => Csl1Header.parse(altered), /reserved/);
    }
    assert.throws(() => Csl1Header.parse(headerBytes.subarray(0, 31)), StreamFormatError);
    assert.throws(() => new Csl1Header(new Uint8Array(15), new Uint8Array(7)), StreamFormatError);
  });

  test("a stream shorter than its header is a format error, whole or chunked", async () => {
    const short = Csl1Header.generate().toBytes().subarray(0, 20);
    await assert.rejects(decryptContent(short, linkKey, dataKey, "s"), StreamFormatError);
    const decryptor = new Csl1StreamDecryptor(linkKey, dataKey, "s");
    assert.deepEqual(await decryptor.push(short), []);
    await assert.rejects(decryptor.finish(), StreamFormatError);
  });

  test("overlapping push() calls are refused instead of reordering records", async () => {
    const decryptor = new Csl1StreamDecryptor(linkKey, dataKey, "s");
    const first = decryptor.push(new Uint8Array(40));
    await assert.rejects(decryptor.push(new Uint8Array(1)), /await each/);
    await first.catch(() => {});
  });

  test("keys of the wrong size are refused", async () => {
    await assert.rejects(encryptContent(new Uint8Array(1), new Uint8Array(31), dataKey, "s"),
      RangeError);
    await assert.rejects(encryptContent(new Uint8Array(1), linkKey, new Uint8Array(33), "s"),
      RangeError);
  });
});
