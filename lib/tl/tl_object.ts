/**
 * The plain-object form of TL values (`{"_cons": "inputPeerUser", ...}`) and the wire constants
 * that both the encoder and the decoder go by.
 *
 * @module
 */

/** A TL value in its plain-object form. */
export type TlObject = { _cons: string; [field: string]: unknown };

/** Constructor id of `vector`, the boxed form of every `Vector<T>`. */
export const VECTOR_ID = 0x1cb5c415;

/**
 * How deeply objects and vectors may nest in decoded or encoded TL. Telegram's deepest real
 * objects (rich text, page blocks) stay within a few dozen levels; thousands overflow the stack.
 */
export const MAX_NESTING = 200;

/**
 * True when `value` is a plain object carrying a string `_cons`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTlObject } from "./tl_object.ts";
 * assert.ok(isTlObject({ _cons: "inputPeerSelf" }));
 * assert.ok(!isTlObject([{ _cons: "inputPeerSelf" }]));
 * ```
 */
export function isTlObject(value: unknown): value is TlObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as { _cons?: unknown })._cons === "string";
}
