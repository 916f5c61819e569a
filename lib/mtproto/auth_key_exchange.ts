/**
 * Creating an auth key, client side, as pure steps: each takes the previous step's state and the
 * server's answer (a TL body) and returns the next request body and state. Nothing here touches a
 * socket; randomness and the clock come in from the caller, so tests replay exact bytes.
 *
 * Every check of the security guidelines is made: nonces echoed, the RSA key fingerprint known,
 * the answer's SHA-1, DH prime and generator, g_a and g_b ranges, and the new_nonce hashes.
 *
 * @module
 */

import { SecurityError } from "../errors.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "../crypto/bigint.ts";
import { checkDhParameters, checkDhPublicValue, isSafeDhPublicValue } from "../crypto/dh.ts";
import { factorizePq } from "../crypto/factorize.ts";
import { sha1 } from "../crypto/hash.ts";
import { igeDecrypt, igeEncrypt } from "../crypto/ige.ts";
import type { RandomSource } from "../crypto/random.ts";
import { equalBytes, rsaFingerprint, rsaPadEncrypt, type RsaPublicKey } from "../crypto/rsa.ts";
import type { TlCodec } from "../tl/codec.ts";
import { TlReader } from "../tl/reader.ts";
import { initialServerSalt, newNonceHash, temporaryAesKeyIv } from "./auth_key_kdf.ts";

/** What the exchange needs from its surroundings. */
export interface ExchangeContext {
  /** A codec in native mode (bigint longs, Uint8Array bytes) over a schema with MTProto types. */
  codec: TlCodec;
  random: RandomSource;
  /** The server keys the client trusts. */
  publicKeys: RsaPublicKey[];
  /** The DC id sent in `p_q_inner_data_dc` (test DCs add 10000, media DCs are negative). */
  dcId: number;
  /**
   * Asks for a temporary key living this many seconds (`p_q_inner_data_temp_dc`), to be bound
   * to a permanent key for perfect forward secrecy.
   */
  expiresIn?: number;
}

/** The state after step 1: the nonce the server must echo. */
export interface AfterRequestPq {
  nonce: Uint8Array;
}

/** The state after step 2. */
export interface AfterRequestDh extends AfterRequestPq {
  serverNonce: Uint8Array;
  newNonce: Uint8Array;
}

/** The state after step 3. */
export interface AfterSetClientDh extends AfterRequestDh {
  /** The DH parameters, kept to retry with a fresh b on `dh_gen_retry`. */
  g: bigint;
  dhPrime: bigint;
  gA: bigint;
  /** The client's secret exponent, kept until the key is derived from it. */
  b: bigint;
  /**
   * g_a^b: empty until {@link deriveAuthKey} (or {@link finishExchange}) computes it, so that a
   * caller can send `set_client_DH_params` first and compute the key while the server does.
   */
  authKey: Uint8Array;
  retryId: bigint;
  /** The server's clock minus ours, in seconds, from `server_DH_inner_data`. */
  timeOffset: number;
}

/** A created auth key and what the session starts with. */
export interface ExchangeResult {
  authKey: Uint8Array;
  serverSalt: bigint;
  timeOffset: number;
}

/** Step 1: `req_pq_multi` with a fresh nonce. */
export function requestPq(
  context: ExchangeContext,
): { request: Uint8Array; state: AfterRequestPq } {
  const nonce = context.random(16);
  return { request: context.codec.encode({ _cons: "req_pq_multi", nonce }), state: { nonce } };
}

/**
 * Step 2: checks `resPQ`, factorizes pq and sends `req_DH_params` with `p_q_inner_data_dc` (or
 * `p_q_inner_data_temp_dc` for a temporary key) encrypted by RSA_PAD under the first key whose
 * fingerprint the server listed.
 */
