/**
 * The CDN's encryption of file parts: AES-256-CTR with the key of the file's redirect, starting
 * from its IV with the last four bytes replaced by `offset / 16` big-endian, so that any part
 * can be decrypted alone. https://core.telegram.org/cdn#decrypting-files
 *
 * Word at a time (four XORs a block) over lib/crypto's AES: the byte-at-a-time stream of
 * lib/crypto/ctr.ts, made for the transport's few bytes, would cap the CDN's throughput.
 *
 * @module
 */

import { encryptBlockFor, expandKey } from "../../crypto/aes.ts";

/**
 * The IV of the part at `offset` (a multiple of 16): `iv` with its last four bytes `offset / 16`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cdnPartIv } from "./cdn_cipher.ts";
 * assert.equal(cdnPartIv(new Uint8Array(16).fill(0xff), 1 << 20).toHex(), "ffffffffffffffffffffffff00010000");
 * ```
 */
export function cdnPartIv(iv: Uint8Array, offset: number): Uint8Array {
  const partIv = iv.slice(0, 16);
  new DataView(partIv.buffer).setUint32(12, Math.floor(offset / 16) >>> 0);
  return partIv;
}

/**
 * AES-256-CTR of `data` from counter `iv` (a 128-bit big-endian counter), into a new array;
 * the same call decrypts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AesCtr } from "../../crypto/ctr.ts";
 * import { aesCtr } from "./cdn_cipher.ts";
 * const key = new Uint8Array(32).fill(1), iv = new Uint8Array(16).fill(0xff);
 * const data = Uint8Array.from({ length: 100 }, (_, i) => i);
 * assert.deepEqual(aesCtr(key, iv, data), new AesCtr(key, iv).process(data));
 * ```
 */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const keys = expandKey(key);
  const encryptBlock = encryptBlockFor(keys);
  const stream = new Int32Array(4);
  const blocks = Math.ceil(data.length / 16);
  const out = new Uint8Array(blocks * 16);
  out.set(data);
  const words = new Int32Array(out.buffer);
  const counter = new DataView(iv.buffer, iv.byteOffset, 16);
  let c0 = counter.getUint32(0), c1 = counter.getUint32(4);
  let c2 = counter.getUint32(8), c3 = counter.getUint32(12);
  // The AES state is little-endian words; the counter is big-endian: swap each word's bytes.
  let w0 = swap(c0), w1 = swap(c1), w2 = swap(c2);
  for (let block = 0, at = 0; block < blocks; block++, at += 4) {
    encryptBlock(keys, w0, w1, w2, swap(c3), stream);
    words[at] ^= stream[0];
    words[at + 1] ^= stream[1];
    words[at + 2] ^= stream[2];
    words[at + 3] ^= stream[3];
    c3 = (c3 + 1) >>> 0;
    if (c3 === 0) {
      c2 = (c2 + 1) >>> 0;
      if (c2 === 0) {
        c1 = (c1 + 1) >>> 0;
        if (c1 === 0) c0 = (c0 + 1) >>> 0;
      }
      w0 = swap(c0);
      w1 = swap(c1);
      w2 = swap(c2);
    }
  }
  return out.subarray(0, data.length);
}

function swap(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}
