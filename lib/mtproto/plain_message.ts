/**
 * Unencrypted messages, used only by the auth key exchange: auth_key_id 0, msg_id, length, body.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";

/** Wraps a body in an unencrypted message. */
export function packPlainMessage(messageId: bigint, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + body.length);
  const view = new DataView(out.buffer);
  view.setBigInt64(8, messageId, true);
  view.setUint32(16, body.length, true);
  out.set(body, 20);
  return out;
}

/** True when a received payload is an unencrypted message (its auth_key_id is zero). */
export function isPlainMessage(payload: Uint8Array): boolean {
  if (payload.length < 8) return false;
  for (let i = 0; i < 8; i++) if (payload[i] !== 0) return false;
  return true;
}

/**
 * Reads an unencrypted message, checking its header and declared length; trailing bytes (the
 * padding of padded intermediate) are ignored.
 */
export function unpackPlainMessage(payload: Uint8Array): { messageId: bigint; body: Uint8Array } {
  if (payload.length < 20 || !isPlainMessage(payload)) {
    throw new SecurityError("not an unencrypted message");
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const length = view.getUint32(16, true);
  if (length > payload.length - 20) {
    throw new SecurityError(
      `unencrypted message claims ${length} bytes, has ${payload.length - 20}`,
    );
  }
  return { messageId: view.getBigInt64(8, true), body: payload.subarray(20, 20 + length) };
}
