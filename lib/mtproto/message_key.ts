/**
 * MTProto 2.0's per-message keys: msg_key from SHA-256 over a slice of the auth key and the
 * padded plaintext, and the AES-256-IGE key and IV derived from msg_key. `x` is 0 for messages
 * from the client and 8 for messages from the server.
 *
 * @module
 */

import { sha256Into } from "../crypto/hash.ts";
import { sha256Of } from "../crypto/sha256.ts";

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
  return messageKeyHash(authKey, paddedPlaintext, direction, new Uint8Array(32)).subarray(8, 24);
}

/**
 * The whole SHA-256 whose bytes 8..24 are msg_key, written into `out` (32 bytes at `offset`):
 * the send and receive paths hash into scratch space instead of a new array per message.
 */
export function messageKeyHash(
  authKey: Uint8Array,
  paddedPlaintext: Uint8Array,
  direction: Direction,
  out: Uint8Array,
  offset = 0,
): Uint8Array {
  const x = offsetOf(direction);
  return sha256Into(authKey.subarray(88 + x, 120 + x), paddedPlaintext, out, offset);
}

/** An AES-256-IGE key and IV. */
export interface AesKeyIv {
  key: Uint8Array;
  iv: Uint8Array;
}

// The two hashes of the derivation, reused: it runs synchronously.
const hashA = new Uint8Array(32), hashB = new Uint8Array(32);

/**
 * The AES-256-IGE key and IV for one message, from its msg_key, written into `into` (two new
 * 32-byte arrays unless given: the send and receive paths pass scratch arrays they reuse).
 */
export function messageAesKeyIv(
  authKey: Uint8Array,
  msgKey: Uint8Array,
  direction: Direction,
  into: AesKeyIv = { key: new Uint8Array(32), iv: new Uint8Array(32) },
): AesKeyIv {
  const x = offsetOf(direction);
  // Both inputs are 52 bytes, one block: TypeScript hashes them far faster than a native call.
  const a = sha256Of(msgKey, authKey.subarray(x, x + 36), hashA);
  const b = sha256Of(authKey.subarray(40 + x, 76 + x), msgKey, hashB);
  const { key, iv } = into;
  for (let i = 0; i < 8; i++) {
    key[i] = a[i];
    key[24 + i] = a[24 + i];
    iv[i] = b[i];
    iv[24 + i] = b[24 + i];
  }
  for (let i = 8; i < 24; i++) {
    key[i] = b[i];
    iv[i] = a[i];
  }
  return into;
}
