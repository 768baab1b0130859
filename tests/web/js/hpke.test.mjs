// HPKE key transport, browser side: the committed vectors (sealed by Python) and round trips
// with a fresh non-extractable key pair.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decodeBase64url } from "../../../web/js/lib/base64url.js";
import { KeyTransportError } from "../../../web/js/lib/errors.js";
import {
  HPKE_SUITE,
  SEALED_KEY_SIZE,
  newRecipientKeyPair,
  openDataKey,
  sealInfo,
} from "../../../web/js/lib/hpke.js";
import { loadJson } from "./vectors.mjs";

const VECTORS = loadJson("hpke.json");
const subtle = globalThis.crypto.subtle;
const ECDH_P256 = { name: "ECDH", namedCurve: "P-256" };

/** The vector's JWK as a key pair whose private half is non-extractable, like in the browser. */
async function importRecipient(jwk) {
  const privateKey = await subtle.importKey("jwk", jwk, ECDH_P256, false, ["deriveBits"]);
  const { d: _privateScalar, ...publicJwk } = jwk;
  const publicKey = await subtle.importKey("jwk", publicJwk, ECDH_P256, true, []);
  return { privateKey, publicKey };
}

/** Seal the way the vault does (@hpke/core instead of Python's cryptography). */
async function sealDataKey(dataKey, publicKeyRaw, secretId, purpose) {
  const recipientPublicKey = await HPKE_SUITE.kem.deserializePublicKey(publicKeyRaw);
  const { enc, ct } = await HPKE_SUITE.seal(
    { recipientPublicKey, info: sealInfo(secretId, purpose) }, dataKey,
  );
  return new Uint8Array([...new Uint8Array(enc), ...new Uint8Array(ct)]);
}

describe("HPKE vectors sealed by Python", () => {
  for (const vector of VECTORS) {
    test(`${vector.name} (${vector.description}) → ${vector.valid ? "opens" : "refused"}`,
      async () => {
        const keyPair = await importRecipient(vector.recipient_jwk);
        const publicKeyRaw = new Uint8Array(await subtle.exportKey("raw", keyPair.publicKey));
        assert.deepEqual(publicKeyRaw, decodeBase64url(vector.public_key));
        const opening = openDataKey(
          keyPair, decodeBase64url(vector.sealed), vector.secret_id, vector.purpose,
        );
        if (vector.valid) {
          assert.deepEqual(await opening, decodeBase64url(vector.data_key));
        } else {
          await assert.rejects(opening, KeyTransportError);
        }
      });
  }
});

describe("round trip with newRecipientKeyPair", () => {
  test("the private key is non-extractable and the public key is 65 raw bytes", async () => {
    const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
    assert.equal(keyPair.privateKey.extractable, false);
    assert.deepEqual(keyPair.privateKey.algorithm, ECDH_P256);
    assert.equal(publicKeyRaw.length, 65);
    assert.equal(publicKeyRaw[0], 0x04);
    for (const format of ["pkcs8", "jwk", "raw"]) {
      await assert.rejects(subtle.exportKey(format, keyPair.privateKey));
    }
  });

  test("@hpke/core seals to it and openDataKey opens, bound to secret and purpose", async () => {
    const { keyPair, publicKeyRaw } = await newRecipientKeyPair();
    const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const sealed = await sealDataKey(dataKey, publicKeyRaw, "secret-1", "reveal");
    assert.equal(sealed.length, SEALED_KEY_SIZE);
    assert.deepEqual(await openDataKey(keyPair, sealed, "secret-1", "reveal"), dataKey);
    await assert.rejects(openDataKey(keyPair, sealed, "secret-1", "create"), KeyTransportError);
    await assert.rejects(openDataKey(keyPair, sealed, "secret-2", "reveal"), KeyTransportError);
    const other = await newRecipientKeyPair();
    await assert.rejects(openDataKey(other.keyPair, sealed, "secret-1", "reveal"),
      KeyTransportError);
    // Fresh ephemeral key on every seal.
    assert.notDeepEqual(await sealDataKey(dataKey, publicKeyRaw, "secret-1", "reveal"), sealed);
  });

  test("malformed input gets a clear error", async () => {
    const { keyPair } = await newRecipientKeyPair();
    await assert.rejects(openDataKey(keyPair, new Uint8Array(112), "s", "reveal"),
      /113 bytes, got 112/);
    await assert.rejects(openDataKey(keyPair, new Uint8Array(113), "s", "reveal"),
      KeyTransportError);
    await assert.rejects(openDataKey(keyPair.privateKey, new Uint8Array(113), "s", "reveal"),
      /CryptoKeyPair/);
    assert.throws(() => sealInfo("s", "delete"), RangeError);
  });

  test("info is the documented string", () => {
    assert.equal(new TextDecoder().decode(sealInfo("abc", "create")),
      "cipherslip/v1/seal|abc|create");
  });
});
