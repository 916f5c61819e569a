/**
 * `rpc_drop_answer`: the client gave up on a request that went out, so the server need not send
 * (or compute) its answer. The server answers in an rpc_result with rpc_answer_unknown,
 * rpc_answer_dropped_running or rpc_answer_dropped; the client needs none of them.
 * https://core.telegram.org/mtproto/service_messages#cancellation-of-an-rpc-query
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";

/**
 * The request to drop the answer to the request sent as `requestMessageId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpcDropAnswer } from "./rpc_drop_answer.ts";
 * assert.deepEqual(rpcDropAnswer(4n), { _cons: "rpc_drop_answer", req_msg_id: 4n });
 * ```
 */
export function rpcDropAnswer(requestMessageId: bigint): TlObject {
  return { _cons: "rpc_drop_answer", req_msg_id: requestMessageId };
}

/**
 * The answer of a server that computes every answer at once, so never has one to drop (the
 * emulator's case): rpc_answer_unknown.
 */
export function dropAnswerOfComputedCall(): TlObject {
  return { _cons: "rpc_answer_unknown" };
}
