/**
 * The content of the emulator's generated files: any size, made from the file's seed alone, so
 * that a file of gigabytes costs no memory and a test computes the bytes it should receive.
 *
 * Each file has one pseudo-random 1 MiB block (made once, a few kept); its chunk `k` (the bytes
 * from `k` MiB on) is that block with every little-endian 32-bit word XORed with a mask made from
 * `k`, so that no two chunks are equal and a chunk costs one pass of word XORs to make.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The size of the block every chunk is made from. */
export const GENERATED_BLOCK_BYTES = 1 << 20;
const BLOCK_WORDS = GENERATED_BLOCK_BYTES >>> 2;

/** Blocks kept, most recently used last: a few files downloaded at once make each block once. */
const KEPT_BLOCKS = 8;
const blocks = new Map<bigint, Uint32Array>();

/**
 * The bytes `offset` to `offset + length` of the generated file whose seed is `seed` (the file id
 * for documents; see {@link photoSizeSeed} for the sizes of a photo), written into `into` when it
 * is given and long enough.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedFileBytes } from "./generated_bytes.ts";
 * const whole = generatedFileBytes(7n, 0, 3 << 20);
 * assert.deepEqual(generatedFileBytes(7n, 1_048_570, 10), whole.subarray(1_048_570, 1_048_580));
 * assert.notDeepEqual(whole.subarray(0, 64), whole.subarray(1 << 20, (1 << 20) + 64));
 * assert.notDeepEqual(generatedFileBytes(8n, 0, 64), whole.subarray(0, 64));
 * ```
 */
export function generatedFileBytes(
  seed: bigint,
  offset: number,
  length: number,
  into?: Uint8Array,
): Uint8Array {
  // A fresh array of a megabyte costs more than making its content (page faults): the serving
  // path passes a buffer it reuses.
  const out = into && into.byteOffset % 4 === 0 && into.length >= length
    ? into.subarray(0, length)
    : new Uint8Array(length);
  const block = blockOf(seed);
  const blockBytes = new Uint8Array(block.buffer);
  for (let at = 0; at < length;) {
    const position = offset + at;
    const chunk = Math.floor(position / GENERATED_BLOCK_BYTES);
    const within = position - chunk * GENERATED_BLOCK_BYTES;
    const take = Math.min(GENERATED_BLOCK_BYTES - within, length - at);
    const mask = chunkMask(chunk);
    if (within % 4 === 0 && at % 4 === 0) {
      // The usual case (parts start at multiples of 1 KiB): whole words.
      const words = take >>> 2;
      const target = new Uint32Array(out.buffer, out.byteOffset + at, words);
      const first = within >>> 2;
      for (let i = 0; i < words; i++) target[i] = block[first + i] ^ mask;
      for (let i = words << 2; i < take; i++) {
        out[at + i] = blockBytes[within + i] ^ ((mask >>> (8 * ((within + i) & 3))) & 0xff);
      }
    } else {
      for (let i = 0; i < take; i++) {
        out[at + i] = blockBytes[within + i] ^ ((mask >>> (8 * ((within + i) & 3))) & 0xff);
      }
    }
    at += take;
  }
  return out;
}

/**
 * SHA-256 of a whole generated file of `size` bytes, read a block at a time (what a test compares
 * a download of gigabytes with).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHash } from "node:crypto";
 * import { generatedFileBytes, generatedFileSha256 } from "./generated_bytes.ts";
 * const expected = createHash("sha256").update(generatedFileBytes(3n, 0, 5000)).digest();
 * assert.deepEqual(generatedFileSha256(3n, 5000), new Uint8Array(expected));
 * ```
 */
export function generatedFileSha256(seed: bigint, size: number): Uint8Array {
  const hasher = createHash("sha256");
  for (let at = 0; at < size; at += GENERATED_BLOCK_BYTES) {
    hasher.update(generatedFileBytes(seed, at, Math.min(GENERATED_BLOCK_BYTES, size - at)));
  }
  return new Uint8Array(hasher.digest());
}

/**
 * The seed of one size of a generated photo: each size ("s", "m", "x", "y") has content of its
 * own, so that a client that asks for the largest size cannot be given a thumbnail unnoticed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { photoSizeSeed } from "./generated_bytes.ts";
 * assert.notEqual(photoSizeSeed(5n, "s"), photoSizeSeed(5n, "y"));
 * ```
 */
export function photoSizeSeed(fileId: bigint, type: string): bigint {
  return BigInt.asUintN(64, fileId ^ (BigInt(type.charCodeAt(0)) << 56n));
}

/** The murmur3 finalizer: a bijection of 32-bit words that spreads every bit. */
function mix(value: number): number {
  let z = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** Different for every chunk index below 2^32 - 1 (an odd multiplier is a bijection). */
function chunkMask(chunk: number): number {
  return Math.imul(chunk + 1, 0x9e3779b1) >>> 0;
}

/** The pseudo-random block of `seed`, made on first use (xorshift128, seeded from both halves of the seed). */
function blockOf(seed: bigint): Uint32Array {
  const kept = blocks.get(seed);
  if (kept) {
    blocks.delete(seed);
    blocks.set(seed, kept);
    return kept;
  }
  const block = new Uint32Array(BLOCK_WORDS);
  const low = Number(BigInt.asUintN(32, seed)), high = Number(BigInt.asUintN(32, seed >> 32n));
  // A bijective mix of each half: different seeds start from different states.
  let x = mix(low), y = mix(low ^ 0x5bd1e995), z = mix(high), w = mix(high ^ 0x1b873593) | 1;
  for (let i = 0; i < BLOCK_WORDS; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8);
    block[i] = w;
  }
  blocks.set(seed, block);
  if (blocks.size > KEPT_BLOCKS) blocks.delete(blocks.keys().next().value!);
  return block;
}
