/**
 * Hashes. The per-message path (msg_key, the key derivation) calls SHA-256 three times per
 * message, so hashing here is synchronous: an awaited `crypto.subtle.digest` costs tens of
 * microseconds, `node:crypto`'s one-shot `hash` about one (see `deno task bench`). Web Crypto is
 * kept for PBKDF2, where the 100 000 iterations dwarf any call overhead.
 *
 * @module
 */

import { createHash, hash } from "node:crypto";

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
  return digest("sha256", parts);
}

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
