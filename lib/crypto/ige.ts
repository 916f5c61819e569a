/**
 * AES-256-IGE, the block mode MTProto uses for every encrypted message and for the key exchange:
 * c[i] = E(p[i] ⊕ c[i-1]) ⊕ p[i-1], with the 32-byte IV holding c[0] then p[0].
 *
 * @module
 */

import { Aes256, wordsOf } from "./aes.ts";

/**
 * Encrypts `data` (a multiple of 16 bytes) with AES-256-IGE.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { igeDecrypt, igeEncrypt } from "./ige.ts";
 * const key = new Uint8Array(32).fill(1), iv = new Uint8Array(32).fill(2);
 * const plain = new Uint8Array(48).fill(3);
 * assert.deepEqual(igeDecrypt(igeEncrypt(plain, key, iv), key, iv), plain);
 * ```
 */
export function igeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  return ige(data, new Aes256(key), iv, true);
}

/** Decrypts `data` (a multiple of 16 bytes) with AES-256-IGE. */
export function igeDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  return ige(data, new Aes256(key), iv, false);
}

/** IGE over an already expanded key, for callers that reuse one key for several buffers. */
export function ige(data: Uint8Array, aes: Aes256, iv: Uint8Array, encrypt: boolean): Uint8Array {
  if (data.length % 16 !== 0) {
    throw new RangeError(`IGE needs a multiple of 16 bytes, got ${data.length}`);
  }
  if (iv.length !== 32) throw new RangeError(`IGE needs a 32-byte IV, got ${iv.length}`);
  const input = wordsOf(data);
  const result = new Uint8Array(data.length);
  const output = new Int32Array(result.buffer);
  const ivWords = wordsOf(iv);
  // Encrypting, the IV's first half chains with the ciphertext and the second with the
  // plaintext; decrypting swaps the roles.
  let x0 = ivWords[0], x1 = ivWords[1], x2 = ivWords[2], x3 = ivWords[3];
  let y0 = ivWords[4], y1 = ivWords[5], y2 = ivWords[6], y3 = ivWords[7];
  if (!encrypt) {
    [x0, x1, x2, x3, y0, y1, y2, y3] = [y0, y1, y2, y3, x0, x1, x2, x3];
  }
  const block = aes.out;
  for (let i = 0; i < input.length; i += 4) {
    const i0 = input[i], i1 = input[i + 1], i2 = input[i + 2], i3 = input[i + 3];
    if (encrypt) aes.encryptBlock(i0 ^ x0, i1 ^ x1, i2 ^ x2, i3 ^ x3);
    else aes.decryptBlock(i0 ^ x0, i1 ^ x1, i2 ^ x2, i3 ^ x3);
    x0 = block[0] ^ y0;
    x1 = block[1] ^ y1;
    x2 = block[2] ^ y2;
    x3 = block[3] ^ y3;
    output[i] = x0;
    output[i + 1] = x1;
    output[i + 2] = x2;
    output[i + 3] = x3;
    y0 = i0;
    y1 = i1;
    y2 = i2;
    y3 = i3;
  }
  return result;
}
