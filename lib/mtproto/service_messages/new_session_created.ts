/**
 * `new_session_created`: the server saw a session id for the first time. It names the first
 * msg_id of the session and the salt to use; the client takes the salt and tells its owner that
 * updates in between may have been lost.
 * https://core.telegram.org/mtproto/service_messages#new-session-creation-notification
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The notice for a session whose first message was `firstMessageId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newSessionCreated } from "./new_session_created.ts";
 * assert.equal(newSessionCreated(4n, 1n, 2n).first_msg_id, 4n);
 * ```
 */
export function newSessionCreated(
  firstMessageId: bigint,
  uniqueId: bigint,
  salt: bigint,
): TlObject {
  return {
    _cons: "new_session_created",
    first_msg_id: firstMessageId,
    unique_id: uniqueId,
    server_salt: salt,
  };
}
