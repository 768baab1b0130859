// File transfer in the browser: part plan, progress figures, the encrypting uploader and the
// decrypting download stream — with WebCrypto, Blob and streams as node provides them.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { describe, test } from "node:test";

import { DownloadFailed, TAMPERED_MESSAGE, decryptedStream } from "../../../web/js/files/decrypt.js";
import { FILE_MAX_BYTES, partsOf } from "../../../web/js/files/plan.js";
import { TransferMeter, describeProgress, formatBytes, formatDuration } from "../../../web/js/files/progress.js";
import { PartRefused, RetryableError } from "../../../web/js/files/send.js";
import { Aborted, uploadFile } from "../../../web/js/files/upload.js";
import { HEADER_SIZE, RECORD_SIZE, SEALED_RECORD_SIZE, TAG_SIZE, decryptContent, streamSize } from "../../../web/js/lib/csl1.js";

const RECORDS_PER_PART = 128;
const SECRET_ID = "0b7d6c2e-58f1-4c8a-9b7e-1f0d3a2c4e5f";

/** The server's plan for a size (core/services/uploads.py), to check partsOf against. */
function serverPlan(size) {
  const first = HEADER_SIZE + RECORDS_PER_PART * SEALED_RECORD_SIZE;
  const beyond = Math.max(0, streamSize(size) - first);
  return { part_count: 1 + Math.ceil(beyond / (RECORDS_PER_PART * SEALED_RECORD_SIZE)),
    records_per_part: RECORDS_PER_PART, direct: false, parts_url: "/parts" };
}

function randomBytes(length) {
  const bytes = new Uint8Array(length);
  for (let start = 0; start < length; start += 65536) {
    webcrypto.getRandomValues(bytes.subarray(start, Math.min(length, start + 65536)));
  }
  return bytes;
}

const keys = () => ({ linkKey: randomBytes(32), dataKey: randomBytes(32) });

describe("partsOf", () => {
  const record = RECORD_SIZE;
  const part = RECORDS_PER_PART * record;
  for (const size of [0, 1, record - 1, record, record + 1, part - 1, part, part + 1, 3 * part + 5, FILE_MAX_BYTES]) {
    test(`${size} bytes: parts cover the file and the stream exactly`, () => {
      const parts = partsOf(size, serverPlan(size));
      assert.equal(parts.reduce((sum, p) => sum + p.streamBytes, 0), streamSize(size));
      assert.equal(parts[0].plainStart, 0);
      assert.equal(parts.at(-1).plainEnd, size);
      for (let index = 1; index < parts.length; index++) {
        assert.equal(parts[index].plainStart, parts[index - 1].plainEnd);
        assert.equal(parts[index].firstRecord, parts[index - 1].firstRecord + RECORDS_PER_PART);
      }
      assert.deepEqual(parts.map((p) => p.hasFinalRecord), parts.map((_, i) => i === parts.length - 1));
    });
  }
  test("refuses 1 GiB + 1 byte and a plan it disagrees with", () => {
    assert.throws(() => partsOf(FILE_MAX_BYTES + 1, serverPlan(FILE_MAX_BYTES)), /0 to 1073741824 bytes/);
    assert.throws(() => partsOf(part + 1, { ...serverPlan(part + 1), part_count: 1 }), /plan mismatch/);
  });
});

describe("progress", () => {
  test("percent, speed over the last seconds and time left", () => {
    let now = 0;
    const meter = new TransferMeter(100_000_000, () => now);
    assert.equal(meter.update(0).bytesPerSecond, null);
    now = 1000;
    const first = meter.update(20_000_000);
    assert.equal(first.percent, 20);
    assert.equal(first.bytesPerSecond, 20_000_000);
    assert.equal(first.secondsLeft, 4);
    assert.equal(describeProgress(first), "20% · 20.0 MB of 100 MB · 20.0 MB/s · 4 s left");
    // The speed follows a slowdown instead of averaging over the whole transfer.
    for (let second = 2; second <= 10; second++) {
      now = second * 1000;
      meter.update(20_000_000 + (second - 1) * 1_000_000);
    }
    const slow = meter.update(29_000_000);
    assert.ok(slow.bytesPerSecond !== null && slow.bytesPerSecond <= 1_100_000, String(slow.bytesPerSecond));
    assert.equal(meter.update(100_000_000).percent, 100);
  });
  test("human units", () => {
    assert.deepEqual([0, 999, 1000, 12_345_678, 1_073_741_824].map(formatBytes),
      ["0 B", "999 B", "1.00 kB", "12.3 MB", "1.07 GB"]);
    assert.deepEqual([0.2, 42, 60, 125, 3600, 3725].map(formatDuration),
      ["1 s", "42 s", "1 min", "2 min 5 s", "1 h", "1 h 2 min"]);
  });
});

