import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "../../lib/crypto/bigint.ts";
import { TELEGRAM_PUBLIC_KEYS } from "../../lib/crypto/public_keys.ts";
import { replayRandom, secureRandom } from "../../lib/crypto/random.ts";
import {
  generateRsaKey,
  parsePublicKeyPem,
  publicKeyToPem,
  rsaFingerprint,
  rsaLegacyDecrypt,
  rsaPadDecrypt,
  rsaPadEncrypt,
} from "../../lib/crypto/rsa.ts";

const key = await generateRsaKey();

Deno.test("Telegram's published keys have their published fingerprints", () => {
  const fingerprint = (pem: string) => BigInt.asUintN(64, rsaFingerprint(parsePublicKeyPem(pem)));
  assertEquals(fingerprint(TELEGRAM_PUBLIC_KEYS.production[0]), 0xd09d1d85de64fd85n);
  assertEquals(fingerprint(TELEGRAM_PUBLIC_KEYS.test[0]), 0xb25898df208d2603n);
});

Deno.test("a session's server.rsa is Telegram's key as published, character for character", () => {
  for (const pem of [...TELEGRAM_PUBLIC_KEYS.production, ...TELEGRAM_PUBLIC_KEYS.test]) {
    assertEquals(publicKeyToPem(parsePublicKeyPem(pem)), pem);
  }
  // A modulus with its top bit clear needs no leading zero; short ones use DER's short lengths.
  assertEquals(
    publicKeyToPem({ n: 3233n, e: 17n }),
    "-----BEGIN RSA PUBLIC KEY-----\nMAcCAgyhAgER\n-----END RSA PUBLIC KEY-----\n",
  );
  assertEquals(parsePublicKeyPem(publicKeyToPem({ n: 0xffn, e: 0n })), { n: 0xffn, e: 0n });
});

Deno.test("a key reads the same from PKCS#1 and SPKI PEM, and writes back to PKCS#1", async () => {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["encrypt", "decrypt"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const spkiPem = `-----BEGIN PUBLIC KEY-----\n${spki.toBase64()}\n-----END PUBLIC KEY-----`;
  const fromSpki = parsePublicKeyPem(spkiPem);
  const fromPkcs1 = parsePublicKeyPem(publicKeyToPem(fromSpki));
  assertEquals(fromPkcs1, fromSpki);
  assertEquals(rsaFingerprint(fromPkcs1), rsaFingerprint(fromSpki));
  assertThrows(
    () => parsePublicKeyPem("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----"),
    SecurityError,
  );
  assertThrows(() => parsePublicKeyPem("hello"), SecurityError, "not a PEM public key");
});

Deno.test("RSA_PAD: what the client encrypts, the server decrypts; tampering is caught", () => {
  const data = secureRandom(144);
  const encrypted = rsaPadEncrypt(data, key, secureRandom);
  assertEquals(encrypted.length, 256);
  const padded = rsaPadDecrypt(encrypted, key);
  assertEquals(padded.subarray(0, 144), data);
  const tampered = encrypted.slice();
  tampered[200] ^= 1;
  assertThrows(() => rsaPadDecrypt(tampered, key), SecurityError);
  assertThrows(() => rsaPadEncrypt(new Uint8Array(145), key, secureRandom), RangeError);
});

Deno.test("RSA_PAD retries with a new temp_key while the value is not below the modulus", () => {
  // With a tiny modulus every first attempt is too large; the replayed randomness runs out after
  // the padding and three temp keys unless the code keeps drawing new temp keys.
  const tiny = { n: 3n, e: 3n };
  let drawn = 0;
  const random = (length: number) => {
    drawn += length;
    if (drawn > 48 + 3 * 32) throw new Error("stop");
    return secureRandom(length);
  };
  assertThrows(() => rsaPadEncrypt(new Uint8Array(144), tiny, random), Error, "stop");
  assertEquals(drawn > 48 + 2 * 32, true);
  // Deterministic with fixed randomness: the same input gives the same output.
  const fixed = () => replayRandom(new Uint8Array(48).fill(1), new Uint8Array(32).fill(2));
  const first = rsaPadEncrypt(new Uint8Array(144), key, fixed());
  assertEquals(rsaPadEncrypt(new Uint8Array(144), key, fixed()), first);
  assertEquals(bigintFromBytes(first) < key.n, true);
});

Deno.test("a key read from PKCS#8 decrypts by its primes, to what the private exponent gives", () => {
  assertEquals(key.crt !== undefined && key.crt.p * key.crt.q === key.n, true);
  const withoutPrimes = { n: key.n, e: key.e, d: key.d };
  for (let i = 0; i < 4; i++) {
    const data = secureRandom(144);
    const encrypted = rsaPadEncrypt(data, key, secureRandom);
    assertEquals(rsaPadDecrypt(encrypted, key), rsaPadDecrypt(encrypted, withoutPrimes));
    assertEquals(rsaPadDecrypt(encrypted, key).subarray(0, 144), data);
  }
  // The legacy scheme: raw RSA of a 255-byte message, by the primes and without them.
  const message = new Uint8Array(256);
  message.set(secureRandom(255), 1);
  const raw = bytesFromBigint(modPow(bigintFromBytes(message), key.e, key.n), 256);
  assertEquals(rsaLegacyDecrypt(raw, key).rest, message.subarray(21));
  assertEquals(rsaLegacyDecrypt(raw, withoutPrimes).rest, message.subarray(21));
});
