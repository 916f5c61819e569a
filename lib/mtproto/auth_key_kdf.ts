/**
 * The derivations of the auth key exchange: the temporary AES key and IV that protect
 * `server_DH_inner_data` and `client_DH_inner_data`, the first server salt, the new_nonce hashes
 * of `dh_gen_ok`/`retry`/`fail`, and the auth key id.
 *
 * @module
 */

import { sha1 } from "../crypto/hash.ts";

/**
 * tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12];
 * tmp_aes_iv = SHA1(server_nonce + new_nonce)[12..20] + SHA1(new_nonce + new_nonce) +
 * new_nonce[0..4].
 */
export function temporaryAesKeyIv(
  newNonce: Uint8Array,
  serverNonce: Uint8Array,
): { key: Uint8Array; iv: Uint8Array } {
  const newServer = sha1(newNonce, serverNonce);
  const serverNew = sha1(serverNonce, newNonce);
  const newNew = sha1(newNonce, newNonce);
  const key = new Uint8Array(32);
  key.set(newServer, 0);
  key.set(serverNew.subarray(0, 12), 20);
  const iv = new Uint8Array(32);
  iv.set(serverNew.subarray(12, 20), 0);
  iv.set(newNew, 8);
  iv.set(newNonce.subarray(0, 4), 28);
  return { key, iv };
}

/** The first server salt: new_nonce[0..8] XOR server_nonce[0..8], as a little-endian long. */
export function initialServerSalt(newNonce: Uint8Array, serverNonce: Uint8Array): bigint {
  const salt = new Uint8Array(8);
  for (let i = 0; i < 8; i++) salt[i] = newNonce[i] ^ serverNonce[i];
  return new DataView(salt.buffer).getBigInt64(0, true);
}

/**
 * new_nonce_hash1/2/3: the low 128 bits of SHA1(new_nonce + [number] + auth_key_aux_hash), where
 * auth_key_aux_hash is the high 64 bits of SHA1(auth_key).
 */
export function newNonceHash(
  authKey: Uint8Array,
  newNonce: Uint8Array,
  number: 1 | 2 | 3,
): Uint8Array {
  const auxHash = sha1(authKey).subarray(0, 8);
  return sha1(newNonce, Uint8Array.of(number), auxHash).subarray(4, 20);
}

/**
 * The auth key id that prefixes every encrypted message: the low 64 bits of SHA1(auth_key), as
 * the 8 bytes that go on the wire.
 */
export function authKeyId(authKey: Uint8Array): Uint8Array {
  return sha1(authKey).subarray(12, 20);
}
