/**
 * Buffers for the emulator's big outgoing messages (file parts), used again once the socket has
 * written them. A fresh megabyte costs the kernel a page fault per 4 KiB the first time it is
 * written: serving a download, that was an eighth of the emulator's CPU (more than making the
 * file's bytes), paid by whichever step first touched the new message.
 *
 * A buffer is lent by {@link takeSendBuffer} and comes back by {@link releaseSendBuffer} with the
 * bytes written from it (a view of it, framed in its headroom); one never given back (a write
 * that failed, a frame copied elsewhere) is left to the garbage collector.
 *
 * @module
 */

/** Messages from this many bytes up are made in a lent buffer; smaller ones cost little fresh. */
export const SEND_BUFFER_FROM = 64 * 1024;
/** Capacities are rounded up to this, so that parts of one size (plus random padding) share. */
const GRANULE = 64 * 1024;
/** Free buffers kept: a few connections' parts in flight, each written before the next is made. */
const KEPT = 16;

const free: ArrayBuffer[] = [];
// Weak: a buffer written elsewhere (a WebSocket's send) is never given back, and is let go.
const lent = new WeakSet<ArrayBuffer>();

/**
 * A buffer of `length` bytes (its content is whatever was there: the caller writes all of it),
 * lent until {@link releaseSendBuffer} is given a view of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { releaseSendBuffer, takeSendBuffer } from "./send_buffers.ts";
 * const first = takeSendBuffer(1 << 20);
 * assert.equal(first.length, 1 << 20);
 * releaseSendBuffer(first.subarray(4)); // written: the frame was a view of it
 * assert.equal(takeSendBuffer((1 << 20) - 100).buffer, first.buffer);
 * ```
 */
export function takeSendBuffer(length: number): Uint8Array {
  const capacity = Math.ceil(length / GRANULE) * GRANULE;
  // The smallest free buffer that fits, unless it is twice too big (a thumbnail in a megabyte).
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const size = free[i].byteLength;
    if (size >= length && size <= 2 * capacity && (best < 0 || size < free[best].byteLength)) {
      best = i;
    }
  }
  const buffer = best >= 0 ? free.splice(best, 1)[0] : new ArrayBuffer(capacity);
  lent.add(buffer);
  return new Uint8Array(buffer, 0, length);
}

/**
 * Gives back the buffer under `written` (any view of it) once the socket is done with it; bytes
 * from anywhere else are ignored, so a writer may call this for everything it wrote.
 */
export function releaseSendBuffer(written: Uint8Array): void {
  const buffer = written.buffer as ArrayBuffer;
  if (!lent.delete(buffer)) return;
  if (free.length < KEPT) free.push(buffer);
}
