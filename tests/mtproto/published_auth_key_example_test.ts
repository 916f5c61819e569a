// The published "Auth key generation example" replayed through the client's handshake steps with
// its randomness injected: every message the client sends comes out byte for byte, except the
// RSA_PAD ciphertext, whose temp_key the page does not print (see the first test).
import { createHash } from "node:crypto";
import { assertEquals } from "../assert.ts";
import { bigintFromBytes, bytesFromBigint, modPow } from "../../lib/crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../../lib/crypto/dh.ts";
import { igeDecrypt, igeEncrypt } from "../../lib/crypto/ige.ts";
import { TELEGRAM_PUBLIC_KEYS } from "../../lib/crypto/public_keys.ts";
import { replayRandom } from "../../lib/crypto/random.ts";
import { parsePublicKeyPem, rsaFingerprint, rsaPadEncrypt } from "../../lib/crypto/rsa.ts";
import {
  deriveAuthKey,
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../../lib/mtproto/auth_key_exchange.ts";
import { authKeyId, newNonceHash, temporaryAesKeyIv } from "../../lib/mtproto/auth_key_kdf.ts";
import { packPlainMessage, unpackPlainMessage } from "../../lib/mtproto/plain_message.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import * as page from "./published_auth_key_example.ts";

const { bytesOf } = page;
const codec = new TlCodec(loadSchema(), { longs: "bigint", bytes: "uint8array" });
const productionKeys = TELEGRAM_PUBLIC_KEYS.production.map(parsePublicKeyPem);

// RSA_PAD draws a 32-byte temp_key after the padding; the page prints the padding but not the
// temp_key, and without Telegram's private key the published ciphertext cannot be reopened to
// recover it. Any temp_key whose result lies below the modulus completes the step; this one does.
const STAND_IN_TEMP_KEY = new Uint8Array(32);

/** The client's random draws in the order the handshake makes them. */
function pageRandomness() {
  return replayRandom(
    bytesOf(page.NONCE),
    bytesOf(page.NEW_NONCE),
    bytesOf(page.RSA_RANDOM_PADDING),
    STAND_IN_TEMP_KEY,
    bytesOf(page.B),
    bytesOf(page.CLIENT_DH_PADDING),
  );
}

/** msg_id and body of a published unencrypted message, read as the client reads the server's. */
function split(dump: string): { messageId: bigint; body: Uint8Array } {
  return unpackPlainMessage(bytesOf(dump));
}

/** The published request with its encrypted_data replaced by ours, for an exact comparison. */
function withEncryptedData(published: Uint8Array, ours: Uint8Array): Uint8Array {
  const copy = published.slice();
  copy.set(ours, copy.length - ours.length);
  return copy;
}

Deno.test("published example: the whole handshake replays, every sent message byte for byte", () => {
  const context = { codec, random: pageRandomness(), publicKeys: productionKeys, dcId: 2 };

  // 1. req_pq_multi
  const step1 = requestPq(context);
  const sent1 = split(page.REQ_PQ_MULTI);
  assertEquals(packPlainMessage(sent1.messageId, step1.request), bytesOf(page.REQ_PQ_MULTI));

  // 2–5. resPQ → factorize pq → p_q_inner_data_dc under RSA_PAD → req_DH_params
  const step2 = requestDhParams(context, step1.state, split(page.RES_PQ).body);
  const sent2 = split(page.REQ_DH_PARAMS);
  const ourRequest2 = codec.decode(step2.request);
  const ourEncrypted = ourRequest2.encrypted_data as Uint8Array;
  // What RSA_PAD encrypted is exactly the published p_q_inner_data_dc with the published padding.
  const key = productionKeys.find((k) => rsaFingerprint(k) === ourRequest2.public_key_fingerprint)!;
  assertEquals(
    rsaPadEncrypt(
      bytesOf(page.P_Q_INNER_DATA_DC),
      key,
      replayRandom(bytesOf(page.RSA_RANDOM_PADDING), STAND_IN_TEMP_KEY),
    ),
    ourEncrypted,
  );
  assertEquals(
    packPlainMessage(sent2.messageId, step2.request),
    withEncryptedData(bytesOf(page.REQ_DH_PARAMS), ourEncrypted),
    "req_DH_params, all but the RSA ciphertext",
  );

  // 6–7. server_DH_params_ok → b, g_b → set_client_DH_params, with server_time as our clock.
  const step3 = setClientDhParams(
    context,
    step2.state,
    split(page.SERVER_DH_PARAMS_OK).body,
    page.SERVER_TIME,
  );
  const sent3 = split(page.SET_CLIENT_DH_PARAMS);
  assertEquals(
    packPlainMessage(sent3.messageId, step3.request),
    bytesOf(page.SET_CLIENT_DH_PARAMS),
  );
  for (const [earlier, later] of [[sent1, sent2], [sent2, sent3]]) {
    assertEquals(later.messageId > earlier.messageId && later.messageId % 4n === 0n, true);
  }
  assertEquals(step3.state.timeOffset, 0);
  // The key is computed after the request is built (a client sends it first, then derives).
  assertEquals(step3.state.authKey.length, 0);
  assertEquals(
    deriveAuthKey(step3.state).authKey,
    bytesOf(page.AUTH_KEY),
    "auth_key = g_a^b mod dh_prime",
  );

  // 8–9. dh_gen_ok: its new_nonce_hash1 proves the server derived the same key.
  const finished = finishExchange(context, step3.state, split(page.DH_GEN_OK).body);
  if (!("done" in finished)) throw new Error("expected dh_gen_ok to finish the exchange");
  assertEquals(finished.done.authKey, bytesOf(page.AUTH_KEY));
  assertEquals(finished.done.timeOffset, 0);
  // The first salt: new_nonce[0..8] XOR server_nonce[0..8], read as a little-endian long.
  const salt = bytesOf(page.NEW_NONCE).subarray(0, 8)
    .map((byte, i) => byte ^ bytesOf(page.SERVER_NONCE)[i]);
  assertEquals(finished.done.serverSalt, new DataView(salt.buffer).getBigInt64(0, true));
});

Deno.test("published example: the values between the messages", () => {
  // resPQ: pq = p × q, and the fingerprint picked is the production key's.
  const resPq = codec.decode(split(page.RES_PQ).body);
  assertEquals(bigintFromBytes(resPq.pq as Uint8Array), page.PQ);
  assertEquals(page.P * page.Q, page.PQ);
  const fingerprint = new DataView(bytesOf(page.FINGERPRINT_BYTES).buffer).getBigInt64(0, true);
  assertEquals((resPq.server_public_key_fingerprints as bigint[]).includes(fingerprint), true);
  assertEquals(BigInt.asUintN(64, fingerprint), 0xd09d1d85de64fd85n);
  assertEquals(productionKeys.some((key) => rsaFingerprint(key) === fingerprint), true);

  // p_q_inner_data_dc as the TL runtime writes it from the named values.
  assertEquals(
    codec.encode({
      _cons: "p_q_inner_data_dc",
      pq: resPq.pq,
      p: bytesFromBigint(page.P),
      q: bytesFromBigint(page.Q),
      nonce: bytesOf(page.NONCE),
      server_nonce: bytesOf(page.SERVER_NONCE),
      new_nonce: bytesOf(page.NEW_NONCE),
      dc: 2,
    }),
    bytesOf(page.P_Q_INNER_DATA_DC),
  );
  // The RSA ciphertext in req_DH_params is the one the page lists on its own.
  const request2 = codec.decode(split(page.REQ_DH_PARAMS).body);
  assertEquals(request2.encrypted_data, bytesOf(page.RSA_ENCRYPTED_DATA));

  // tmp_aes_key/iv, and the encrypted answer opening to SHA1(answer) + answer + padding.
  const { key, iv } = temporaryAesKeyIv(bytesOf(page.NEW_NONCE), bytesOf(page.SERVER_NONCE));
  assertEquals(key, bytesOf(page.TMP_AES_KEY));
  assertEquals(iv, bytesOf(page.TMP_AES_IV));
  const ok = codec.decode(split(page.SERVER_DH_PARAMS_OK).body);
  const answerWithHash = igeDecrypt(ok.encrypted_answer as Uint8Array, key, iv);
  assertEquals(answerWithHash, bytesOf(page.ANSWER_WITH_HASH));

  // server_DH_inner_data: g = 3 with Telegram's prime, g_a, server_time.
  const inner = codec.decode(answerWithHash.subarray(20, answerWithHash.length - 8));
  assertEquals(inner.g, page.G);
  assertEquals(bigintFromBytes(inner.dh_prime as Uint8Array), TELEGRAM_DH_PRIME);
  assertEquals(inner.server_time, page.SERVER_TIME);

  // g_b = g^b mod p; auth_key = g_a^b mod p.
  const b = bigintFromBytes(bytesOf(page.B));
  assertEquals(bytesFromBigint(modPow(3n, b, TELEGRAM_DH_PRIME), 256), bytesOf(page.G_B));
  const gA = bigintFromBytes(inner.g_a as Uint8Array);
  assertEquals(bytesFromBigint(modPow(gA, b, TELEGRAM_DH_PRIME), 256), bytesOf(page.AUTH_KEY));

  // set_client_DH_params' encrypted_data re-encrypts to the published bytes.
  const request3 = codec.decode(split(page.SET_CLIENT_DH_PARAMS).body);
  assertEquals(request3.encrypted_data, bytesOf(page.CLIENT_DH_ENCRYPTED_DATA));
  const clientWithHash = igeDecrypt(bytesOf(page.CLIENT_DH_ENCRYPTED_DATA), key, iv);
  assertEquals(
    clientWithHash.subarray(clientWithHash.length - 12),
    bytesOf(page.CLIENT_DH_PADDING),
  );
  assertEquals(igeEncrypt(clientWithHash, key, iv), bytesOf(page.CLIENT_DH_ENCRYPTED_DATA));

  // new_nonce_hash1 from the auth key's aux hash; the auth key id, checked against SHA-1 itself.
  const authKey = bytesOf(page.AUTH_KEY);
  assertEquals(
    newNonceHash(authKey, bytesOf(page.NEW_NONCE), 1),
    bytesOf(page.NEW_NONCE_HASH1),
  );
  const digest = new Uint8Array(createHash("sha1").update(authKey).digest());
  assertEquals(authKeyId(authKey), digest.subarray(12, 20));
});
