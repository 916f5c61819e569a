/**
 * `msgs_state_req` is answered by `msgs_state_info`: one byte per asked msg_id. Each side knows
 * only what it keeps, so it answers 4 (received) for those and 1 (nothing known) for the rest: the
 * client keeps its replay window, the emulator the answers it cached.
 * https://core.telegram.org/mtproto/service_messages_about_messages#request-for-message-status-information
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/** The message state "nothing is known about the message". */
export const STATE_UNKNOWN = 1;
/** The message state "message received". */
export const STATE_RECEIVED = 4;

/**
 * The answer to the msgs_state_req sent as `requestMessageId`, asking about `ids`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { msgsStateInfo } from "./msgs_state_req.ts";
 * const info = msgsStateInfo(12n, [4n, 8n], (id) => id === 8n);
 * assert.deepEqual(info.info, new Uint8Array([1, 4]));
 * ```
 */
export function msgsStateInfo(
  requestMessageId: bigint,
  ids: bigint[],
  received: (messageId: bigint) => boolean,
): TlObject {
  const info = Uint8Array.from(ids, (id) => (received(id) ? STATE_RECEIVED : STATE_UNKNOWN));
  return { _cons: "msgs_state_info", req_msg_id: requestMessageId, info };
}
