/**
 * The AES block cipher in plain TypeScript, table-driven. MTProto uses 256-bit keys; 128-bit keys
 * are supported too, since the published IGE test vectors use them.
 *
 * The state is kept as four little-endian 32-bit words (byte 0 of a column in the low bits), so
 * data can be read through an `Int32Array` view on little-endian machines with no byte swapping.
 * The tables live in `aes_tables.ts`, the unrolled rounds in the generated `aes_rounds.ts`.
 *
 * @module
 */

import {
  decryptBlock128,
  decryptBlock256,
  encryptBlock128,
  encryptBlock256,
} from "./aes_rounds.ts";
import { DECRYPT_TABLE, SBOX } from "./aes_tables.ts";

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

/** One block's worth of AES: four little-endian words in, four words written to `out`. */
export type BlockFunction = (
  keys: Int32Array,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  out: Int32Array,
) => void;

/** The block encryption for round keys from {@link expandKey}: AES-256 or AES-128, by length. */
export function encryptBlockFor(keys: Int32Array): BlockFunction {
  return keys.length === 60 ? encryptBlock256 : encryptBlock128;
}

/** The block decryption for round keys from {@link invertKeySchedule}, chosen the same way. */
export function decryptBlockFor(keys: Int32Array): BlockFunction {
  return keys.length === 60 ? decryptBlock256 : decryptBlock128;
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
  readonly #encrypt: BlockFunction;
  #decryptKeys: Int32Array | undefined;
  /** Output of the last {@link Aes256.encryptBlock} or {@link Aes256.decryptBlock} call. */
  readonly out: Int32Array = new Int32Array(4);

  /** Expands a 32-byte (or, for test vectors, 16-byte) key. */
  constructor(key: Uint8Array) {
    this.#encryptKeys = expandKey(key);
    this.#encrypt = encryptBlockFor(this.#encryptKeys);
  }

  /** Encrypts one block given as four words, leaving the result in {@link out}. */
  encryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    this.#encrypt(this.#encryptKeys, w0, w1, w2, w3, this.out);
  }

  /** Decrypts one block given as four words, leaving the result in {@link out}. */
  decryptBlock(w0: number, w1: number, w2: number, w3: number): void {
    // Built on first use: a key used in one direction never pays for the other schedule.
    this.#decryptKeys ??= invertKeySchedule(this.#encryptKeys);
    decryptBlockFor(this.#decryptKeys)(this.#decryptKeys, w0, w1, w2, w3, this.out);
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
