/**
 * Perfect forward secrecy: binding a temporary auth key to a permanent one with
 * `auth.bindTempAuthKey`. The call is sent under the temporary key; its `encrypted_message` is a
 * `bind_auth_key_inner` encrypted with the permanent key the way MTProto 1.0 encrypted messages
 * (SHA-1 msg_key and key derivation), which proves the client holds both keys. Both sides are here,
 * sans-IO: the client builds the call for a msg_id the session gives it, the server opens and
 * checks it.
 * https://core.telegram.org/api/pfs
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { sha1 } from "../crypto/hash.ts";
import { igeDecrypt, igeEncrypt } from "../crypto/ige.ts";
import { randomLong, type RandomSource } from "../crypto/random.ts";
import type { TlCodec, TlObject } from "../tl/codec.ts";
import type { AuthKey } from "./encrypted_message.ts";

/** The facts the inner object binds together. */
export interface TempKeyBinding {
  nonce: bigint;
  tempAuthKeyId: bigint;
  permAuthKeyId: bigint;
  /** The session the bind call is sent in, under the temporary key. */
  tempSessionId: bigint;
  /** Unix seconds; the binding (and the temporary key) ends then. */
  expiresAt: number;
}

/** An auth key's id as the signed `long` TL carries. */
export function authKeyIdLong(key: AuthKey): bigint {
  return new DataView(key.id.buffer, key.id.byteOffset, 8).getBigInt64(0, true);
}

/** MTProto 1.0's AES key and IV for a client-to-server message (x = 0). */
function v1AesKeyIv(authKey: Uint8Array, msgKey: Uint8Array) {
  const a = sha1(msgKey, authKey.subarray(0, 32));
  const b = sha1(authKey.subarray(32, 48), msgKey, authKey.subarray(48, 64));
  const c = sha1(authKey.subarray(64, 96), msgKey);
  const d = sha1(msgKey, authKey.subarray(96, 128));
  const key = new Uint8Array(32);
  key.set(a.subarray(0, 8), 0);
  key.set(b.subarray(8, 20), 8);
  key.set(c.subarray(4, 16), 20);
  const iv = new Uint8Array(32);
  iv.set(a.subarray(8, 20), 0);
  iv.set(b.subarray(0, 8), 12);
  iv.set(c.subarray(16, 20), 20);
  iv.set(d.subarray(0, 8), 24);
  return { key, iv };
}

/**
 * Builds the `auth.bindTempAuthKey` call for the message `messageId` of the temporary key's
 * session: a fresh nonce, and the inner object encrypted with the permanent key (random salt
 * and session id in its header, as the docs ask).
 */
export function bindTempAuthKeyCall(
  codec: TlCodec,
  permKey: AuthKey,
  binding: Omit<TempKeyBinding, "nonce" | "permAuthKeyId">,
  messageId: bigint,
  random: RandomSource,
): TlObject {
  const nonce = randomLong(random);
  const permAuthKeyId = authKeyIdLong(permKey);
  const inner = codec.encode({
    _cons: "bind_auth_key_inner",
    nonce,
    temp_auth_key_id: binding.tempAuthKeyId,
    perm_auth_key_id: permAuthKeyId,
    temp_session_id: binding.tempSessionId,
    expires_at: binding.expiresAt,
  });
  const unpadded = 32 + inner.length;
  const plaintext = new Uint8Array(unpadded + ((16 - (unpadded % 16)) % 16));
  const view = new DataView(plaintext.buffer);
  plaintext.set(random(16), 0); // salt and session id: random
  view.setBigInt64(16, messageId, true);
  view.setInt32(24, 0, true);
  view.setUint32(28, inner.length, true);
  plaintext.set(inner, 32);
  plaintext.set(random(plaintext.length - unpadded), unpadded);
  const msgKey = sha1(plaintext.subarray(0, unpadded)).subarray(4, 20);
  const { key, iv } = v1AesKeyIv(permKey.key, msgKey);
  const encrypted = new Uint8Array(24 + plaintext.length);
  encrypted.set(permKey.id, 0);
  encrypted.set(msgKey, 8);
  encrypted.set(igeEncrypt(plaintext, key, iv), 24);
  return {
    _cons: "auth.bindTempAuthKey",
    perm_auth_key_id: permAuthKeyId,
    nonce,
    expires_at: binding.expiresAt,
    encrypted_message: encrypted,
  };
}

/**
 * The server's side: opens `encrypted_message` with the permanent key and checks every field
 * against the call and the message it came in. Throws SecurityError naming the first mismatch
 * (Telegram answers all of them `ENCRYPTED_MESSAGE_INVALID`).
 */
export function checkTempKeyBinding(
  codec: TlCodec,
  call: TlObject,
  permKey: AuthKey,
  expected: { tempAuthKeyId: bigint; tempSessionId: bigint; messageId: bigint },
): TempKeyBinding {
  const encrypted = call.encrypted_message as Uint8Array;
  if (encrypted.length < 24 + 32 + 40 || (encrypted.length - 24) % 16 !== 0) {
    throw new SecurityError(`encrypted_message of ${encrypted.length} bytes`);
  }
  if (!permKey.id.every((byte, i) => byte === encrypted[i])) {
    throw new SecurityError("encrypted_message is not under the permanent key named");
  }
  const msgKey = encrypted.subarray(8, 24);
  const { key, iv } = v1AesKeyIv(permKey.key, msgKey);
  const plaintext = igeDecrypt(encrypted.subarray(24), key, iv);
  const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  const length = view.getUint32(28, true);
  if (length !== 40 || 32 + length > plaintext.length || plaintext.length - 32 - length >= 16) {
    throw new SecurityError(
      `does not decrypt under the permanent key (an inner message of ${length} bytes)`,
    );
  }
  const computed = sha1(plaintext.subarray(0, 32 + length)).subarray(4, 20);
  if (!computed.every((byte, i) => byte === msgKey[i])) {
    throw new SecurityError("msg_key does not match: not encrypted under the permanent key");
  }
  if (view.getBigInt64(16, true) !== expected.messageId) {
    throw new SecurityError("the inner msg_id is not the bind call's msg_id");
  }
  const inner = codec.decode(plaintext.subarray(32, 32 + length));
  const mismatch = inner._cons !== "bind_auth_key_inner"
    ? `the inner object is ${inner._cons}`
    : inner.nonce !== call.nonce
    ? "nonce differs from the call's"
    : inner.perm_auth_key_id !== call.perm_auth_key_id
    ? "perm_auth_key_id differs from the call's"
    : inner.temp_auth_key_id !== expected.tempAuthKeyId
    ? "temp_auth_key_id is not the key the call came under"
    : inner.temp_session_id !== expected.tempSessionId
    ? "temp_session_id is not the call's session"
    : inner.expires_at !== call.expires_at
    ? "expires_at differs from the call's"
    : undefined;
  if (mismatch) throw new SecurityError(mismatch);
  return {
    nonce: inner.nonce as bigint,
    tempAuthKeyId: expected.tempAuthKeyId,
    permAuthKeyId: inner.perm_auth_key_id as bigint,
    tempSessionId: expected.tempSessionId,
    expiresAt: inner.expires_at as number,
  };
}
