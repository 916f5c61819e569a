/**
 * RSA as MTProto uses it: public keys from PEM (PKCS#1 or SPKI), the key fingerprint that
 * `resPQ` lists, and RSA_PAD, the padding that wraps `p_q_inner_data` in `req_DH_params`. The
 * private side (decryption, key generation) is here too, for the emulator.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { TlWriter } from "../tl/writer.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "./bigint.ts";
import { sha1, sha256 } from "./hash.ts";
import { igeDecrypt, igeEncrypt } from "./ige.ts";
import type { RandomSource } from "./random.ts";
import type { RsaPublicKey } from "./rsa_key.ts";

// Parsing and writing public keys lives apart, so that reading a --server line needs no hashing.
export { parsePublicKeyPem, publicKeyToPem, type RsaPublicKey } from "./rsa_key.ts";

/**
 * An RSA key pair; `d` is the private exponent. With the primes and their exponents (`crt`, as
 * a PKCS#8 key holds them), decryption works modulo p and q apart: two 1024-bit exponentiations,
 * about a quarter of the work of one modulo n.
 */
export interface RsaPrivateKey extends RsaPublicKey {
  d: bigint;
  crt?: { p: bigint; q: bigint; dp: bigint; dq: bigint; qInverse: bigint };
}

/** c^d mod n, by the Chinese remainder theorem when the key carries its primes. */
function rsaPrivatePow(value: bigint, key: RsaPrivateKey): bigint {
  if (!key.crt) return modPow(value, key.d, key.n);
  const { p, q, dp, dq, qInverse } = key.crt;
  const mp = modPow(value % p, dp, p);
  const mq = modPow(value % q, dq, q);
  let h = ((mp - mq) * qInverse) % p;
  if (h < 0n) h += p;
  return mq + h * q;
}

/**
 * The key fingerprint MTProto uses: the low 64 bits of SHA-1 over the key's `n` and `e` as TL
 * `bytes`, read as a signed little-endian long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePublicKeyPem, rsaFingerprint } from "./rsa.ts";
 * import { TELEGRAM_PUBLIC_KEYS } from "./public_keys.ts";
 * const key = parsePublicKeyPem(TELEGRAM_PUBLIC_KEYS.production[0]);
 * assert.equal(BigInt.asUintN(64, rsaFingerprint(key)), 0xd09d1d85de64fd85n);
 * ```
 */
export function rsaFingerprint(key: RsaPublicKey): bigint {
  const writer = new TlWriter();
  writer.bytes(bytesFromBigint(key.n));
  writer.bytes(bytesFromBigint(key.e));
  const digest = sha1(writer.finish());
  return new DataView(digest.buffer, digest.byteOffset + 12, 8).getBigInt64(0, true);
}

const PADDED_LENGTH = 192;

/**
 * Encrypts up to 144 bytes with RSA_PAD (MTProto's OAEP-like padding for `req_DH_params`):
 * pad to 192 bytes, reverse, append SHA-256(temp_key + padded), AES-256-IGE with a random
 * temp_key and zero IV, mask the temp_key, then raw RSA. Returns 256 bytes.
 */
export function rsaPadEncrypt(
  data: Uint8Array,
  key: RsaPublicKey,
  random: RandomSource,
): Uint8Array {
  if (data.length > 144) {
    throw new RangeError(`RSA_PAD takes at most 144 bytes, got ${data.length}`);
  }
  const padded = new Uint8Array(PADDED_LENGTH);
  padded.set(data);
  padded.set(random(PADDED_LENGTH - data.length), data.length);
  const reversed = padded.slice().reverse();
  for (;;) {
    const tempKey = random(32);
    const dataWithHash = new Uint8Array(224);
    dataWithHash.set(reversed);
    dataWithHash.set(sha256(tempKey, padded), PADDED_LENGTH);
    const aesEncrypted = igeEncrypt(dataWithHash, tempKey, new Uint8Array(32));
    const mask = sha256(aesEncrypted);
    const keyAesEncrypted = new Uint8Array(256);
    for (let i = 0; i < 32; i++) keyAesEncrypted[i] = tempKey[i] ^ mask[i];
    keyAesEncrypted.set(aesEncrypted, 32);
    const value = bigintFromBytes(keyAesEncrypted);
    // The docs' rule: a value not below the modulus is retried with a fresh temp_key.
    if (value >= key.n) continue;
    return bytesFromBigint(modPow(value, key.e, key.n), 256);
  }
}

