/**
 * `msgs_state_info` and `msgs_all_info`: the server's word on messages we sent. States 1 (nothing
 * known), 2 (msg_id too low) and 3 (too high) mean it never got them, so the client sends them
 * again under new msg_ids; the other states need nothing.
 * https://core.telegram.org/mtproto/service_messages_about_messages#voluntary-communication-of-status-of-messages
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The msg_ids of a decoded msgs_all_info (or of a msgs_state_info with the ids it answers) that
 * the server never got.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notReceived } from "./msgs_state_info.ts";
 * const info = { _cons: "msgs_all_info", msg_ids: [4n, 8n, 12n], info: new Uint8Array([1, 4, 3]) };
 * assert.deepEqual(notReceived(info), [4n, 12n]);
 * ```
 */
export function notReceived(value: TlObject): bigint[] {
  const ids = (value.msg_ids as bigint[] | undefined) ?? [];
  const info = value.info as Uint8Array;
  const lost: bigint[] = [];
  for (let i = 0; i < ids.length && i < info.length; i++) {
    const state = info[i] & 7;
    if (state >= 1 && state <= 3) lost.push(ids[i]);
  }
  return lost;
}