/** A part sender that stores parts, failing as told. */
class FakeStorage {
  constructor(failures = {}) {
    this.parts = new Map();
    this.failures = failures; // part number -> errors to throw first
    this.attempts = new Map();
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  async send(number, body, { onProgress, signal }) {
    this.attempts.set(number, (this.attempts.get(number) ?? 0) + 1);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (signal.aborted) throw new Aborted();
      const pending = this.failures[number];
      if (pending?.length) throw pending.shift();
      onProgress(body.size);
      this.parts.set(number, new Uint8Array(await body.arrayBuffer()));
    } finally {
      this.inFlight -= 1;
    }
  }

  stream() {
    const numbers = [...this.parts.keys()].sort((a, b) => a - b);
    const total = numbers.reduce((sum, n) => sum + this.parts.get(n).length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const n of numbers) {
      out.set(this.parts.get(n), offset);
      offset += this.parts.get(n).length;
    }
    return out;
  }
}

async function upload(plaintext, storage, { signal = new AbortController().signal, onProgress = () => {} } = {}) {
  const { linkKey, dataKey } = keys();
  const file = new File([plaintext], "key.pem");
  const created = { id: SECRET_ID, upload: serverPlan(plaintext.length) };
  const salt = await uploadFile({ file, created, linkKey, dataKey, onProgress, signal,
    sender: storage, retryDelaysMs: [1, 1, 1] });
  return { salt, linkKey, dataKey };
}

describe("uploadFile", () => {
  test("parts sent concurrently assemble into the stream of the file, retried parts included", async () => {
    const plaintext = randomBytes(5 * RECORDS_PER_PART * RECORD_SIZE + 1234);
    const storage = new FakeStorage({ 2: [new RetryableError("connection reset")], 4: [new RetryableError("503")] });
    const progress = [];
    const { salt, linkKey, dataKey } = await upload(plaintext, storage, { onProgress: (sent, total) => progress.push([sent, total]) });
    assert.equal(storage.parts.size, 6);
    assert.equal(storage.attempts.get(2), 2);
    assert.ok(storage.maxInFlight > 1 && storage.maxInFlight <= 4, String(storage.maxInFlight));
    const stream = storage.stream();
    assert.deepEqual(stream.subarray(8, 24), salt);
    assert.deepEqual(await decryptContent(stream, linkKey, dataKey, SECRET_ID), plaintext);
    assert.deepEqual(progress.at(-1), [streamSize(plaintext.length), streamSize(plaintext.length)]);
  });

  test("an empty file is one part holding the header and an empty final record", async () => {
    const storage = new FakeStorage();
    const { linkKey, dataKey } = await upload(new Uint8Array(0), storage);
    assert.equal(storage.stream().length, HEADER_SIZE + TAG_SIZE);
    assert.equal((await decryptContent(storage.stream(), linkKey, dataKey, SECRET_ID)).length, 0);
  });

  test("a refused part stops the upload with the server's reason, without retrying", async () => {
    const storage = new FakeStorage({ 1: [new PartRefused("part 1: this upload was cancelled")] });
    await assert.rejects(upload(randomBytes(3 * RECORDS_PER_PART * RECORD_SIZE), storage),
      /this upload was cancelled/);
    assert.equal(storage.attempts.get(1), 1);
  });

  test("a part that keeps failing gives up after the retries", async () => {
    const failures = Array.from({ length: 10 }, () => new RetryableError("the connection failed"));
    const storage = new FakeStorage({ 1: failures });
    await assert.rejects(upload(randomBytes(1000), storage), RetryableError);
    assert.equal(storage.attempts.get(1), 4);
  });

  test("Cancel stops the upload at once", async () => {
    const cancel = new AbortController();
    const storage = new FakeStorage();
    const uploading = upload(randomBytes(12 * RECORDS_PER_PART * RECORD_SIZE), storage, {
      signal: cancel.signal, onProgress: () => cancel.abort(),
    });
    await assert.rejects(uploading, Aborted);
    assert.ok(storage.parts.size < 12, String(storage.parts.size));
  });
});

