/**
 * The AES block cipher in plain TypeScript, table-driven. MTProto uses 256-bit keys; 128-bit keys
 * are supported too, since the published IGE test vectors use them.
 *
 * The state is kept as four little-endian 32-bit words (byte 0 of a column in the low bits), so
 * data can be read through an `Int32Array` view on little-endian machines with no byte swapping;
 * the round tables are laid out for that order. Modes (IGE, CTR) live in their own files and call
 * {@link Aes256.encryptBlock} / {@link Aes256.decryptBlock} on words, allocating nothing per block.
 *
 * @module
 */

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
// Encryption tables T0..T3 and decryption tables D0..D3, one per row of the column.
const T0 = new Int32Array(256), T1 = new Int32Array(256), T2 = new Int32Array(256);
const T3 = new Int32Array(256);
const D0 = new Int32Array(256), D1 = new Int32Array(256), D2 = new Int32Array(256);
const D3 = new Int32Array(256);

(function buildTables() {
  // Multiplication by 3 generates GF(2^8)*; walking it gives the S-box without a lookup table.
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
    T0[x] = word(s2, s, s, s3);
    T1[x] = word(s3, s2, s, s);
    T2[x] = word(s, s3, s2, s);
    T3[x] = word(s, s, s3, s2);
    const i = INV_SBOX[x];
    const i9 = multiply(i, 9), i11 = multiply(i, 11), i13 = multiply(i, 13), i14 = multiply(i, 14);
    D0[x] = word(i14, i9, i13, i11);
    D1[x] = word(i11, i14, i9, i13);
    D2[x] = word(i13, i11, i14, i9);
    D3[x] = word(i9, i13, i11, i14);
  }
})();

/**
 * An AES key schedule (128- or 256-bit key), ready to encrypt or decrypt 16-byte blocks held as
 * four words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aes256 } from "./aes.ts";
 * // FIPS-197 appendix C.3.
 * const aes = new Aes256(Uint8Array.fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
 * const block = new Int32Array(Uint8Array.fromHex("00112233445566778899aabbccddeeff").buffer);
 * aes.encryptWords(block, 0, block, 0);
 * assert.equal(new Uint8Array(block.buffer).toHex(), "8ea2b7ca516745bfeafc49904b496089");
 * ```
 */
export class Aes256 {
  readonly #rounds: number;
  readonly #encryptKeys: Int32Array;
  #decryptKeys: Int32Array | undefined;

  /** Expands a 32-byte (or, for test vectors, 16-byte) key. */
  constructor(key: Uint8Array) {
    if (key.length !== 32 && key.length !== 16) {
      throw new RangeError(`AES needs a 32- or 16-byte key, got ${key.length}`);
    }
    const keyWords = key.length / 4;
    const rounds = this.#rounds = keyWords + 6;
    const keys = this.#encryptKeys = new Int32Array(4 * (rounds + 1));
    for (let i = 0; i < keyWords; i++) {
      keys[i] = key[4 * i] | (key[4 * i + 1] << 8) | (key[4 * i + 2] << 16) |
        (key[4 * i + 3] << 24);
    }
    let roundConstant = 1;
    for (let i = keyWords; i < keys.length; i++) {
      let t = keys[i - 1];
      if (i % keyWords === 0) {
        t = (t >>> 8) | (t << 24);
        t = subWord(t) ^ roundConstant;
        roundConstant = (roundConstant << 1) ^ (roundConstant & 0x80 ? 0x11b : 0);
      } else if (keyWords === 8 && i % 8 === 4) {
        t = subWord(t);
      }
      keys[i] = keys[i - keyWords] ^ t;
    }
  }

  /** Output of the last {@link encryptBlock} or {@link decryptBlock} call. */
  readonly out = new Int32Array(4);

  // The decryption schedule costs as much as the encryption one; per-message keys are used in
  // one direction only, so it is built on first use.
  #inverseKeys(): Int32Array {
    if (this.#decryptKeys) return this.#decryptKeys;
    const keys = this.#encryptKeys;
    const rounds = this.#rounds;
    // The equivalent inverse cipher: round keys in reverse, InvMixColumns on the inner ones.
    const inverse = this.#decryptKeys = new Int32Array(keys.length);
    for (let round = 0; round <= rounds; round++) {
      for (let column = 0; column < 4; column++) {
        const w = keys[4 * (rounds - round) + column];
        inverse[4 * round + column] = round === 0 || round === rounds ? w : D0[SBOX[w & 0xff]] ^
          D1[SBOX[(w >>> 8) & 0xff]] ^ D2[SBOX[(w >>> 16) & 0xff]] ^ D3[SBOX[w >>> 24]];
      }
    }
    return inverse;
  }

