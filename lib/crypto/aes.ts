/**
 * The AES block cipher in plain TypeScript, table-driven. MTProto uses 256-bit keys; 128-bit keys
 * are supported too, since the published IGE test vectors use them.
 *
 * The state is kept as four little-endian 32-bit words (byte 0 of a column in the low bits), so
 * data can be read through an `Int32Array` view on little-endian machines with no byte swapping;
 * the round tables are laid out for that order.
 *
 * @module
 */

/** The S-box and its inverse. */
export const SBOX: Uint8Array = new Uint8Array(256);
export const INV_SBOX: Uint8Array = new Uint8Array(256);
/** Round tables: SubBytes + MixColumns for each row, rows at offsets 0, 256, 512, 768. */
export const ENCRYPT_TABLE: Int32Array = new Int32Array(1024);
/** Inverse round tables: InvSubBytes + InvMixColumns, same layout. */
export const DECRYPT_TABLE: Int32Array = new Int32Array(1024);

(function buildTables() {
  // Multiplication by 3 generates GF(2^8)*; walking it gives logarithms for the field.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0);
    x &= 0xff;
  }
  const multiply = (a: number, b: number) => a === 0 || b === 0 ? 0 : exp[(log[a] + log[b]) % 255];
  for (let x = 0; x < 256; x++) {
    const inverse = x === 0 ? 0 : exp[(255 - log[x]) % 255];
    let s = inverse;
    for (let shift = 1; shift < 5; shift++) {
      s ^= ((inverse << shift) | (inverse >>> (8 - shift))) & 0xff;
    }
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  const word = (r0: number, r1: number, r2: number, r3: number) =>
    r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const s2 = multiply(s, 2), s3 = multiply(s, 3);
    ENCRYPT_TABLE[x] = word(s2, s, s, s3);
    ENCRYPT_TABLE[256 + x] = word(s3, s2, s, s);
    ENCRYPT_TABLE[512 + x] = word(s, s3, s2, s);
    ENCRYPT_TABLE[768 + x] = word(s, s, s3, s2);
    const i = INV_SBOX[x];
    const i9 = multiply(i, 9), i11 = multiply(i, 11), i13 = multiply(i, 13), i14 = multiply(i, 14);
    DECRYPT_TABLE[x] = word(i14, i9, i13, i11);
    DECRYPT_TABLE[256 + x] = word(i11, i14, i9, i13);
    DECRYPT_TABLE[512 + x] = word(i13, i11, i14, i9);
    DECRYPT_TABLE[768 + x] = word(i9, i13, i11, i14);
  }
})();

// Each row's table on its own, held in locals by the block functions: on V8 this measured faster
// than offsets into the combined table (one `|` fewer per lookup outweighs the extra registers).
const E0 = ENCRYPT_TABLE.slice(0, 256), E1 = ENCRYPT_TABLE.slice(256, 512);
const E2 = ENCRYPT_TABLE.slice(512, 768), E3 = ENCRYPT_TABLE.slice(768);
const D0 = DECRYPT_TABLE.slice(0, 256), D1 = DECRYPT_TABLE.slice(256, 512);
const D2 = DECRYPT_TABLE.slice(512, 768), D3 = DECRYPT_TABLE.slice(768);

/**
 * Expands a 32-byte (or 16-byte) key into the encryption round keys: 4·(rounds+1) words,
 * written into `into` when it has that length (to spare an allocation per message).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandKey } from "./aes.ts";
 * assert.equal(expandKey(new Uint8Array(32)).length, 60);
 * assert.equal(expandKey(new Uint8Array(16)).length, 44);
 * ```
 */
