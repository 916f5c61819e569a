/**
 * Buffers for big outgoing encrypted messages (file parts), used again once the socket has
 * written them: a fresh half megabyte or megabyte costs the kernel a page fault per 4 KiB the
 * first time it is written, which serving a download was an eighth of the emulator's CPU.
 *
 * A buffer is lent by {@link MessageBuffers.take} (see encryptMessage's `allocate`) and comes
 * back by {@link MessageBuffers.release} with the bytes written from it (a view of it, framed in
 * its headroom); one never given back (a write that failed, a frame copied elsewhere) is left to
 * the garbage collector.
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { IdleRelease, POOL_IDLE_MS } from "../io/idle_release.ts";

/** Messages from this many bytes up are made in a lent buffer; smaller ones cost little fresh. */
export const LEND_FROM = 64 * 1024;
/** Capacities are rounded up to this, so that parts of one size (plus random padding) share. */
const GRANULE = 64 * 1024;

/**
 * A set of reusable buffers for outgoing messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MessageBuffers } from "./message_buffers.ts";
 * const buffers = new MessageBuffers();
 * const first = buffers.take(1 << 20);
 * assert.equal(first.length, 1 << 20);
 * buffers.release(first.subarray(4)); // written: the frame was a view of it
 * assert.equal(buffers.take((1 << 20) - 100).buffer, first.buffer);
 * ```
 */
export class MessageBuffers {
  readonly #free: ArrayBuffer[] = [];
  // Weak: a buffer never given back is let go with its last view.
  readonly #lent = new WeakSet<ArrayBuffer>();
  readonly #kept: number;
  readonly #idle: IdleRelease;

  /**
   * Keeps at most `kept` free buffers (a few connections' parts in flight), and none once no
   * big message was made for `idleMs` (after an upload, a process gives its buffers back).
   */
  constructor(kept = 16, idleMs = POOL_IDLE_MS, clock?: Clock) {
    this.#kept = kept;
    this.#idle = new IdleRelease(() => this.#free.length = 0, idleMs, clock);
  }

  /**
   * An array of `length` bytes to make a message in (its content is whatever was there: the
   * caller writes all of it): lent from `LEND_FROM` bytes on, fresh below.
   */
  take = (length: number): Uint8Array => {
    if (length < LEND_FROM) return new Uint8Array(length);
    this.#idle.used();
    const capacity = Math.ceil(length / GRANULE) * GRANULE;
    // The smallest free buffer that fits, unless it is twice too big (a thumbnail in a megabyte).
    const free = this.#free;
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      const size = free[i].byteLength;
      if (size >= length && size <= 2 * capacity && (best < 0 || size < free[best].byteLength)) {
        best = i;
      }
    }
    const buffer = best >= 0 ? free.splice(best, 1)[0] : new ArrayBuffer(capacity);
    this.#lent.add(buffer);
    return new Uint8Array(buffer, 0, length);
  };

  /**
   * Gives back the buffer under `written` (any view of it) once the socket is done with it;
   * bytes from anywhere else are ignored, so a writer may call this for everything it wrote.
   */
  release = (written: Uint8Array): void => {
    const buffer = written.buffer as ArrayBuffer;
    if (!this.#lent.delete(buffer)) return;
    if (this.#free.length < this.#kept) {
      this.#free.push(buffer);
      this.#idle.holding();
    }
  };
}
