/**
 * `destroy_session` is answered by a bare `destroy_session_ok` or `destroy_session_none` (no
 * rpc_result), naming the session: the client finds its request by that session id, and the
 * server answers `_ok` when it had the session.
 * https://core.telegram.org/mtproto/service_messages#request-to-destroy-session
 *
 * @module
 */

import type { TlObject } from "../../tl/codec.ts";
import { peekConstructorId } from "../peek.ts";

/** Constructor id of `destroy_session`. */
export const DESTROY_SESSION_ID = 0xe7512126;

/**
 * The session id a serialized destroy_session names, or undefined for any other body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { destroySessionTarget } from "./destroy_session.ts";
 * const body = new Uint8Array(12);
 * new DataView(body.buffer).setUint32(0, 0xe7512126, true);
 * new DataView(body.buffer).setBigInt64(4, 7n, true);
 * assert.equal(destroySessionTarget(body), 7n);
 * ```
 */
export function destroySessionTarget(body: Uint8Array): bigint | undefined {
  if (peekConstructorId(body) !== DESTROY_SESSION_ID || body.length < 12) return undefined;
  return new DataView(body.buffer, body.byteOffset, 12).getBigInt64(4, true);
}

/**
 * The answer to a destroy_session for `sessionId`: `_ok` when the session `existed`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { destroySessionAnswer } from "./destroy_session.ts";
 * assert.equal(destroySessionAnswer(7n, false)._cons, "destroy_session_none");
 * ```
 */
export function destroySessionAnswer(sessionId: unknown, existed: boolean): TlObject {
  return { _cons: existed ? "destroy_session_ok" : "destroy_session_none", session_id: sessionId };
}
