/**
 * `ping` and `ping_delay_disconnect` are answered by `pong`, naming the ping's msg_id (the client
 * resolves its ping by it). ping_delay_disconnect also asks the server to close the connection
 * unless another ping comes within `disconnect_delay` seconds.
 * https://core.telegram.org/mtproto/service_messages#ping-messages-pingpong
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The answer to the ping sent as `pingMessageId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pong } from "./pong.ts";
 * assert.deepEqual(pong(4n, 9n), { _cons: "pong", msg_id: 4n, ping_id: 9n });
 * ```
 */
export function pong(pingMessageId: bigint, pingId: unknown): TlObject {
  return { _cons: "pong", msg_id: pingMessageId, ping_id: pingId };
}

/**
 * How long after a ping_delay_disconnect the server closes a silent connection, in milliseconds
 * (at least a second).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { disconnectDelayMs } from "./pong.ts";
 * assert.equal(disconnectDelayMs({ _cons: "ping_delay_disconnect", disconnect_delay: 75 }), 75_000);
 * assert.equal(disconnectDelayMs({ _cons: "ping_delay_disconnect", disconnect_delay: 0 }), 1000);
 * ```
 */
export function disconnectDelayMs(ping: TlObject): number {
  return Math.max(1, ping.disconnect_delay as number) * 1000;
}
