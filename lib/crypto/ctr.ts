/**
 * AES-256-CTR as a stateful stream, for the obfuscated transport: each direction keeps one
 * instance for the life of the connection.
 *
 * @module
 */

import { Aes256 } from "./aes.ts";

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
  readonly #aes: Aes256;
  readonly #counter: Uint8Array;
  readonly #counterWords: Int32Array;
  readonly #keystream = new Int32Array(4);
  readonly #keystreamBytes = new Uint8Array(this.#keystream.buffer);
  #used = 16;

  /** Starts the stream at counter `iv` (16 bytes). */
  constructor(key: Uint8Array, iv: Uint8Array) {
    if (iv.length !== 16) throw new RangeError(`CTR needs a 16-byte IV, got ${iv.length}`);
    this.#aes = new Aes256(key);
    this.#counter = iv.slice();
    this.#counterWords = new Int32Array(this.#counter.buffer);
  }

  /**
   * XORs `data` with the next bytes of the keystream, into `output` (a new array unless given;
   * it may be `data` itself, which is then processed in place).
   */
  process(data: Uint8Array, output: Uint8Array = new Uint8Array(data.length)): Uint8Array {
    for (let i = 0; i < data.length; i++) {
      if (this.#used === 16) this.#refill();
      output[i] = data[i] ^ this.#keystreamBytes[this.#used++];
    }
    return output;
  }

  #refill(): void {
    const counter = this.#counterWords;
    this.#aes.encryptBlock(counter[0], counter[1], counter[2], counter[3]);
    this.#keystream.set(this.#aes.out);
    for (let i = 15; i >= 0; i--) if (++this.#counter[i] !== 256) break;
    this.#used = 0;
  }
}
