/**
 * AES-256-CTR as a stateful stream, for the obfuscated transport: each direction keeps one
 * instance for the life of the connection.
 *
 * Only a call's first and last few bytes, where it starts or ends inside a block, are XORed one
 * at a time; whole blocks go a word at a time. Short runs of whole blocks take their keystream
 * from the generated CTR loop (the cipher inlined, see scripts/generate_aes_rounds.ts): a call
 * into the runtime costs more than such few bytes. Long ones use the runtime's AES-256-ECB
 * (node:crypto, AES-NI) over a run of counter blocks, which from 512 bytes on measured faster than
 * the TypeScript loop (1.5× at 512 bytes, 2-3× from 4 KiB, 3-5× at 1 MiB) and than node:crypto's
 * own streaming aes-256-ctr (1.3-2.5×) on this Deno. The keystream is the same either way, so the
 * two paths mix freely in one stream.
 *
 * A native cipher costs about 6 KB of memory and 10-30 µs to make: a stream keeps one only once
 * it has moved {@link KEEP_NATIVE_AFTER} bytes (a connection that carries files or much traffic);
 * until then each call long enough to pay for making one ({@link NATIVE_FROM_UNKEPT}) makes its
 * own, and shorter ones stay in TypeScript. A thousand idle connections keep no native ciphers.
 *
 * @module
 */

import { type Cipheriv, createCipheriv } from "node:crypto";
import { expandKey } from "./aes.ts";
import { ctrXor128, ctrXor256 } from "./aes_rounds.ts";

/** Whole-block bytes in one call from which a kept native cipher is used (measured crossover). */
export const NATIVE_FROM = 512;
/** Whole-block bytes in one call from which a native cipher is made for it alone. */
export const NATIVE_FROM_UNKEPT = 8192;
/** Bytes a stream moves before it keeps a native cipher for good. */
export const KEEP_NATIVE_AFTER = 1 << 20;
/** Bytes handled at a time in the scratch arrays (counter blocks, misaligned data). */
const SCRATCH_BYTES = 65536;
// Calls run synchronously start to finish, so one set of scratch arrays serves every stream.
const scratch = new Int32Array(SCRATCH_BYTES >>> 2);
const scratchBytes = new Uint8Array(scratch.buffer);
const counters = new Int32Array(SCRATCH_BYTES >>> 2);
const counterBytes = new Uint8Array(counters.buffer);

/**
 * A CTR keystream with a 128-bit big-endian counter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AesCtr } from "./ctr.ts";
 * const key = new Uint8Array(32).fill(5), iv = new Uint8Array(16).fill(6);
 * const sealed = new AesCtr(key, iv).process(new TextEncoder().encode("hello, world"));
 * assert.equal(new TextDecoder().decode(new AesCtr(key, iv).process(sealed)), "hello, world");
 * ```
 */
export class AesCtr {
  readonly #key: Uint8Array;
  readonly #keys: Int32Array;
  readonly #xor: typeof ctrXor256;
  /** The runtime's AES-ECB under this key, kept once the stream has moved enough bytes. */
  #ecb: Cipheriv | undefined;
  /** Whole-block bytes the stream has moved so far (counted until it keeps a cipher). */
  #moved = 0;
  /** The next block's counter as four big-endian words, most significant first. */
  readonly #counter = new Int32Array(4);
  /** The keystream of the block a previous call ended inside, and how much of it is used. */
  readonly #keystream = new Int32Array(4);
  readonly #keystreamBytes = new Uint8Array(this.#keystream.buffer);
  #used = 16;

  /** Starts the stream at counter `iv` (16 bytes); `key` has 32 bytes (or 16, for AES-128). */
  constructor(key: Uint8Array, iv: Uint8Array) {
    if (iv.length !== 16) throw new RangeError(`CTR needs a 16-byte IV, got ${iv.length}`);
    this.#keys = expandKey(key);
    this.#key = key.slice();
    this.#xor = this.#keys.length === 60 ? ctrXor256 : ctrXor128;
    const view = new DataView(iv.buffer, iv.byteOffset, 16);
    for (let i = 0; i < 4; i++) this.#counter[i] = view.getInt32(4 * i);
  }

