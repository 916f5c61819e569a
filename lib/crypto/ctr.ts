/**
 * AES-256-CTR as a stateful stream, for the obfuscated transport: each direction keeps one
 * instance for the life of the connection.
 *
 * Whole blocks go through the generated CTR loop a word at a time (the cipher inlined, see
 * scripts/generate_aes_rounds.ts); only a call's first and last few bytes, where it starts or ends
 * inside a block, are XORed one at a time. node:crypto's streaming aes-256-ctr measured no faster
 * on this Deno for the transport's sizes (about as fast at 1 MiB, slower for small frames, where
 * each call into the runtime costs more than the bytes), so the stream stays in TypeScript.
 *
 * @module
 */

import { expandKey } from "./aes.ts";
import { ctrXor128, ctrXor256 } from "./aes_rounds.ts";

/** Bytes of a misaligned call handled at a time in the aligned scratch. */
const SCRATCH_BYTES = 16384;
// Calls run synchronously start to finish, so one scratch serves every stream.
const scratch = new Int32Array(SCRATCH_BYTES >>> 2);
const scratchBytes = new Uint8Array(scratch.buffer);

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
  readonly #keys: Int32Array;
  readonly #xor: typeof ctrXor256;
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
    if (from % 4 === 0 && to % 4 === 0) {
      const input = new Int32Array(data.buffer, from, bytes >>> 2);
      const words = data.buffer === output.buffer && from === to
        ? input
        : new Int32Array(output.buffer, to, bytes >>> 2);
      this.#xor(input, words, 0, input.length, this.#keys, this.#counter);
      return;
    }
    // A misaligned view cannot be read as words: through the aligned scratch, a chunk at a time.
    for (let done = 0; done < bytes; done += SCRATCH_BYTES) {
      const chunk = Math.min(SCRATCH_BYTES, bytes - done);
      scratchBytes.set(data.subarray(at + done, at + done + chunk));
      this.#xor(scratch, scratch, 0, chunk >>> 2, this.#keys, this.#counter);
      output.set(scratchBytes.subarray(0, chunk), at + done);
    }
  }
}
