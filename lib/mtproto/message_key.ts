/**
 * MTProto 2.0's per-message keys: msg_key from SHA-256 over a slice of the auth key and the
 * padded plaintext, and the AES-256-IGE key and IV derived from msg_key. `x` is 0 for messages
 * from the client and 8 for messages from the server.
 *
 * @module
 */

import { sha256 } from "../crypto/hash.ts";

/** Which side sent the message: the auth key slices differ by direction. */
export type Direction = "client" | "server";

function offsetOf(direction: Direction): number {
  return direction === "client" ? 0 : 8;
}

/**
 * msg_key = the middle 16 bytes of SHA-256(auth_key[88+x .. 120+x] + padded plaintext).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageKey } from "./message_key.ts";
 * const authKey = new Uint8Array(256).fill(1);
 * assert.equal(messageKey(authKey, new Uint8Array(32), "client").length, 16);
 * ```
 */
export function messageKey(
  authKey: Uint8Array,
  paddedPlaintext: Uint8Array,
  direction: Direction,
): Uint8Array {
  const x = offsetOf(direction);
  return sha256(authKey.subarray(88 + x, 120 + x), paddedPlaintext).subarray(8, 24);
}

/** The AES-256-IGE key and IV for one message, from its msg_key. */
export function messageAesKeyIv(
  authKey: Uint8Array,
  msgKey: Uint8Array,
  direction: Direction,
): { key: Uint8Array; iv: Uint8Array } {
  const x = offsetOf(direction);
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 76 + x), msgKey);
  const key = new Uint8Array(32);
  key.set(a.subarray(0, 8), 0);
  key.set(b.subarray(8, 24), 8);
  key.set(a.subarray(24, 32), 24);
  const iv = new Uint8Array(32);
  iv.set(b.subarray(0, 8), 0);
  iv.set(a.subarray(8, 24), 8);
  iv.set(b.subarray(24, 32), 24);
  return { key, iv };
}
