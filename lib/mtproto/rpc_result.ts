/**
 * `rpc_result`: the answer to a request, naming the request's msg_id. Built by the server, read by
 * the client. https://core.telegram.org/mtproto/service_messages#response-to-an-rpc-query
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import type { BodyWriter } from "./encrypted_message.ts";

/** Constructor id of `rpc_result`. */
export const RPC_RESULT_ID = 0xf35c6d01;

/**
 * Wraps `result` (a serialized object, gzip_packed or not) as the answer to `requestMessageId`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packRpcResult, readRpcResult } from "./rpc_result.ts";
 * const packed = packRpcResult(12n, new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(readRpcResult(packed), { requestMessageId: 12n, result: new Uint8Array([1, 2, 3, 4]) });
 * ```
 */
export function packRpcResult(requestMessageId: bigint, result: Uint8Array): Uint8Array {
  // Laid out directly: a TlWriter would copy a file part's megabyte twice (in, then finish()).
  const out = new Uint8Array(12 + result.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, RPC_RESULT_ID, true);
  view.setBigInt64(4, BigInt.asIntN(64, requestMessageId), true);
  out.set(result, 12);
  return out;
}

/**
 * `rpc_result` as a body that writes itself into the message it goes in (see encryptMessage),
 * around a result that does the same: a file part made straight into place is never copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packRpcResult, rpcResultBody } from "./rpc_result.ts";
 * const result = { length: 4, writeTo: (into: Uint8Array) => into.set([1, 2, 3, 4]) };
 * const body = rpcResultBody(12n, result);
 * const out = new Uint8Array(body.length);
 * body.writeTo(out);
 * assert.deepEqual(out, packRpcResult(12n, new Uint8Array([1, 2, 3, 4])));
 * ```
 */
export function rpcResultBody(requestMessageId: bigint, result: BodyWriter): BodyWriter {
  return {
    length: 12 + result.length,
    writeTo(into) {
      const view = new DataView(into.buffer, into.byteOffset, 12);
      view.setUint32(0, RPC_RESULT_ID, true);
      view.setBigInt64(4, BigInt.asIntN(64, requestMessageId), true);
      result.writeTo(into.subarray(12, 12 + result.length));
    },
  };
}

/** Splits an `rpc_result` into the request's msg_id and the result's bytes (a view, not a copy). */
export function readRpcResult(body: Uint8Array): { requestMessageId: bigint; result: Uint8Array } {
  if (body.length < 16) throw new SecurityError("rpc_result shorter than its header");
  const view = new DataView(body.buffer, body.byteOffset, 12);
  if (view.getUint32(0, true) !== RPC_RESULT_ID) throw new SecurityError("not an rpc_result");
  return { requestMessageId: view.getBigInt64(4, true), result: body.subarray(12) };
}
