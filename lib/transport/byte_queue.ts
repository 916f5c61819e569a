/**
 * Received bytes waiting to be framed: chunks are appended as they arrive and taken from the
 * front, copying only when a read spans chunks.
 *
 * @module
 */

/**
 * A FIFO of bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteQueue } from "./byte_queue.ts";
 * const queue = new ByteQueue();
 * queue.push(Uint8Array.of(1, 2));
 * queue.push(Uint8Array.of(3));
 * assert.deepEqual(queue.take(3), Uint8Array.of(1, 2, 3));
 * assert.equal(queue.length, 0);
 * ```
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends received bytes (kept by reference: the caller must not reuse the buffer). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Returns the first `count` bytes without removing them; `count` must not exceed length. */
  peek(count: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= count) return first.subarray(0, count);
    const out = new Uint8Array(count);
    let offset = 0;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(0, count - offset);
      out.set(part, offset);
      offset += part.length;
      if (offset === count) break;
    }
    // Keep the joined bytes as one chunk so repeated peeks do not copy again.
    this.#coalesce(out);
    return out;
  }

  /** Removes and returns the first `count` bytes. */
  take(count: number): Uint8Array {
    const bytes = this.peek(count);
    this.skip(count);
    return bytes;
  }

  /** Removes the first `count` bytes. */
  skip(count: number): void {
    this.#length -= count;
    while (count > 0) {
      const first = this.#chunks[0];
      if (first.length <= count) {
        this.#chunks.shift();
        count -= first.length;
      } else {
        this.#chunks[0] = first.subarray(count);
        count = 0;
      }
    }
  }

  #coalesce(joined: Uint8Array): void {
    let remaining = joined.length;
    while (remaining > 0 && this.#chunks[0].length <= remaining) {
      remaining -= this.#chunks[0].length;
      this.#chunks.shift();
    }
    if (remaining > 0) this.#chunks[0] = this.#chunks[0].subarray(remaining);
    this.#chunks.unshift(joined);
  }
}