/** A fetch over one stored stream: Range support, optional cut after some bytes. */
function fakeFetch(stream, { cutAt = [], status = 200 } = {}) {
  const cuts = [...cutAt];
  const calls = [];
  const fetchImpl = async (_url, { headers }) => {
    const range = headers.Range ? Number(/bytes=(\d+)-/.exec(headers.Range)[1]) : 0;
    calls.push(range);
    if (status !== 200) return new Response("gone", { status });
    const cut = cuts.length && cuts[0] > range ? cuts.shift() : stream.length;
    let sent = range;
    const body = new ReadableStream({
      pull(controller) {
        if (sent >= cut) {
          if (cut < stream.length) controller.error(new TypeError("network error"));
          else controller.close();
          return;
        }
        const end = Math.min(cut, sent + 100_000);
        controller.enqueue(stream.slice(sent, end));
        sent = end;
      },
    });
    return new Response(body, { status: range ? 206 : 200 });
  };
  return { fetchImpl, calls };
}

async function uploaded(size) {
  const plaintext = randomBytes(size);
  const storage = new FakeStorage();
  const { linkKey, dataKey } = await upload(plaintext, storage);
  return { plaintext, stream: storage.stream(), linkKey, dataKey };
}

async function drain(readable) {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

describe("decryptedStream", () => {
  test("decrypts as it downloads, resuming with Range where the connection broke", async () => {
    const { plaintext, stream, linkKey, dataKey } = await uploaded(3 * 1024 * 1024 + 17);
    const { fetchImpl, calls } = fakeFetch(stream, { cutAt: [1_000_001, 2_500_000] });
    let progress = 0;
    let done = false;
    const output = await drain(decryptedStream({ url: "/d", secretId: SECRET_ID, linkKey, dataKey,
      size: plaintext.length, fetchImpl, onProgress: (bytes) => { progress = bytes; }, onDone: () => { done = true; } }));
    assert.deepEqual(output, plaintext);
    assert.deepEqual(calls, [0, 1_000_001, 2_500_000]);
    assert.equal(progress, plaintext.length);
    assert.ok(done);
  });

  test("a flipped bit ends in the integrity error, not in a short file", async () => {
    const { plaintext, stream, linkKey, dataKey } = await uploaded(1024 * 1024);
    stream[500_000] ^= 1;
    let reported = null;
    const { fetchImpl } = fakeFetch(stream);
    await assert.rejects(drain(decryptedStream({ url: "/d", secretId: SECRET_ID, linkKey, dataKey,
      size: plaintext.length, fetchImpl, onError: (error) => { reported = error; } })),
    (error) => error instanceof DownloadFailed && error.kind === "integrity" && error.message === TAMPERED_MESSAGE);
    assert.equal(reported?.kind, "integrity");
  });

  test("a stream cut at a record boundary, or longer or shorter than the metadata, fails", async () => {
    const { plaintext, stream, linkKey, dataKey } = await uploaded(300_000);
    const cut = stream.slice(0, HEADER_SIZE + SEALED_RECORD_SIZE * 2);
    for (const [bytes, size] of [[cut, plaintext.length], [stream, plaintext.length - 1], [stream, plaintext.length + 1]]) {
      const { fetchImpl } = fakeFetch(bytes);
      await assert.rejects(drain(decryptedStream({ url: "/d", secretId: SECRET_ID, linkKey, dataKey, size, fetchImpl })),
        (error) => error instanceof DownloadFailed && error.kind === "integrity");
    }
  });

  test("an expired link says so; a connection that keeps failing gives up", async () => {
    const { plaintext, stream, linkKey, dataKey } = await uploaded(200_000);
    const expired = fakeFetch(stream, { status: 404 });
    await assert.rejects(drain(decryptedStream({ url: "/d", secretId: SECRET_ID, linkKey, dataKey,
      size: plaintext.length, fetchImpl: expired.fetchImpl })), (error) => error.kind === "expired" && /10 minutes/.test(error.message));
    const flaky = fakeFetch(stream, { cutAt: [50_000, 60_000, 70_000, 80_000, 90_000] });
    await assert.rejects(drain(decryptedStream({ url: "/d", secretId: SECRET_ID, linkKey, dataKey,
      size: plaintext.length, fetchImpl: flaky.fetchImpl })), (error) => error.kind === "network");
    assert.equal(flaky.calls.length, 4);
  });
});