  /** Encrypts the block at `input[inputIndex..+4]` into `output[outputIndex..+4]`. */
  encryptWords(
    input: Int32Array,
    inputIndex: number,
    output: Int32Array,
    outputIndex: number,
  ): void {
    this.encryptBlock(
      input[inputIndex],
      input[inputIndex + 1],
      input[inputIndex + 2],
      input[inputIndex + 3],
    );
    output.set(this.out, outputIndex);
  }

  /** Decrypts the block at `input[inputIndex..+4]` into `output[outputIndex..+4]`. */
  decryptWords(
    input: Int32Array,
    inputIndex: number,
    output: Int32Array,
    outputIndex: number,
  ): void {
    this.decryptBlock(
      input[inputIndex],
      input[inputIndex + 1],
      input[inputIndex + 2],
      input[inputIndex + 3],
    );
    output.set(this.out, outputIndex);
  }

  /** Encrypts one block given as four words, leaving the result in {@link out}. */
  encryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    const k = this.#encryptKeys;
    const rounds = this.#rounds;
    let s0 = w0 ^ k[0];
    let s1 = w1 ^ k[1];
    let s2 = w2 ^ k[2];
    let s3 = w3 ^ k[3];
    let i = 4;
    for (let round = 1; round < rounds; round++, i += 4) {
      const t0 = T0[s0 & 0xff] ^ T1[(s1 >>> 8) & 0xff] ^ T2[(s2 >>> 16) & 0xff] ^ T3[s3 >>> 24] ^
        k[i];
      const t1 = T0[s1 & 0xff] ^ T1[(s2 >>> 8) & 0xff] ^ T2[(s3 >>> 16) & 0xff] ^ T3[s0 >>> 24] ^
        k[i + 1];
      const t2 = T0[s2 & 0xff] ^ T1[(s3 >>> 8) & 0xff] ^ T2[(s0 >>> 16) & 0xff] ^ T3[s1 >>> 24] ^
        k[i + 2];
      s3 = T0[s3 & 0xff] ^ T1[(s0 >>> 8) & 0xff] ^ T2[(s1 >>> 16) & 0xff] ^ T3[s2 >>> 24] ^
        k[i + 3];
      s0 = t0;
      s1 = t1;
      s2 = t2;
    }
    const output = this.out;
    output[0] = lastRound(SBOX, s0, s1, s2, s3) ^ k[i];
    output[1] = lastRound(SBOX, s1, s2, s3, s0) ^ k[i + 1];
    output[2] = lastRound(SBOX, s2, s3, s0, s1) ^ k[i + 2];
    output[3] = lastRound(SBOX, s3, s0, s1, s2) ^ k[i + 3];
  }

  /** Decrypts one block given as four words, leaving the result in {@link out}. */
  decryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    const k = this.#decryptKeys ?? this.#inverseKeys();
    const rounds = this.#rounds;
    let s0 = w0 ^ k[0];
    let s1 = w1 ^ k[1];
    let s2 = w2 ^ k[2];
    let s3 = w3 ^ k[3];
    let i = 4;
    for (let round = 1; round < rounds; round++, i += 4) {
      const t0 = D0[s0 & 0xff] ^ D1[(s3 >>> 8) & 0xff] ^ D2[(s2 >>> 16) & 0xff] ^ D3[s1 >>> 24] ^
        k[i];
      const t1 = D0[s1 & 0xff] ^ D1[(s0 >>> 8) & 0xff] ^ D2[(s3 >>> 16) & 0xff] ^ D3[s2 >>> 24] ^
        k[i + 1];
      const t2 = D0[s2 & 0xff] ^ D1[(s1 >>> 8) & 0xff] ^ D2[(s0 >>> 16) & 0xff] ^ D3[s3 >>> 24] ^
        k[i + 2];
      s3 = D0[s3 & 0xff] ^ D1[(s2 >>> 8) & 0xff] ^ D2[(s1 >>> 16) & 0xff] ^ D3[s0 >>> 24] ^
        k[i + 3];
      s0 = t0;
      s1 = t1;
      s2 = t2;
    }
    const output = this.out;
    output[0] = lastRound(INV_SBOX, s0, s3, s2, s1) ^ k[i];
    output[1] = lastRound(INV_SBOX, s1, s0, s3, s2) ^ k[i + 1];
    output[2] = lastRound(INV_SBOX, s2, s1, s0, s3) ^ k[i + 2];
    output[3] = lastRound(INV_SBOX, s3, s2, s1, s0) ^ k[i + 3];
  }
}

/** One output column of the final round: S-box and row shift, no column mixing. */
function lastRound(box: Uint8Array, a: number, b: number, c: number, d: number): number {
  return box[a & 0xff] | (box[(b >>> 8) & 0xff] << 8) | (box[(c >>> 16) & 0xff] << 16) |
    (box[d >>> 24] << 24);
}

function subWord(w: number): number {
  return SBOX[w & 0xff] | (SBOX[(w >>> 8) & 0xff] << 8) | (SBOX[(w >>> 16) & 0xff] << 16) |
    (SBOX[w >>> 24] << 24);
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
