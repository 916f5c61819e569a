/**
 * `bad_server_salt`: a message came with a salt the server no longer (or not yet) accepts; it
 * names the salt to use. The server builds it; the client takes the salt, forgets its future
 * salts, and sends the message again under a new msg_id.
 * https://core.telegram.org/mtproto/service_messages_about_messages#notice-of-ignored-error-message
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The notification that message `badMsgId` had a wrong salt, carrying the one to use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { badServerSalt } from "./bad_server_salt.ts";
 * assert.equal(badServerSalt(4n, 1, 7n).error_code, 48);
 * ```
 */
export function badServerSalt(badMsgId: bigint, badMsgSeqNo: number, newSalt: bigint): TlObject {
  return {
    _cons: "bad_server_salt",
    bad_msg_id: badMsgId,
    bad_msg_seqno: badMsgSeqNo,
    error_code: 48,
    new_server_salt: newSalt,
  };
}