export function requestDhParams(
  context: ExchangeContext,
  state: AfterRequestPq,
  response: Uint8Array,
): { request: Uint8Array; state: AfterRequestDh } {
  const resPq = context.codec.decode(response);
  if (resPq._cons !== "resPQ") throw new SecurityError(`expected resPQ, got ${resPq._cons}`);
  if (!equalBytes(resPq.nonce as Uint8Array, state.nonce)) {
    throw new SecurityError("resPQ: nonce mismatch");
  }
  const offered = resPq.server_public_key_fingerprints as bigint[];
  const key = context.publicKeys.find((candidate) => offered.includes(rsaFingerprint(candidate)));
  if (!key) {
    throw new SecurityError(
      `resPQ: none of the server's key fingerprints is known (${
        offered.map((f) => BigInt.asUintN(64, f).toString(16)).join(", ")
      })`,
    );
  }
  const pqBytes = resPq.pq as Uint8Array;
  if (pqBytes.length > 8) throw new SecurityError(`resPQ: pq of ${pqBytes.length} bytes`);
  const [p, q] = factorizePq(bigintFromBytes(pqBytes));
  const serverNonce = resPq.server_nonce as Uint8Array;
  const newNonce = context.random(32);
  const inner = context.codec.encode({
    _cons: context.expiresIn === undefined ? "p_q_inner_data_dc" : "p_q_inner_data_temp_dc",
    pq: pqBytes,
    p: bytesFromBigint(p),
    q: bytesFromBigint(q),
    nonce: state.nonce,
    server_nonce: serverNonce,
    new_nonce: newNonce,
    dc: context.dcId,
    ...(context.expiresIn === undefined ? {} : { expires_in: context.expiresIn }),
  });
  const request = context.codec.encode({
    _cons: "req_DH_params",
    nonce: state.nonce,
    server_nonce: serverNonce,
    p: bytesFromBigint(p),
    q: bytesFromBigint(q),
    public_key_fingerprint: rsaFingerprint(key),
    encrypted_data: rsaPadEncrypt(inner, key, context.random),
  });
  return { request, state: { ...state, serverNonce, newNonce } };
}

/**
 * Step 3: decrypts and checks `server_DH_params_ok`, checks the DH parameters and g_a, picks b,
 * and sends `set_client_DH_params` with g_b.
 */
export function setClientDhParams(
  context: ExchangeContext,
  state: AfterRequestDh,
  response: Uint8Array,
  clockSeconds: number,
): { request: Uint8Array; state: AfterSetClientDh } {
  const answer = context.codec.decode(response);
  checkNonces(answer, state, answer._cons);
  if (answer._cons === "server_DH_params_fail") {
    throw new SecurityError("server_DH_params_fail: the server could not decrypt our request");
  }
  if (answer._cons !== "server_DH_params_ok") {
    throw new SecurityError(`expected server_DH_params_ok, got ${answer._cons}`);
  }
  const { key, iv } = temporaryAesKeyIv(state.newNonce, state.serverNonce);
  const encrypted = answer.encrypted_answer as Uint8Array;
  if (encrypted.length % 16 !== 0 || encrypted.length < 32) {
    throw new SecurityError("server_DH_params_ok: encrypted_answer is not whole AES blocks");
  }
  const withHash = igeDecrypt(encrypted, key, iv);
  const reader = new TlReader(withHash.subarray(20));
  const inner = context.codec.readObject(reader);
  const innerBytes = withHash.subarray(20, 20 + reader.offset);
  if (!equalBytes(sha1(innerBytes), withHash.subarray(0, 20))) {
    throw new SecurityError("server_DH_inner_data: SHA1 mismatch");
  }
  if (withHash.length - 20 - reader.offset >= 16) {
    throw new SecurityError("server_DH_inner_data: more than 15 bytes of padding");
  }
  if (inner._cons !== "server_DH_inner_data") {
    throw new SecurityError(`expected server_DH_inner_data, got ${inner._cons}`);
  }
  checkNonces(inner, state, "server_DH_inner_data");
  const dhPrime = bigintFromBytes(inner.dh_prime as Uint8Array);
  const g = inner.g as number;
  // Primality witnesses come from secure randomness, not `context.random`: they are not part of
  // the transcript, and a replayed exchange must draw exactly what the protocol draws.
  checkDhParameters(dhPrime, g);
  const gA = bigintFromBytes(inner.g_a as Uint8Array);
  checkDhPublicValue(gA, dhPrime, "g_a");
  const timeOffset = (inner.server_time as number) - Math.floor(clockSeconds);
  return clientDhRequest(context, {
    ...state,
    g: BigInt(g),
    dhPrime,
    gA,
    b: 0n,
    authKey: new Uint8Array(0),
    retryId: 0n,
    timeOffset,
  });
}

