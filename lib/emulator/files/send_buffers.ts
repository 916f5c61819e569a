/**
 * The emulator's buffers for its big messages (file parts), used again: those it sends once the
 * socket has written them (see lib/mtproto/message_buffers.ts), and those it receives once
 * handled. Serving a download, fresh buffers' page faults were an eighth of the emulator's CPU.
 *
 * @module
 */

import { FramePool } from "../../io/frame_pool.ts";
import { LEND_FROM, MessageBuffers } from "../../mtproto/message_buffers.ts";

/**
 * The buffers big received frames (an upload's parts) are gathered in: lent by the server
 * transport, given back by the connection once it has handled the payload (its handlers use a
 * part's bytes before they return: an upload's part is written to its file, or copied).
 */
export const receivedFrames: FramePool = new FramePool();

/** Messages from this many bytes up are made in a lent buffer. */
export const SEND_BUFFER_FROM: number = LEND_FROM;

const sent = new MessageBuffers();

/**
 * A buffer of `length` bytes to make a message in, lent until {@link releaseSendBuffer} is given
 * a view of it (dc_server does once the socket wrote it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { releaseSendBuffer, takeSendBuffer } from "./send_buffers.ts";
 * const first = takeSendBuffer(1 << 20);
 * releaseSendBuffer(first.subarray(4));
 * assert.equal(takeSendBuffer((1 << 20) - 100).buffer, first.buffer);
 * ```
 */
export const takeSendBuffer: (length: number) => Uint8Array = sent.take;

/** Gives back the buffer under `written` once written; any other bytes are ignored. */
export const releaseSendBuffer: (written: Uint8Array) => void = sent.release;
