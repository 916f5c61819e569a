/**
 * `msg_resend_req`: a side asks for messages it never got, by the msg_ids they went out under.
 * The client asks so for an answer a msg_detailed_info announced; the emulator sends again the
 * content messages it kept, each under a new msg_id (an answer stays a response, ≡ 1 mod 4).
 * https://core.telegram.org/mtproto/service_messages_about_messages#explicit-request-to-re-send-messages
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The request for the messages sent as `ids`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgResendReq } from "./msg_resend_req.ts";
 * assert.deepEqual(msgResendReq([9n]), { _cons: "msg_resend_req", msg_ids: [9n] });
 * ```
 */
export function msgResendReq(ids: bigint[]): TlObject {
  return { _cons: "msg_resend_req", msg_ids: ids };
}

/**
 * The kept messages a decoded msg_resend_req asks for, in its order; ids not kept are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resendRequested } from "./msg_resend_req.ts";
 * const kept = new Map([[9n, new Uint8Array(4)]]);
 * const again = resendRequested({ _cons: "msg_resend_req", msg_ids: [9n, 11n] }, kept);
 * assert.deepEqual(again.map((message) => [message.messageId, message.response]), [[9n, true]]);
 * ```
 */
export function resendRequested(
  value: TlObject,
  kept: ReadonlyMap<bigint, Uint8Array>,
): { messageId: bigint; body: Uint8Array; response: boolean }[] {
  const again = [];
  for (const messageId of value.msg_ids as bigint[]) {
    const body = kept.get(messageId);
    if (body) again.push({ messageId, body, response: (messageId & 3n) === 1n });
  }
  return again;
}
