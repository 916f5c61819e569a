/**
 * Received bytes waiting to be framed: chunks are appended as they arrive and taken from the
 * front, copying only when a read spans chunks. A big frame (a file's part) is assembled in one
 * buffer of its own as its bytes arrive, which the socket can read straight into
 * ({@link ByteQueue.readTarget}): no read buffers held until the frame is whole, and no copy of
 * them at the end.
 *
 * @module
 */

import type { FramePool } from "../io/frame_pool.ts";

/** Frames from this size on are assembled in a buffer of their own (see {@link ByteQueue.reserve}). */
export const ASSEMBLE_FROM = 64 * 1024;

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
  /** Where big frames' buffers come from (none: each its own). */
  readonly #pool?: FramePool;
  #chunks: Uint8Array[] = [];
  #length = 0;
  /** The frame being assembled (all the queued bytes are its first `#filled`), if any. */
  #assembly: Uint8Array | undefined;
  #filled = 0;

  /**
   * A queue; with `pool`, a big frame is gathered in a buffer lent by it (one reference, the
   * frame's: whoever handles the frame gives it back once done).
   */
  constructor(pool?: FramePool) {
    this.#pool = pool;
  }

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends received bytes (kept by reference: the caller must not reuse the buffer). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const assembly = this.#assembly;
    if (!assembly) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      return;
    }
    const take = Math.min(chunk.length, assembly.length - this.#filled);
    // Read straight into the frame's buffer (readTarget): the bytes are already in place.
    const inPlace = chunk.buffer === assembly.buffer &&
      chunk.byteOffset === assembly.byteOffset + this.#filled;
    if (!inPlace) assembly.set(chunk.subarray(0, take), this.#filled);
    this.#filled += take;
    this.#length += take;
    if (this.#filled < assembly.length) return;
    // Whole: the frame is the first chunk, and what came after it follows.
    this.#assembly = undefined;
    this.#chunks = [assembly];
    if (take < chunk.length) this.push(chunk.subarray(take));
  }

  /**
   * Says that the first `count` bytes, more than are queued, are one frame: from
   * {@link ASSEMBLE_FROM} bytes on, they are gathered in one buffer of that size as they come.
   */
  reserve(count: number): void {
    if (this.#assembly || count < ASSEMBLE_FROM || count <= this.#length) return;
    const assembly = this.#pool ? this.#pool.take(count) : new Uint8Array(count);
    let offset = 0;
    for (const chunk of this.#chunks) {
      assembly.set(chunk, offset);
      offset += chunk.length;
    }
    this.#chunks = [];
    this.#assembly = assembly;
    this.#filled = offset;
  }

  /**
   * Where the next bytes received may be read into, if a frame is being assembled: its unfilled
   * part. Pushing the bytes read there (a view of it from its start) then copies nothing.
   */
  readTarget(): Uint8Array | undefined {
    return this.#assembly?.subarray(this.#filled);
  }

  /** Returns the first `count` bytes without removing them; `count` must not exceed length. */
  peek(count: number): Uint8Array {
    // While a frame is assembled, all the queued bytes are its first ones.
    if (this.#assembly) return this.#assembly.subarray(0, count);
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