export function expandKey(key: Uint8Array, into?: Int32Array): Int32Array {
  if (key.length !== 32 && key.length !== 16) {
    throw new RangeError(`AES needs a 32- or 16-byte key, got ${key.length}`);
  }
  const keyWords = key.length >>> 2;
  const length = 4 * (keyWords + 7);
  const keys = into?.length === length ? into : new Int32Array(length);
  for (let i = 0; i < keyWords; i++) {
    keys[i] = key[4 * i] | (key[4 * i + 1] << 8) | (key[4 * i + 2] << 16) | (key[4 * i + 3] << 24);
  }
  let roundConstant = 1;
  for (let i = keyWords, phase = 0; i < keys.length; i++) {
    let t = keys[i - 1];
    if (phase === 0) {
      t = subWord((t >>> 8) | (t << 24)) ^ roundConstant;
      roundConstant = (roundConstant << 1) ^ (roundConstant & 0x80 ? 0x11b : 0);
    } else if (phase === 4 && keyWords === 8) {
      t = subWord(t);
    }
    keys[i] = keys[i - keyWords] ^ t;
    if (++phase === keyWords) phase = 0;
  }
  return keys;
}

/**
 * The decryption round keys of the equivalent inverse cipher: the encryption keys in reverse
 * round order, with InvMixColumns applied to the inner rounds; written into `into` when it fits.
 */
export function invertKeySchedule(keys: Int32Array, into?: Int32Array): Int32Array {
  const rounds = (keys.length >>> 2) - 1;
  const inverse = into?.length === keys.length ? into : new Int32Array(keys.length);
  for (let round = 0; round <= rounds; round++) {
    for (let column = 0; column < 4; column++) {
      const w = keys[4 * (rounds - round) + column];
      inverse[4 * round + column] = round === 0 || round === rounds
        ? w
        : DECRYPT_TABLE[SBOX[w & 0xff]] ^
          DECRYPT_TABLE[256 | SBOX[(w >>> 8) & 0xff]] ^
          DECRYPT_TABLE[512 | SBOX[(w >>> 16) & 0xff]] ^
          DECRYPT_TABLE[768 | SBOX[w >>> 24]];
    }
  }
  return inverse;
}

function subWord(w: number): number {
  return SBOX[w & 0xff] | (SBOX[(w >>> 8) & 0xff] << 8) | (SBOX[(w >>> 16) & 0xff] << 16) |
    (SBOX[w >>> 24] << 24);
}

/**
 * Encrypts one block (four little-endian words) with the round keys of {@link expandKey}, writing
 * four words to `out`. Rounds run in pairs so that no state is copied between rounds.
 */
