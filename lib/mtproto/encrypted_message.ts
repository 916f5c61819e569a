/**
 * MTProto 2.0 encrypted messages: auth_key_id, msg_key, then AES-256-IGE over
 * salt · session_id · msg_id · seq_no · length · body · 12–1024 bytes of random padding.
 * Decryption runs every check of the security guidelines and throws {@link SecurityError} on the
 * first failure; callers drop such a message and carry on.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { igeDecrypt, igeEncrypt } from "../crypto/ige.ts";
import type { RandomSource } from "../crypto/random.ts";
import { equalBytes } from "../crypto/rsa.ts";
import { authKeyId } from "./auth_key_kdf.ts";
import { type AesKeyIv, type Direction, messageAesKeyIv, messageKeyHash } from "./message_key.ts";

/** What an encrypted message carries besides its body. */
export interface MessageHeader {
  salt: bigint;
  sessionId: bigint;
  messageId: bigint;
  seqNo: number;
}

/** A decrypted message. */
export interface DecryptedMessage extends MessageHeader {
  body: Uint8Array;
}

/**
 * A body that writes itself into the message (a msg_container laid out from its messages), so
 * that its bytes are not first joined in an array of their own and then copied in.
 */
export interface BodyWriter {
  /** Its length in bytes. */
  length: number;
  /** Writes exactly `length` bytes into `into`. */
  writeTo(into: Uint8Array): void;
}

/** An auth key with its id, computed once. */
export interface AuthKey {
  key: Uint8Array;
  id: Uint8Array;
}

/** Pairs a 256-byte auth key with its id. */
export function makeAuthKey(key: Uint8Array): AuthKey {
  if (key.length !== 256) throw new SecurityError(`an auth key is 256 bytes, got ${key.length}`);
  return { key, id: authKeyId(key) };
}

/**
 * Encrypts one message (or container) body. Padding is random, 12 to 1024 bytes, bringing the
 * plaintext to a multiple of 16; `extraPadding` adds up to that many more bytes (in 16-byte steps)
 * to hide message lengths. `headroom` leaves that many spare bytes in the returned array's buffer
 * just before it, where a framing can put its header instead of copying the message (see the
 * transports' `pack`). `allocate` gives the array the message is made in (all of its bytes are
 * written, so its content may be anything): a server that reuses its big messages' buffers once
 * they are written spares the page faults of a fresh megabyte.
 */
export function encryptMessage(
  authKey: AuthKey,
  header: MessageHeader,
  body: Uint8Array | BodyWriter,
  direction: Direction,
  random: RandomSource,
  extraPadding = 0,
  headroom = 0,
  allocate?: (length: number) => Uint8Array,
): Uint8Array {
  const unpadded = 32 + body.length;
  let padding = 12 + ((16 - ((unpadded + 12) % 16)) % 16);
  if (extraPadding > 0) padding += 16 * (random(1)[0] % (Math.floor(extraPadding / 16) + 1));
  while (padding > 1024) padding -= 16;
  // The plaintext is laid out where its ciphertext goes and encrypted in place: one allocation.
  const total = headroom + 24 + unpadded + padding;
  const out = (allocate ? allocate(total) : new Uint8Array(total)).subarray(headroom);
  const plaintext = out.subarray(24);
  const view = new DataView(out.buffer, out.byteOffset + 24);
  view.setBigInt64(0, header.salt, true);
  view.setBigInt64(8, header.sessionId, true);
  view.setBigInt64(16, header.messageId, true);
  view.setInt32(24, header.seqNo, true);
  view.setUint32(28, body.length, true);
  if (body instanceof Uint8Array) plaintext.set(body, 32);
  else body.writeTo(plaintext.subarray(32, unpadded));
  plaintext.set(random(padding), unpadded);
  // msg_key goes straight to its place in the header, and the key derivation reads it there.
  const digest = messageKeyHash(authKey.key, plaintext, direction, scratchDigest);
  for (let i = 8; i < 24; i++) out[i] = digest[i];
  const { key, iv } = messageAesKeyIv(authKey.key, out.subarray(8, 24), direction, scratchKeyIv);
  igeEncrypt(plaintext, key, iv, plaintext);
  out.set(authKey.id, 0);
  return out;
}

// Encryption and decryption run synchronously from start to finish, so one set of scratch arrays
// for the msg_key hash and the derived key and IV serves every message.
const scratchDigest = new Uint8Array(32);
const scratchKeyIv: AesKeyIv = { key: new Uint8Array(32), iv: new Uint8Array(32) };

/**
 * Decrypts and checks a message sent in `direction`: auth_key_id, length, msg_key recomputed
 * over the plaintext, declared body length and padding length (12..1024). Session id and msg_id
 * rules are the session's to check; they need its state.
 *
 * `inPlace: true` decrypts into `payload`'s own bytes (the body is then a view into it), for a
 * caller that owns a payload it never reads again: a file part's megabyte is then neither
 * allocated nor copied once more, which is most of a download's garbage. `payload` is changed
 * even when a check fails.
 */
export function decryptMessage(
  authKey: AuthKey,
  payload: Uint8Array,
  direction: Direction,
  { inPlace = false }: { inPlace?: boolean } = {},
): DecryptedMessage {
  if (payload.length < 24 + 48) {
    throw new SecurityError(`encrypted message of ${payload.length} bytes is too short`);
  }
  if (!equalBytes(payload.subarray(0, 8), authKey.id)) {
    throw new SecurityError("unknown auth_key_id");
  }
  // Padded intermediate may append up to 15 bytes after the message; the ciphertext itself is a
  // whole number of blocks.
  const encryptedLength = (payload.length - 24) & ~15;
  const msgKey = payload.subarray(8, 24);
  const { key, iv } = messageAesKeyIv(authKey.key, msgKey, direction, scratchKeyIv);
  const ciphertext = payload.subarray(24, 24 + encryptedLength);
  const plaintext = igeDecrypt(ciphertext, key, iv, inPlace ? ciphertext : undefined);
  const digest = messageKeyHash(authKey.key, plaintext, direction, scratchDigest);
  let difference = 0;
  for (let i = 0; i < 16; i++) difference |= digest[8 + i] ^ msgKey[i];
  if (difference !== 0) {
    throw new SecurityError("msg_key does not match the decrypted message");
  }
  const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  const length = view.getUint32(28, true);
  const padding = plaintext.length - 32 - length;
  if (length % 4 !== 0 || padding < 12 || padding > 1024) {
    throw new SecurityError(
      `message length ${length} leaves ${padding} bytes of padding, not 12..1024`,
    );
  }
  return {
    salt: view.getBigInt64(0, true),
    sessionId: view.getBigInt64(8, true),
    messageId: view.getBigInt64(16, true),
    seqNo: view.getInt32(24, true),
    body: plaintext.subarray(32, 32 + length),
  };
}
