/**
 * Buffers for the emulator's big messages (file parts), used again: those it sends once the
 * socket has written them, and those it receives once handled. A fresh megabyte costs the kernel
 * a page fault per 4 KiB the first time it is written: serving a download, that was an eighth of
 * the emulator's CPU (more than making the file's bytes), paid by whichever step first touched
 * the new message.
 *
 * A buffer is lent by {@link takeSendBuffer} and comes back by {@link releaseSendBuffer} with the
 * bytes written from it (a view of it, framed in its headroom); one never given back (a write
 * that failed, a frame copied elsewhere) is left to the garbage collector.
 *
 * @module
 */

import { FramePool } from "../../io/frame_pool.ts";

/**
 * The buffers big received frames (an upload's parts) are gathered in: lent by the server
 * transport, given back by the connection once it has handled the payload (its handlers use a
 * part's bytes before they return: an upload's part is written to its file, or copied).
 */
export const receivedFrames: FramePool = new FramePool();

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