export function encryptBlock(
  k: Int32Array,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  out: Int32Array,
): void {
  const r0 = E0, r1 = E1, r2 = E2, r3 = E3;
  let s0 = w0 ^ k[0], s1 = w1 ^ k[1], s2 = w2 ^ k[2], s3 = w3 ^ k[3];
  // AES-128 and AES-256 both have an odd number of inner rounds: pairs, then one more.
  const pairsEnd = k.length - 8;
  let i = 4;
  for (; i < pairsEnd; i += 8) {
    const t0 = r0[s0 & 255] ^ r1[(s1 >>> 8) & 255] ^ r2[(s2 >>> 16) & 255] ^
      r3[s3 >>> 24] ^ k[i];
    const t1 = r0[s1 & 255] ^ r1[(s2 >>> 8) & 255] ^ r2[(s3 >>> 16) & 255] ^
      r3[s0 >>> 24] ^ k[i + 1];
    const t2 = r0[s2 & 255] ^ r1[(s3 >>> 8) & 255] ^ r2[(s0 >>> 16) & 255] ^
      r3[s1 >>> 24] ^ k[i + 2];
    const t3 = r0[s3 & 255] ^ r1[(s0 >>> 8) & 255] ^ r2[(s1 >>> 16) & 255] ^
      r3[s2 >>> 24] ^ k[i + 3];
    s0 = r0[t0 & 255] ^ r1[(t1 >>> 8) & 255] ^ r2[(t2 >>> 16) & 255] ^
      r3[t3 >>> 24] ^ k[i + 4];
    s1 = r0[t1 & 255] ^ r1[(t2 >>> 8) & 255] ^ r2[(t3 >>> 16) & 255] ^
      r3[t0 >>> 24] ^ k[i + 5];
    s2 = r0[t2 & 255] ^ r1[(t3 >>> 8) & 255] ^ r2[(t0 >>> 16) & 255] ^
      r3[t1 >>> 24] ^ k[i + 6];
    s3 = r0[t3 & 255] ^ r1[(t0 >>> 8) & 255] ^ r2[(t1 >>> 16) & 255] ^
      r3[t2 >>> 24] ^ k[i + 7];
  }
  const t0 = r0[s0 & 255] ^ r1[(s1 >>> 8) & 255] ^ r2[(s2 >>> 16) & 255] ^
    r3[s3 >>> 24] ^ k[i];
  const t1 = r0[s1 & 255] ^ r1[(s2 >>> 8) & 255] ^ r2[(s3 >>> 16) & 255] ^
    r3[s0 >>> 24] ^ k[i + 1];
  const t2 = r0[s2 & 255] ^ r1[(s3 >>> 8) & 255] ^ r2[(s0 >>> 16) & 255] ^
    r3[s1 >>> 24] ^ k[i + 2];
  const t3 = r0[s3 & 255] ^ r1[(s0 >>> 8) & 255] ^ r2[(s1 >>> 16) & 255] ^
    r3[s2 >>> 24] ^ k[i + 3];
  const b = SBOX;
  i += 4;
  out[0] = (b[t0 & 255] | b[(t1 >>> 8) & 255] << 8 | b[(t2 >>> 16) & 255] << 16 |
    b[t3 >>> 24] << 24) ^ k[i];
  out[1] = (b[t1 & 255] | b[(t2 >>> 8) & 255] << 8 | b[(t3 >>> 16) & 255] << 16 |
    b[t0 >>> 24] << 24) ^ k[i + 1];
  out[2] = (b[t2 & 255] | b[(t3 >>> 8) & 255] << 8 | b[(t0 >>> 16) & 255] << 16 |
    b[t1 >>> 24] << 24) ^ k[i + 2];
  out[3] = (b[t3 & 255] | b[(t0 >>> 8) & 255] << 8 | b[(t1 >>> 16) & 255] << 16 |
    b[t2 >>> 24] << 24) ^ k[i + 3];
}

/**
 * Decrypts one block with the round keys of {@link invertKeySchedule}, writing four words to
 * `out`. The mirror of {@link encryptBlock}: inverse tables, and InvShiftRows takes row r from
 * column c - r instead of c + r.
 */
