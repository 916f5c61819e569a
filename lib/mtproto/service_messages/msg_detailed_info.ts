/**
 * `msg_detailed_info` and `msg_new_detailed_info`: the server has an answer (`answer_msg_id`) that
 * we may have missed. The client acknowledges it when it has it, and asks for it with
 * msg_resend_req otherwise; a notice about a message that is not ours needs nothing.
 * https://core.telegram.org/mtproto/service_messages_about_messages#extended-voluntary-communication-of-status-of-one-message
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * What to do about a decoded notice: `ack` or `resend_req` its answer's msg_id, or nothing.
 * `isOurs` knows the client's messages, `received` the server messages it got.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detailedInfoAction } from "./msg_detailed_info.ts";
 * const notice = { _cons: "msg_detailed_info", msg_id: 4n, answer_msg_id: 9n, bytes: 8, status: 0 };
 * assert.deepEqual(detailedInfoAction(notice, () => true, () => false), { resend_req: 9n });
 * assert.deepEqual(detailedInfoAction(notice, () => true, () => true), { ack: 9n });
 * assert.equal(detailedInfoAction(notice, () => false, () => false), undefined);
 * ```
 */
export function detailedInfoAction(
  value: TlObject,
  isOurs: (messageId: bigint) => boolean,
  received: (messageId: bigint) => boolean,
): { ack: bigint } | { resend_req: bigint } | undefined {
  const answerId = value.answer_msg_id as bigint;
  const original = value.msg_id as bigint | undefined; // msg_new_detailed_info names none
  if (original !== undefined && !isOurs(original)) return undefined;
  return received(answerId) ? { ack: answerId } : { resend_req: answerId };
}
