/**
 * Hashes. The per-message path (msg_key, the key derivation) calls SHA-256 three times per
 * message, so hashing here is synchronous: an awaited `crypto.subtle.digest` costs tens of
 * microseconds, a `node:crypto` call a few, and short inputs (the key derivation's two 52-byte
 * hashes) are hashed in TypeScript (sha256.ts) for a fraction of one (see `deno task bench`).
 * Web Crypto is kept for PBKDF2, where the 100 000 iterations dwarf any call overhead.
 *
 * @module
 */

import { createHash, hash } from "node:crypto";
import { sha256Of } from "./sha256.ts";

/**
 * Inputs from this many bytes up are hashed by `node:crypto`, shorter ones in TypeScript: a
 * native call has a fixed cost of a few microseconds, about what 768 bytes cost in TypeScript.
 */
export const SHA256_NATIVE_FROM = 768;

/**
 * SHA-1 of the concatenation of `parts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha1 } from "./hash.ts";
 * assert.equal(sha1(new TextEncoder().encode("abc")).toHex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
 * ```
 */
export function sha1(...parts: Uint8Array[]): Uint8Array {
  return digest("sha1", parts);
}

/**
 * SHA-256 of the concatenation of `parts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "./hash.ts";
 * const abc = new TextEncoder().encode("abc");
 * assert.equal(sha256(abc).toHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
 * assert.deepEqual(sha256(abc.subarray(0, 1), abc.subarray(1)), sha256(abc));
 * ```
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length <= 2) return sha256Into(parts[0] ?? EMPTY, parts[1] ?? EMPTY);
  return digest("sha256", parts);
}

/**
 * SHA-256 of `first` followed by `second`, written into `out` at `offset` (a new array unless
 * given) and returned: the per-message path hashes into scratch space it reuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256, sha256Into } from "./hash.ts";
 * const a = new Uint8Array(40).fill(1), b = new Uint8Array(2000).fill(2);
 * const out = new Uint8Array(40);
 * sha256Into(a, b, out, 8);
 * assert.deepEqual(out.subarray(8), sha256(a, b));
 * ```
 */
export function sha256Into(
  first: Uint8Array,
  second: Uint8Array,
  out: Uint8Array = new Uint8Array(32),
  offset = 0,
): Uint8Array {
  if (first.length + second.length < SHA256_NATIVE_FROM) {
    return sha256Of(first, second, out, offset);
  }
  out.set(
    second.length === 0
      ? hash("sha256", first, "buffer")
      : createHash("sha256").update(first).update(second).digest(),
    offset,
  );
  return out;
}

const EMPTY = new Uint8Array(0);

function digest(algorithm: "sha1" | "sha256", parts: Uint8Array[]): Uint8Array {
  // One part: the one-shot call, which skips creating a hash object.
  if (parts.length === 1) return asPlainBytes(hash(algorithm, parts[0], "buffer"));
  const hasher = createHash(algorithm);
  for (const part of parts) hasher.update(part);
  return asPlainBytes(hasher.digest());
}

function asPlainBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * PBKDF2-HMAC-SHA512 through Web Crypto, as the 2FA password scheme needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pbkdf2Sha512 } from "./hash.ts";
 * const key = await pbkdf2Sha512(new TextEncoder().encode("password"), new TextEncoder().encode("salt"), 1);
 * assert.equal(key.toHex().slice(0, 16), "867f70cf1ade02cf");
 * ```
 */
export async function pbkdf2Sha512(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  lengthBytes = 64,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", password as BufferSource, "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-512", salt: salt as BufferSource, iterations },
    key,
    lengthBytes * 8,
  );
  return new Uint8Array(bits);
}