/**
 * The server half of RSA_PAD: decrypts and checks the embedded hash, returning the 192 padded
 * bytes (the TL object, then random padding). Throws {@link SecurityError} on a bad hash.
 */
export function rsaPadDecrypt(encrypted: Uint8Array, key: RsaPrivateKey): Uint8Array {
  if (encrypted.length !== 256) throw new SecurityError("RSA_PAD data must be 256 bytes");
  const value = bigintFromBytes(encrypted);
  if (value >= key.n) throw new SecurityError("RSA_PAD data is not below the modulus");
  const keyAesEncrypted = bytesFromBigint(rsaPrivatePow(value, key), 256);
  const aesEncrypted = keyAesEncrypted.subarray(32);
  const mask = sha256(aesEncrypted);
  const tempKey = new Uint8Array(32);
  for (let i = 0; i < 32; i++) tempKey[i] = keyAesEncrypted[i] ^ mask[i];
  const dataWithHash = igeDecrypt(aesEncrypted, tempKey, new Uint8Array(32));
  const padded = dataWithHash.slice(0, PADDED_LENGTH).reverse();
  const expected = sha256(tempKey, padded);
  if (!equalBytes(expected, dataWithHash.subarray(PADDED_LENGTH))) {
    throw new SecurityError("RSA_PAD hash mismatch");
  }
  return padded;
}

/**
 * The server half of the legacy scheme older clients still use for `req_DH_params`:
 * RSA(SHA1(data) + data + random padding). Returns the SHA-1 and the bytes after it; the caller
 * parses the TL object there and checks the SHA-1 over exactly its bytes.
 */
export function rsaLegacyDecrypt(
  encrypted: Uint8Array,
  key: RsaPrivateKey,
): { sha1: Uint8Array; rest: Uint8Array } {
  if (encrypted.length !== 256) throw new SecurityError("RSA data must be 256 bytes");
  const value = bigintFromBytes(encrypted);
  if (value >= key.n) throw new SecurityError("RSA data is not below the modulus");
  const plain = bytesFromBigint(rsaPrivatePow(value, key), 256);
  // A 255-byte message: the leading byte of the 256 is zero.
  return { sha1: plain.subarray(1, 21), rest: plain.subarray(21) };
}

/** Generates a 2048-bit RSA key pair with Web Crypto. */
export async function generateRsaKey(): Promise<RsaPrivateKey> {
  return (await generateRsaKeyPem()).key;
}

/** Constant-time equality of two byte arrays of the same length. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** Reads an RSA private key from PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
export async function parsePrivateKeyPem(pem: string): Promise<RsaPrivateKey> {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match) throw new SecurityError("not a PKCS#8 PEM private key (BEGIN PRIVATE KEY)");
  const der = Uint8Array.fromBase64(match[1].replace(/\s+/g, ""));
  const key = await crypto.subtle.importKey(
    "pkcs8",
    der as BufferSource,
    { name: "RSA-OAEP", hash: "SHA-256" },
    true,
    ["decrypt"],
  );
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const read = (field: string | undefined) =>
    bigintFromBytes(Uint8Array.fromBase64(field!, { alphabet: "base64url" }));
  const parsed: RsaPrivateKey = { n: read(jwk.n), e: read(jwk.e), d: read(jwk.d) };
  if (jwk.p && jwk.q && jwk.dp && jwk.dq && jwk.qi) {
    const crt = { p: read(jwk.p), q: read(jwk.q), dp: read(jwk.dp), dq: read(jwk.dq) };
    // Kept only when they are the key's own (a key file is input): n = pq, qi·q ≡ 1 (mod p).
    const qInverse = read(jwk.qi);
    if (
      crt.p * crt.q === parsed.n && (qInverse * crt.q) % crt.p === 1n &&
      crt.dp === parsed.d % (crt.p - 1n) && crt.dq === parsed.d % (crt.q - 1n)
    ) {
      parsed.crt = { ...crt, qInverse };
    }
  }
  return parsed;
}

/** Generates a key pair and returns it with its PKCS#8 PEM, for saving. */
export async function generateRsaKeyPem(): Promise<{ key: RsaPrivateKey; pem: string }> {
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
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    der.toBase64().match(/.{1,64}/g)!.join("\n")
  }\n-----END PRIVATE KEY-----\n`;
  return { key: await parsePrivateKeyPem(pem), pem };
}
