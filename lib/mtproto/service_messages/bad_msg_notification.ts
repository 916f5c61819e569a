/**
 * `bad_msg_notification`: a side refused a message for its msg_id, seqno or container. The server
 * builds it (codes 16, 17, 18 from the msg_id window); the client decides what each code asks of
 * it, and lets a 16 or 17 about its own message correct its clock before the time-window check.
 * https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import { MSG_CONTAINER_ID, walkContainer } from "../container.ts";
import { peekConstructorId } from "../peek.ts";

/** Constructor id of `bad_msg_notification`. */
export const BAD_MSG_NOTIFICATION_ID = 0xa7eff811;

/**
 * The notification refusing message `badMsgId` (sent with `badMsgSeqNo`) with `code`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { badMsgNotification } from "./bad_msg_notification.ts";
 * assert.equal(badMsgNotification(4n, 1, 16).error_code, 16);
 * ```
 */
export function badMsgNotification(badMsgId: bigint, badMsgSeqNo: number, code: number): TlObject {
  return {
    _cons: "bad_msg_notification",
    bad_msg_id: badMsgId,
    bad_msg_seqno: badMsgSeqNo,
    error_code: code,
  };
}

/**
 * What a client does about a code: `synchronize` its clock to the notification's msg_id and
 * resend (16, 17), start a `new_session` (seqno codes 32–35), `resend` under a new msg_id (20,
 * 48), or `fail` the requests (anything else: the message itself was wrong).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { badMsgAction } from "./bad_msg_notification.ts";
 * assert.equal(badMsgAction(17), "synchronize");
 * assert.equal(badMsgAction(33), "new_session");
 * assert.equal(badMsgAction(64), "fail");
 * ```
 */
export function badMsgAction(code: number): "synchronize" | "new_session" | "resend" | "fail" {
  switch (code) {
    case 16: // msg_id too low
    case 17: // msg_id too high: our clock is off; the notification's own id carries the time
      return "synchronize";
    case 32: // seqno too low
    case 33: // seqno too high: start over in a fresh session
    case 34: // an even seqno on a content message
    case 35: // an odd seqno on a non-content message
      return "new_session";
    case 48: // bad salt; bad_server_salt normally carries the new one
    case 20: // too old to be handled: send again
      return "resend";
  }
  return "fail";
}

const REASONS: Record<number, string> = {
  18: "msg_id is not divisible by 4",
  19: "a container msg_id repeats a previous one",
  64: "invalid container",
};

/** The words for a code that fails requests, as their failure reason says them. */
export function badMsgReason(code: number): string {
  return `bad_msg_notification ${code}: ${REASONS[code] ?? "refused by the server"}`;
}

/**
 * True when `body` (or a message in it, for a container) is a bad_msg_notification 16 or 17 about
 * a message of ours (`isOurs`). Only then may it move the clock: an old notification replayed by
 * someone on the path must not.
 */
export function isClockCorrection(
  body: Uint8Array,
  isOurs: (messageId: bigint) => boolean,
): boolean {
  const id = peekConstructorId(body);
  if (id === MSG_CONTAINER_ID) {
    // Containers nested past the stack's depth (a server may send anything) are none: the
    // session's receive() asks this before its own checks, and never throws.
    try {
      return containsClockCorrection(body, isOurs);
    } catch {
      return false;
    }
  }
  if (id !== BAD_MSG_NOTIFICATION_ID || body.length < 20) return false;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (!isOurs(view.getBigInt64(4, true))) return false;
  const code = view.getInt32(16, true);
  return code === 16 || code === 17;
}

/**
 * A container's messages looked at where they lie, by their constructor ids: almost no container
 * holds a notification, and unpacking each one (an object and a view per message) was paid on
 * every container received, before the session unpacks it again. False for a malformed container,
 * as unpacking it would fail.
 */
function containsClockCorrection(
  body: Uint8Array,
  isOurs: (messageId: bigint) => boolean,
): boolean {
  let found = false;
  const wellFormed = walkContainer(body, (start, length) => {
    if (found || length < 4) return;
    const inner = peekConstructorId(body, start);
    if (inner === BAD_MSG_NOTIFICATION_ID || inner === MSG_CONTAINER_ID) {
      found = isClockCorrection(body.subarray(start, start + length), isOurs);
    }
  });
  return wellFormed && found;
}
