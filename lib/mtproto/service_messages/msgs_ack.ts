/**
 * `msgs_ack`: both sides acknowledge the content-related messages they received (those with an
 * odd seqno), many in one; receiving one needs nothing, since what was not acknowledged is resent
 * after a reconnect anyway.
 * https://core.telegram.org/mtproto/service_messages_about_messages#acknowledgment-of-receipt
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/** At most this many msg_ids in one msgs_ack. */
export const MAX_ACKS_PER_MESSAGE = 8192;

/**
 * Takes up to {@link MAX_ACKS_PER_MESSAGE} ids off the front of `pending` into one msgs_ack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takeAcks } from "./msgs_ack.ts";
 * const pending = [4n, 8n];
 * assert.deepEqual(takeAcks(pending), { _cons: "msgs_ack", msg_ids: [4n, 8n] });
 * assert.equal(pending.length, 0);
 * ```
 */
export function takeAcks(pending: bigint[]): TlObject {
  return { _cons: "msgs_ack", msg_ids: pending.splice(0, MAX_ACKS_PER_MESSAGE) };
}