export function decryptBlock(
  k: Int32Array,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  out: Int32Array,
): void {
  const r0 = D0, r1 = D1, r2 = D2, r3 = D3;
  let s0 = w0 ^ k[0], s1 = w1 ^ k[1], s2 = w2 ^ k[2], s3 = w3 ^ k[3];
  const pairsEnd = k.length - 8;
  let i = 4;
  for (; i < pairsEnd; i += 8) {
    const t0 = r0[s0 & 255] ^ r1[(s3 >>> 8) & 255] ^ r2[(s2 >>> 16) & 255] ^
      r3[s1 >>> 24] ^ k[i];
    const t1 = r0[s1 & 255] ^ r1[(s0 >>> 8) & 255] ^ r2[(s3 >>> 16) & 255] ^
      r3[s2 >>> 24] ^ k[i + 1];
    const t2 = r0[s2 & 255] ^ r1[(s1 >>> 8) & 255] ^ r2[(s0 >>> 16) & 255] ^
      r3[s3 >>> 24] ^ k[i + 2];
    const t3 = r0[s3 & 255] ^ r1[(s2 >>> 8) & 255] ^ r2[(s1 >>> 16) & 255] ^
      r3[s0 >>> 24] ^ k[i + 3];
    s0 = r0[t0 & 255] ^ r1[(t3 >>> 8) & 255] ^ r2[(t2 >>> 16) & 255] ^
      r3[t1 >>> 24] ^ k[i + 4];
    s1 = r0[t1 & 255] ^ r1[(t0 >>> 8) & 255] ^ r2[(t3 >>> 16) & 255] ^
      r3[t2 >>> 24] ^ k[i + 5];
    s2 = r0[t2 & 255] ^ r1[(t1 >>> 8) & 255] ^ r2[(t0 >>> 16) & 255] ^
      r3[t3 >>> 24] ^ k[i + 6];
    s3 = r0[t3 & 255] ^ r1[(t2 >>> 8) & 255] ^ r2[(t1 >>> 16) & 255] ^
      r3[t0 >>> 24] ^ k[i + 7];
  }
  const t0 = r0[s0 & 255] ^ r1[(s3 >>> 8) & 255] ^ r2[(s2 >>> 16) & 255] ^
    r3[s1 >>> 24] ^ k[i];
  const t1 = r0[s1 & 255] ^ r1[(s0 >>> 8) & 255] ^ r2[(s3 >>> 16) & 255] ^
    r3[s2 >>> 24] ^ k[i + 1];
  const t2 = r0[s2 & 255] ^ r1[(s1 >>> 8) & 255] ^ r2[(s0 >>> 16) & 255] ^
    r3[s3 >>> 24] ^ k[i + 2];
  const t3 = r0[s3 & 255] ^ r1[(s2 >>> 8) & 255] ^ r2[(s1 >>> 16) & 255] ^
    r3[s0 >>> 24] ^ k[i + 3];
  const b = INV_SBOX;
  i += 4;
  out[0] = (b[t0 & 255] | b[(t3 >>> 8) & 255] << 8 | b[(t2 >>> 16) & 255] << 16 |
    b[t1 >>> 24] << 24) ^ k[i];
  out[1] = (b[t1 & 255] | b[(t0 >>> 8) & 255] << 8 | b[(t3 >>> 16) & 255] << 16 |
    b[t2 >>> 24] << 24) ^ k[i + 1];
  out[2] = (b[t2 & 255] | b[(t1 >>> 8) & 255] << 8 | b[(t0 >>> 16) & 255] << 16 |
    b[t3 >>> 24] << 24) ^ k[i + 2];
  out[3] = (b[t3 & 255] | b[(t2 >>> 8) & 255] << 8 | b[(t1 >>> 16) & 255] << 16 |
    b[t0 >>> 24] << 24) ^ k[i + 3];
}

/**
 * Single-block AES over one key, for callers that keep a key (the CTR stream, tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aes256 } from "./aes.ts";
 * // FIPS-197 appendix C.3.
 * const aes = new Aes256(Uint8Array.fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
 * const block = new Int32Array(Uint8Array.fromHex("00112233445566778899aabbccddeeff").buffer);
 * aes.encryptBlock(block[0], block[1], block[2], block[3]);
 * assert.equal(new Uint8Array(aes.out.buffer).toHex(), "8ea2b7ca516745bfeafc49904b496089");
 * aes.decryptBlock(aes.out[0], aes.out[1], aes.out[2], aes.out[3]);
 * assert.equal(new Uint8Array(aes.out.buffer).toHex(), "00112233445566778899aabbccddeeff");
 * ```
 */
export class Aes256 {
  readonly #encryptKeys: Int32Array;
  #decryptKeys: Int32Array | undefined;
  /** Output of the last {@link encryptBlock} or {@link decryptBlock} call. */
  readonly out: Int32Array = new Int32Array(4);

  /** Expands a 32-byte (or, for test vectors, 16-byte) key. */
  constructor(key: Uint8Array) {
    this.#encryptKeys = expandKey(key);
  }

  /** Encrypts one block given as four words, leaving the result in {@link out}. */
  encryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    encryptBlock(this.#encryptKeys, w0, w1, w2, w3, this.out);
  }

  /** Decrypts one block given as four words, leaving the result in {@link out}. */
  decryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    // Built on first use: a key used in one direction never pays for the other schedule.
    this.#decryptKeys ??= invertKeySchedule(this.#encryptKeys);
    decryptBlock(this.#decryptKeys, w0, w1, w2, w3, this.out);
  }
}

/**
 * Returns a view of `bytes` as 32-bit words, copying only when the view would be misaligned.
 * The word order is the machine's, which the tables above assume is little-endian.
 */
export function wordsOf(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0) {
    return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  }
  return new Int32Array(bytes.slice().buffer, 0, bytes.byteLength >>> 2);
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error("mtproto2json's AES assumes a little-endian machine");
}
