/**
 * An API call on the emulated server: its invoke wrappers taken off (noting the layer, the app's
 * initConnection, invokeWithoutUpdates), the method run by the DC, and the result or error
 * serialized in an rpc_result, gzip_packed when large, as Telegram sends them.
 * https://core.telegram.org/api/invoking
 *
 * @module
 */

import { RpcError } from "../errors.ts";
import { packGzip } from "../mtproto/gzip_packed.ts";
import { INVOKE_WRAPPERS } from "../mtproto/invoke_wrappers.ts";
import { packRpcResult, rpcResultBody } from "../mtproto/rpc_result.ts";
import type { BodyWriter } from "../mtproto/encrypted_message.ts";
import { isTlObject, type TlObject } from "../tl/codec.ts";
import type { AnswerOptions, CallContext, DcContext } from "./dc_context.ts";
import type { ServerSession } from "./server_session.ts";

/** Results longer than this travel gzip_packed when that is smaller. */
const GZIP_ABOVE = 4096;

/** Serializes rpc_error. */
export function errorBody(dc: DcContext, code: number, message: string): Uint8Array {
  return dc.codec.encode({ _cons: "rpc_error", error_code: code, error_message: message });
}

/**
 * Wraps a result as the rpc_result to `requestId`, compressed when large (and counted so) unless
 * `compress` is false.
 */
export function rpcResult(
  dc: DcContext,
  requestId: bigint,
  result: Uint8Array | BodyWriter,
  compress = true,
): Uint8Array | BodyWriter {
  if (!(result instanceof Uint8Array)) return rpcResultBody(requestId, result);
  const packed = compress ? packGzip(result, GZIP_ABOVE) : result;
  if (packed !== result) dc.stats.gzippedResults++;
  return packRpcResult(requestId, packed);
}

/**
 * Runs the call `request` sent as `messageId` in `session`; returns the serialized result (or
 * rpc_error), not yet wrapped in rpc_result. The handler's wishes for the answer are left in
 * `answer`.
 */
export function runCall(
  dc: DcContext,
  session: ServerSession,
  request: TlObject,
  messageId: bigint,
  answer: AnswerOptions = {},
): Uint8Array | BodyWriter {
  let call = request;
  const context: CallContext = {
    key: session.key.boundTo ?? session.key,
    messageKey: session.key,
    messageId,
    session,
    dc,
    answer,
  };
  let withoutUpdates = false;
  while (INVOKE_WRAPPERS.has(call._cons)) {
    if (call._cons === "invokeWithoutUpdates") withoutUpdates = true;
    if (call._cons === "invokeWithLayer") {
      const layer = call.layer as number;
      const served = dc.codec.schema.layer;
      if (session.layer !== layer && served !== undefined && layer !== served) {
        dc.log(
          `dc${dc.dcId}: the client declares layer ${layer}, the emulator serves layer ` +
            `${served}; objects whose ids changed between the two will not decode on the ` +
            `client (start the emulator with --scheme and that layer's api.tl)`,
        );
      }
      session.layer = context.layer = layer;
    }
    if (call._cons === "initConnection") {
      session.app = {
        apiId: Number(call.api_id),
        deviceModel: String(call.device_model ?? ""),
        systemVersion: String(call.system_version ?? ""),
        appVersion: String(call.app_version ?? ""),
      };
    }
    const inner = call.query;
    if (!isTlObject(inner)) return errorBody(dc, 400, "INPUT_REQUEST_INVALID");
    call = inner;
  }
  if (!withoutUpdates) session.wantsUpdates = true;
  const combinator = dc.codec.combinator(call._cons);
  if (!combinator || combinator.kind !== "function") {
    return errorBody(dc, 400, "INPUT_METHOD_INVALID");
  }
  try {
    const value = dc.call(call, context);
    // A handler that laid its result out itself (a file part) is not encoded again.
    return answer.encoded ?? dc.codec.encodeType(combinator.resultText, value);
  } catch (error) {
    if (error instanceof RpcError) return errorBody(dc, error.code, error.errorMessage);
    dc.log(`dc${dc.dcId}: ${call._cons} failed: ${(error as Error).stack ?? error}`);
    return errorBody(dc, 500, "INTERNAL_SERVER_ERROR");
  }
}
