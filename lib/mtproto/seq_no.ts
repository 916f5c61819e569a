/**
 * Message sequence numbers: twice the number of content-related messages sent before this one in
 * the session, plus one when this message is content-related itself. Both sides number what they
 * send so, and both acknowledge exactly the messages whose seqno is odd.
 * https://core.telegram.org/mtproto/description#message-sequence-number-msg-seqno
 *
 * @module
 */

/**
 * Issues the seqnos of one side of one session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeqNoCounter } from "./seq_no.ts";
 * const seqNos = new SeqNoCounter();
 * assert.deepEqual(
 *   [seqNos.next(true), seqNos.next(false), seqNos.next(true), seqNos.next(false)],
 *   [1, 2, 3, 4],
 * );
 * ```
 */
export class SeqNoCounter {
  /** Content-related messages numbered so far. */
  contentCount = 0;

  /** The seqno of the next message: odd (and counted) for a content-related one. */
  next(contentRelated: boolean): number {
    return contentRelated ? 2 * this.contentCount++ + 1 : 2 * this.contentCount;
  }

  /** Starts over, as a new session does. */
  reset(): void {
    this.contentCount = 0;
  }
}

/**
 * True when a received message is content-related (its seqno is odd), so that it must be
 * acknowledged with msgs_ack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { needsAck } from "./seq_no.ts";
 * assert.equal(needsAck(3), true);
 * assert.equal(needsAck(4), false);
 * ```
 */
export function needsAck(seqNo: number): boolean {
  return (seqNo & 1) === 1;
}
