/**
 * Which received msg_ids a side accepts: the sender's parity (divisible by 4 from a client, odd
 * from a server) and a time within 300 s in the past and 30 s in the future of the receiver's
 * clock. A server answers a refusal with bad_msg_notification code 18, 16 or 17; a client drops
 * the message. https://core.telegram.org/mtproto/description#message-identifier-msg-id and
 * https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message
 *
 * @module
 */

/** How far in the past a msg_id's time may be, in seconds. */
export const MSG_ID_MAX_AGE_SECONDS = 300;
/** How far in the future a msg_id's time may be, in seconds. */
export const MSG_ID_MAX_AHEAD_SECONDS = 30;

/** Why a msg_id is refused: its bad_msg_notification code and words for logs and events. */
export interface MsgIdRefusal {
  /** 16: too low (too old), 17: too high (too far ahead), 18: wrong parity for its sender. */
  code: 16 | 17 | 18;
  reason: string;
}

/**
 * Checks a msg_id received from `sender` against the receiver's time `now` (seconds); undefined
 * when it is acceptable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMsgId } from "./msg_id_window.ts";
 * const now = 1_700_000_000;
 * assert.equal(checkMsgId(BigInt(now) << 32n, "client", now), undefined);
 * assert.equal(checkMsgId((BigInt(now) << 32n) | 1n, "client", now)?.code, 18);
 * assert.equal(checkMsgId(BigInt(now - 301) << 32n, "client", now)?.code, 16);
 * assert.equal(checkMsgId((BigInt(now + 31) << 32n) | 3n, "server", now)?.code, 17);
 * ```
 */
export function checkMsgId(
  messageId: bigint,
  sender: "client" | "server",
  now: number,
): MsgIdRefusal | undefined {
  const low = messageId & 3n;
  if (sender === "client" ? low !== 0n : low !== 1n && low !== 3n) {
    const reason = sender === "client"
      ? "msg_id is not divisible by 4"
      : "server msg_id is not odd";
    return { code: 18, reason };
  }
  const seconds = Number(messageId >> 32n);
  if (seconds < now - MSG_ID_MAX_AGE_SECONDS || seconds > now + MSG_ID_MAX_AHEAD_SECONDS) {
    const reason = `${sender === "server" ? "server " : ""}msg_id time ${seconds} is outside ` +
      `the window around ${Math.floor(now)}`;
    return { code: seconds < now - MSG_ID_MAX_AGE_SECONDS ? 16 : 17, reason };
  }
  return undefined;
}
