/**
 * AES-256-IGE, the block mode MTProto uses for every encrypted message and for the key exchange:
 * c[i] = E(p[i] ⊕ c[i-1]) ⊕ p[i-1], with the 32-byte IV holding c[0] then p[0].
 *
 * @module
 */

import { expandKey, invertKeySchedule, wordsOf } from "./aes.ts";
import { igeDecrypt128, igeDecrypt256, igeEncrypt128, igeEncrypt256 } from "./aes_rounds.ts";

/**
 * Encrypts `data` (a multiple of 16 bytes) with AES-256-IGE into `output`, a new array unless
 * given. `output` may be `data` itself: each block is read before its place is written, which
 * lets a caller encrypt in place and skip an allocation (about 0.7 µs, an eighth of a 1 KiB call).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { igeDecrypt, igeEncrypt } from "./ige.ts";
 * const key = new Uint8Array(32).fill(1), iv = new Uint8Array(32).fill(2);
 * const plain = new Uint8Array(48).fill(3);
 * const sealed = igeEncrypt(plain, key, iv);
 * assert.deepEqual(igeDecrypt(sealed, key, iv), plain);
 * // In place: the same bytes, no new array.
 * const buffer = plain.slice();
 * assert.equal(igeEncrypt(buffer, key, iv, buffer), buffer);
 * assert.deepEqual(buffer, sealed);
 * ```
 */
export function igeEncrypt(
  data: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array,
  output?: Uint8Array,
): Uint8Array {
  const { input, words, result, ivWords } = prepare(data, iv, output);
  const keys = expandKey(key, scratchKeys);
  // The loops are generated with the cipher inlined (scripts/generate_aes_rounds.ts).
  (keys.length === 60 ? igeEncrypt256 : igeEncrypt128)(input, words, keys, ivWords);
  return finish(words, result);
}

/** Decrypts `data` (a multiple of 16 bytes) with AES-256-IGE; `output` as for {@link igeEncrypt}. */
export function igeDecrypt(
  data: Uint8Array,
  key: Uint8Array,
  iv: Uint8Array,
  output?: Uint8Array,
): Uint8Array {
  const { input, words, result, ivWords } = prepare(data, iv, output);
  const keys = invertKeySchedule(expandKey(key, scratchKeys), scratchInverseKeys);
  (keys.length === 60 ? igeDecrypt256 : igeDecrypt128)(input, words, keys, ivWords);
  return finish(words, result);
}

// IGE runs synchronously start to finish, so one set of scratch arrays serves every call.
const scratchKeys = new Int32Array(60);
const scratchInverseKeys = new Int32Array(60);

function prepare(data: Uint8Array, iv: Uint8Array, output: Uint8Array | undefined) {
  if (data.length % 16 !== 0) {
    throw new RangeError(`IGE needs a multiple of 16 bytes, got ${data.length}`);
  }
  if (iv.length !== 32) throw new RangeError(`IGE needs a 32-byte IV, got ${iv.length}`);
  if (output !== undefined && output.length !== data.length) {
    throw new RangeError(`IGE output of ${output.length} bytes for ${data.length} bytes of input`);
  }
  const result = output ?? new Uint8Array(data.length);
  // A misaligned output cannot be viewed as words: work in a copy and write it back at the end.
  const words = result.byteOffset % 4 === 0
    ? new Int32Array(result.buffer, result.byteOffset, result.length >>> 2)
    : new Int32Array(result.length >>> 2);
  return { input: wordsOf(data), words, result, ivWords: wordsOf(iv) };
}

function finish(words: Int32Array, result: Uint8Array): Uint8Array {
  if (words.buffer !== result.buffer) result.set(new Uint8Array(words.buffer));
  return result;
}