  /**
   * XORs `data` with the next bytes of the keystream, into `output` (a new array unless given;
   * it may be `data` itself, which is then processed in place).
   */
  process(data: Uint8Array, output: Uint8Array = new Uint8Array(data.length)): Uint8Array {
    if (output.length < data.length) {
      throw new RangeError(`CTR output of ${output.length} bytes for ${data.length} bytes`);
    }
    const length = data.length;
    const keystream = this.#keystreamBytes;
    let at = 0;
    // The rest of the block the previous call ended inside.
    while (this.#used < 16 && at < length) {
      output[at] = data[at] ^ keystream[this.#used++];
      at++;
    }
    const whole = (length - at) & ~15;
    if (whole > 0) {
      this.#wholeBlocks(data, output, at, whole);
      at += whole;
    }
    if (at < length) {
      // A last partial block: its keystream is kept for the next call.
      this.#keystream.fill(0);
      this.#xor(this.#keystream, this.#keystream, 0, 4, this.#keys, this.#counter);
      this.#used = 0;
      while (at < length) {
        output[at] = data[at] ^ keystream[this.#used++];
        at++;
      }
    }
    return output;
  }

  #wholeBlocks(data: Uint8Array, output: Uint8Array, at: number, bytes: number): void {
    const from = data.byteOffset + at, to = output.byteOffset + at;
    const aligned = from % 4 === 0 && to % 4 === 0;
    if (!this.#ecb && (this.#moved += bytes) >= KEEP_NATIVE_AFTER) this.#ecb = this.#nativeCipher();
    const ecb = this.#ecb
      ? (bytes >= NATIVE_FROM ? this.#ecb : undefined)
      : (bytes >= NATIVE_FROM_UNKEPT ? this.#nativeCipher() : undefined);
    if (aligned && !ecb) {
      const input = new Int32Array(data.buffer, from, bytes >>> 2);
      const words = data.buffer === output.buffer && from === to
        ? input
        : new Int32Array(output.buffer, to, bytes >>> 2);
      this.#xor(input, words, 0, input.length, this.#keys, this.#counter);
      return;
    }
    // A chunk at a time: misaligned views cannot be read as words, so they go through the
    // aligned scratch; the keystream is native for long enough calls.
    for (let done = 0; done < bytes; done += SCRATCH_BYTES) {
      const chunk = Math.min(SCRATCH_BYTES, bytes - done);
      const words = chunk >>> 2;
      let input: Int32Array, target: Int32Array;
      if (aligned) {
        input = new Int32Array(data.buffer, from + done, words);
        target = data.buffer === output.buffer && from === to
          ? input
          : new Int32Array(output.buffer, to + done, words);
      } else {
        scratchBytes.set(data.subarray(at + done, at + done + chunk));
        input = target = scratch;
      }
      if (ecb) this.#nativeXor(ecb, input, target, words);
      else this.#xor(input, target, 0, words, this.#keys, this.#counter);
      if (!aligned) output.set(scratchBytes.subarray(0, chunk), at + done);
    }
  }

  /** A native AES-ECB under this stream's key. */
  #nativeCipher(): Cipheriv {
    return createCipheriv(`aes-${this.#key.length * 8}-ecb`, this.#key, null).setAutoPadding(false);
  }

  /** `target` = `input` ⊕ the keystream of the next `words / 4` blocks, made by native AES-ECB. */
  #nativeXor(ecb: Cipheriv, input: Int32Array, target: Int32Array, words: number): void {
    const counter = this.#counter;
    let n0 = counter[0], n1 = counter[1], n2 = counter[2], n3 = counter[3];
    let x0 = swap(n0), x1 = swap(n1), x2 = swap(n2);
    for (let i = 0; i < words; i += 4) {
      counters[i] = x0;
      counters[i + 1] = x1;
      counters[i + 2] = x2;
      counters[i + 3] = swap(n3);
      n3 = (n3 + 1) | 0;
      if (n3 === 0) {
        n2 = (n2 + 1) | 0;
        if (n2 === 0) {
          n1 = (n1 + 1) | 0;
          if (n1 === 0) n0 = (n0 + 1) | 0;
        }
        x0 = swap(n0);
        x1 = swap(n1);
        x2 = swap(n2);
      }
    }
    counter[0] = n0;
    counter[1] = n1;
    counter[2] = n2;
    counter[3] = n3;
    const keystream = ecb.update(counterBytes.subarray(0, words << 2));
    const stream = keystream.byteOffset % 4 === 0
      ? new Int32Array(keystream.buffer, keystream.byteOffset, words)
      : new Int32Array(keystream.slice().buffer, 0, words);
    for (let i = 0; i < words; i++) target[i] = input[i] ^ stream[i];
  }
}

/** A word's bytes reversed: the counter's big-endian words to the state's little-endian ones. */
function swap(word: number): number {
  return (word << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}
