/**
 * `destroy_auth_key` is answered by a bare `destroy_auth_key_ok`, `_none` or `_fail` (no
 * rpc_result, no id): the client keeps one such request at a time, and any of the three answers
 * it. https://core.telegram.org/mtproto/auth_key#destroying-the-auth-key
 *
 * @module
 */

import { peekConstructorId } from "../peek.ts";

/** Constructor id of `destroy_auth_key`. */
export const DESTROY_AUTH_KEY_ID = 0xd1435160;

/** The names of the bare answers to destroy_auth_key. */
export const DESTROY_AUTH_KEY_ANSWERS: ReadonlySet<string> = new Set([
  "destroy_auth_key_ok",
  "destroy_auth_key_none",
  "destroy_auth_key_fail",
]);

/**
 * True for a serialized destroy_auth_key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDestroyAuthKey } from "./destroy_auth_key.ts";
 * assert.equal(isDestroyAuthKey(new Uint8Array([0x60, 0x51, 0x43, 0xd1])), true);
 * ```
 */
export function isDestroyAuthKey(body: Uint8Array): boolean {
  return peekConstructorId(body) === DESTROY_AUTH_KEY_ID;
}