/** Builds `set_client_DH_params` with a fresh b (also on `dh_gen_retry`). */
function clientDhRequest(
  context: ExchangeContext,
  state: AfterSetClientDh,
): { request: Uint8Array; state: AfterSetClientDh } {
  let b: bigint, gB: bigint;
  do {
    b = bigintFromBytes(context.random(256));
    gB = modPow(state.g, b, state.dhPrime);
  } while (!isSafeDhPublicValue(gB, state.dhPrime));
  const inner = context.codec.encode({
    _cons: "client_DH_inner_data",
    nonce: state.nonce,
    server_nonce: state.serverNonce,
    retry_id: state.retryId,
    g_b: bytesFromBigint(gB),
  });
  const unpadded = 20 + inner.length;
  const withHash = new Uint8Array(unpadded + ((16 - (unpadded % 16)) % 16));
  withHash.set(sha1(inner), 0);
  withHash.set(inner, 20);
  withHash.set(context.random(withHash.length - unpadded), unpadded);
  const { key, iv } = temporaryAesKeyIv(state.newNonce, state.serverNonce);
  const request = context.codec.encode({
    _cons: "set_client_DH_params",
    nonce: state.nonce,
    server_nonce: state.serverNonce,
    encrypted_data: igeEncrypt(withHash, key, iv),
  });
  // The key, g_a^b, is left for deriveAuthKey: the request need not wait for it.
  return { request, state: { ...state, b, authKey: new Uint8Array(0) } };
}

/**
 * Computes the auth key g_a^b of a state after step 3 (once; a state that has it is returned as
 * it is). The costliest step of the client's side: a caller may run it after sending
 * `set_client_DH_params` and before its answer comes, while the server computes the same key;
 * {@link finishExchange} runs it when nobody did.
 */
export function deriveAuthKey(state: AfterSetClientDh): AfterSetClientDh {
  if (state.authKey.length > 0) return state;
  return { ...state, authKey: bytesFromBigint(modPow(state.gA, state.b, state.dhPrime), 256) };
}

/**
 * Step 4: checks `dh_gen_ok` and returns the key; on `dh_gen_retry` returns the repeated step 3
 * request (retry_id = the key's auxiliary hash); `dh_gen_fail` and bad hashes throw.
 */
export function finishExchange(
  context: ExchangeContext,
  state: AfterSetClientDh,
  response: Uint8Array,
):
  | { done: ExchangeResult }
  | { retry: { request: Uint8Array; state: AfterSetClientDh } } {
  const answer = context.codec.decode(response);
  checkNonces(answer, state, answer._cons);
  state = deriveAuthKey(state);
  const expect = (number: 1 | 2 | 3, field: string) => {
    if (
      !equalBytes(answer[field] as Uint8Array, newNonceHash(state.authKey, state.newNonce, number))
    ) {
      throw new SecurityError(`${answer._cons}: ${field} mismatch`);
    }
  };
  switch (answer._cons) {
    case "dh_gen_ok":
      expect(1, "new_nonce_hash1");
      return {
        done: {
          authKey: state.authKey,
          serverSalt: initialServerSalt(state.newNonce, state.serverNonce),
          timeOffset: state.timeOffset,
        },
      };
    case "dh_gen_retry": {
      expect(2, "new_nonce_hash2");
      const aux = sha1(state.authKey).subarray(0, 8);
      const retryId = new DataView(aux.buffer, aux.byteOffset, 8).getBigInt64(0, true);
      return { retry: clientDhRequest(context, { ...state, retryId }) };
    }
    case "dh_gen_fail":
      expect(3, "new_nonce_hash3");
      throw new SecurityError("dh_gen_fail: the server refused the key");
    default:
      throw new SecurityError(
        `expected dh_gen_ok, dh_gen_retry or dh_gen_fail, got ${answer._cons}`,
      );
  }
}

function checkNonces(
  value: Record<string, unknown>,
  state: { nonce: Uint8Array; serverNonce: Uint8Array },
  what: string,
): void {
  if (!equalBytes(value.nonce as Uint8Array, state.nonce)) {
    throw new SecurityError(`${what}: nonce mismatch`);
  }
  if (!equalBytes(value.server_nonce as Uint8Array, state.serverNonce)) {
    throw new SecurityError(`${what}: server_nonce mismatch`);
  }
}
