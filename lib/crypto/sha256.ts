/**
 * SHA-256 in TypeScript over one reused state, for the short inputs of the per-message path (the
 * two 52-byte hashes of the message key derivation, msg_key over a small message). A call into
 * `node:crypto` costs a few microseconds however short its input, several times what one 64-byte
 * block costs here; above a couple of kilobytes the native hash wins (see `SHA256_NATIVE_FROM`
 * in hash.ts and `deno task bench`).
 *
 * @module
 */

const K = Int32Array.from([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

// One state serves every call: hashing here runs synchronously from start to finish.
const state = new Int32Array(8);
const schedule = new Int32Array(64);
const tail = new Uint8Array(128);

/**
 * SHA-256 of `first` followed by `second` (empty by default), written into `out` (32 bytes at
 * `offset`, a new array unless given) and returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Of } from "./sha256.ts";
 * const abc = new TextEncoder().encode("abc");
 * assert.equal(
 *   sha256Of(abc.subarray(0, 1), abc.subarray(1)).toHex(),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function sha256Of(
  first: Uint8Array,
  second: Uint8Array = EMPTY,
  out: Uint8Array = new Uint8Array(32),
  offset = 0,
): Uint8Array {
  state[0] = 0x6a09e667;
  state[1] = 0xbb67ae85 | 0;
  state[2] = 0x3c6ef372;
  state[3] = 0xa54ff53a | 0;
  state[4] = 0x510e527f;
  state[5] = 0x9b05688c | 0;
  state[6] = 0x1f83d9ab;
  state[7] = 0x5be0cd19;
  const total = first.length + second.length;
  // Whole blocks of `first` straight from it; the block that straddles both inputs is assembled
  // in `tail`, then whole blocks of `second`, then the rest and the padding in `tail`.
  let position = 0;
  const firstWhole = first.length & ~63;
  for (; position < firstWhole; position += 64) compress(first, position);
  let used = first.length - firstWhole;
  tail.set(first.subarray(firstWhole), 0);
  let from = 0;
  if (used > 0) {
    const take = Math.min(64 - used, second.length);
    tail.set(second.subarray(0, take), used);
    used += take;
    from = take;
    if (used === 64) {
      compress(tail, 0);
      used = 0;
    }
  }
  if (used === 0) {
    const secondWhole = from + ((second.length - from) & ~63);
    for (; from < secondWhole; from += 64) compress(second, from);
    tail.set(second.subarray(from), 0);
    used = second.length - from;
  }
  tail[used++] = 0x80;
  const end = used <= 56 ? 64 : 128;
  tail.fill(0, used, end - 8);
  const bits = total * 8;
  const high = Math.floor(bits / 0x100000000);
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = bits >>> 24;
  tail[end - 3] = bits >>> 16;
  tail[end - 2] = bits >>> 8;
  tail[end - 1] = bits;
  compress(tail, 0);
  if (end === 128) compress(tail, 64);
  for (let i = 0; i < 8; i++) {
    const word = state[i];
    out[offset + 4 * i] = word >>> 24;
    out[offset + 4 * i + 1] = word >>> 16;
    out[offset + 4 * i + 2] = word >>> 8;
    out[offset + 4 * i + 3] = word;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

// Eight rounds per turn with the working variables renamed instead of shifted along.
function compress(bytes: Uint8Array, at: number): void {
  const w = schedule;
  for (let i = 0; i < 16; i++, at += 4) {
    w[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15], y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  let e = state[4], f = state[5], g = state[6], h = state[7];
  let t = 0;
  for (let i = 0; i < 64; i += 8) {
    t = (h + sum1(e) + (g ^ (e & (f ^ g))) + K[i + 0] + w[i + 0]) | 0;
    d = (d + t) | 0;
    h = (t + sum0(a) + ((a & b) | (c & (a | b)))) | 0;
    t = (g + sum1(d) + (f ^ (d & (e ^ f))) + K[i + 1] + w[i + 1]) | 0;
    c = (c + t) | 0;
    g = (t + sum0(h) + ((h & a) | (b & (h | a)))) | 0;
    t = (f + sum1(c) + (e ^ (c & (d ^ e))) + K[i + 2] + w[i + 2]) | 0;
    b = (b + t) | 0;
    f = (t + sum0(g) + ((g & h) | (a & (g | h)))) | 0;
    t = (e + sum1(b) + (d ^ (b & (c ^ d))) + K[i + 3] + w[i + 3]) | 0;
    a = (a + t) | 0;
    e = (t + sum0(f) + ((f & g) | (h & (f | g)))) | 0;
    t = (d + sum1(a) + (c ^ (a & (b ^ c))) + K[i + 4] + w[i + 4]) | 0;
    h = (h + t) | 0;
    d = (t + sum0(e) + ((e & f) | (g & (e | f)))) | 0;
    t = (c + sum1(h) + (b ^ (h & (a ^ b))) + K[i + 5] + w[i + 5]) | 0;
    g = (g + t) | 0;
    c = (t + sum0(d) + ((d & e) | (f & (d | e)))) | 0;
    t = (b + sum1(g) + (a ^ (g & (h ^ a))) + K[i + 6] + w[i + 6]) | 0;
    f = (f + t) | 0;
    b = (t + sum0(c) + ((c & d) | (e & (c | d)))) | 0;
    t = (a + sum1(f) + (h ^ (f & (g ^ h))) + K[i + 7] + w[i + 7]) | 0;
    e = (e + t) | 0;
    a = (t + sum0(b) + ((b & c) | (d & (b | c)))) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

/** Σ1 of the round function. */
function sum1(x: number): number {
  return ((x >>> 6) | (x << 26)) ^ ((x >>> 11) | (x << 21)) ^ ((x >>> 25) | (x << 7));
}

/** Σ0 of the round function. */
function sum0(x: number): number {
  return ((x >>> 2) | (x << 30)) ^ ((x >>> 13) | (x << 19)) ^ ((x >>> 22) | (x << 10));
}
