/**
 * The API's invoke wrappers: functions such as `invokeWithLayer` and `invokeWithoutUpdates` whose
 * `query` field is another call, run by the server with the wrapper's effect and answered with
 * that call's result. One list, so that the client (which looks inside them for a sign-in) and the
 * emulator (which unwraps them before answering) cannot disagree about what wraps a call.
 *
 * @module
 */

import { isTlObject, type TlObject } from "../tl/codec.ts";

/** The functions that carry another call in their `query` field and answer with its result. */
export const INVOKE_WRAPPERS: ReadonlySet<string> = new Set([
  "invokeWithLayer",
  "initConnection",
  "invokeWithoutUpdates",
  "invokeAfterMsg",
  "invokeAfterMsgs",
  "invokeWithMessagesRange",
  "invokeWithTakeout",
]);

/**
 * The call inside any invoke wrappers; the call itself when it wraps nothing.
 *
 * @example
 * ```ts
 * import { innermostCall } from "./invoke_wrappers.ts";
 *
 * const call = innermostCall({
 *   _cons: "invokeWithoutUpdates",
 *   query: { _cons: "help.getConfig" },
 * });
 * console.assert(call._cons === "help.getConfig");
 * ```
 */
export function innermostCall(request: TlObject): TlObject {
  let call = request;
  while (INVOKE_WRAPPERS.has(call._cons)) {
    // `_wrapped` is the codec's field-name-free spelling of the wrapped call (see lib/tl/codec.ts).
    const inner = call.query ?? call._wrapped;
    if (!isTlObject(inner)) break;
    call = inner;
  }
  return call;
}
