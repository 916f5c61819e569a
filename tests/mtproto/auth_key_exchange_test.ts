import { assertEquals, assertThrows } from "../assert.ts";
import { SecurityError } from "../../lib/errors.ts";
import { generateRsaKey } from "../../lib/crypto/rsa.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import { TlCodec } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import {
  type ExchangeContext,
  finishExchange,
  requestDhParams,
  requestPq,
  setClientDhParams,
} from "../../lib/mtproto/auth_key_exchange.ts";
import { AuthKeyServer, type CreatedKey } from "../../lib/emulator/auth_key_server.ts";

const codec = new TlCodec(loadSchema());
const serverKey = await generateRsaKey();
const now = () => Date.now() / 1000;

function newServer(registered: CreatedKey[] = [], accept = () => true) {
  return new AuthKeyServer(codec, serverKey, secureRandom, now, (created) => {
    registered.push(created);
    return accept();
  });
}

const context: ExchangeContext = { codec, random: secureRandom, publicKeys: [serverKey], dcId: 2 };

Deno.test("client and server agree on an auth key, salt and time", () => {
  const registered: CreatedKey[] = [];
  const server = newServer(registered);
  const step1 = requestPq(context);
  const step2 = requestDhParams(context, step1.state, server.receive(step1.request));
  const step3 = setClientDhParams(context, step2.state, server.receive(step2.request), now());
  const result = finishExchange(context, step3.state, server.receive(step3.request));
  if (!("done" in result)) throw new Error("expected dh_gen_ok");
  assertEquals(result.done.authKey.length, 256);
  assertEquals(result.done.authKey, registered[0].authKey);
  assertEquals(result.done.serverSalt, registered[0].serverSalt);
  assertEquals(Math.abs(result.done.timeOffset) <= 1, true);
});

Deno.test("dh_gen_retry makes the client send a new g_b, and the retry succeeds", () => {
  let attempts = 0;
  const server = newServer([], () => ++attempts > 1);
  const step1 = requestPq(context);
  const step2 = requestDhParams(context, step1.state, server.receive(step1.request));
  const step3 = setClientDhParams(context, step2.state, server.receive(step2.request), now());
  const first = finishExchange(context, step3.state, server.receive(step3.request));
  if (!("retry" in first)) throw new Error("expected dh_gen_retry");
  assertEquals(first.retry.state.retryId !== 0n, true);
  const second = finishExchange(context, first.retry.state, server.receive(first.retry.request));
  assertEquals("done" in second, true);
});

Deno.test("an unknown key fingerprint is refused", async () => {
  const other = await generateRsaKey();
  const server = newServer();
  const step1 = requestPq({ ...context, publicKeys: [other] });
  assertThrows(
    () =>
      requestDhParams(
        { ...context, publicKeys: [other] },
        step1.state,
        server.receive(step1.request),
      ),
    SecurityError,
    "none of the server's key fingerprints is known",
  );
});

Deno.test("a nonce the client did not send is refused at every step", () => {
  const server = newServer();
  const step1 = requestPq(context);
  const resPq = server.receive(step1.request);
  assertThrows(
    () => requestDhParams(context, { nonce: secureRandom(16) }, resPq),
    SecurityError,
    "nonce mismatch",
  );
  const step2 = requestDhParams(context, step1.state, resPq);
  const dhParams = server.receive(step2.request);
  assertThrows(
    () =>
      setClientDhParams(
        context,
        { ...step2.state, serverNonce: secureRandom(16) },
        dhParams,
        now(),
      ),
    SecurityError,
    "server_nonce mismatch",
  );
});

Deno.test("a tampered server_DH_params_ok fails its SHA1 check", () => {
  const server = newServer();
  const step1 = requestPq(context);
  const step2 = requestDhParams(context, step1.state, server.receive(step1.request));
  const answer = server.receive(step2.request).slice();
  answer[answer.length - 40] ^= 0x55;
  assertThrows(() => setClientDhParams(context, step2.state, answer, now()), SecurityError);
});

Deno.test("a bad prime or out-of-range g_a from a server is refused", () => {
  // A server that sends a bad prime: build its answer by hand with the client's own tools.
  const server = newServer();
  const step1 = requestPq(context);
  const step2 = requestDhParams(context, step1.state, server.receive(step1.request));
  const genuine = server.receive(step2.request);
  const forged = forgeDhAnswer(step2.state, (inner) => ({ ...inner, g_a: Uint8Array.of(1) }));
  assertThrows(() => setClientDhParams(context, step2.state, forged, now()), SecurityError, "g_a");
  const badPrime = forgeDhAnswer(
    step2.state,
    (inner) => ({ ...inner, dh_prime: new Uint8Array(256).fill(0xff) }),
  );
  assertThrows(
    () => setClientDhParams(context, step2.state, badPrime, now()),
    SecurityError,
    "dh_prime",
  );
  assertEquals(genuine.length > 0, true);
});

import { temporaryAesKeyIv } from "../../lib/mtproto/auth_key_kdf.ts";
import { igeEncrypt } from "../../lib/crypto/ige.ts";
import { sha1 } from "../../lib/crypto/hash.ts";
import { bytesFromBigint } from "../../lib/crypto/bigint.ts";
import { TELEGRAM_DH_PRIME } from "../../lib/crypto/dh.ts";

function forgeDhAnswer(
  state: { nonce: Uint8Array; serverNonce: Uint8Array; newNonce: Uint8Array },
  change: (inner: Record<string, unknown>) => Record<string, unknown>,
): Uint8Array {
  const inner = codec.encode(change({
    _cons: "server_DH_inner_data",
    nonce: state.nonce,
    server_nonce: state.serverNonce,
    g: 3,
    dh_prime: bytesFromBigint(TELEGRAM_DH_PRIME),
    g_a: bytesFromBigint(2n ** 2000n + 1n),
    server_time: Math.floor(now()),
  }));
  const unpadded = 20 + inner.length;
  const withHash = new Uint8Array(unpadded + ((16 - (unpadded % 16)) % 16));
  withHash.set(sha1(inner));
  withHash.set(inner, 20);
  const { key, iv } = temporaryAesKeyIv(state.newNonce, state.serverNonce);
  return codec.encode({
    _cons: "server_DH_params_ok",
    nonce: state.nonce,
    server_nonce: state.serverNonce,
    encrypted_answer: igeEncrypt(withHash, key, iv),
  });
}

import { bigintFromBytes, modPow } from "../../lib/crypto/bigint.ts";
import { rsaFingerprint } from "../../lib/crypto/rsa.ts";
import { factorizePq } from "../../lib/crypto/factorize.ts";

/** req_DH_params as older clients send it: RSA(SHA1(data) + data + padding), no RSA_PAD. */
function legacyRequestDh(server: AuthKeyServer, corrupt = false) {
  const nonce = secureRandom(16);
  const resPq = codec.decode(server.receive(codec.encode({ _cons: "req_pq_multi", nonce })));
  const [p, q] = factorizePq(bigintFromBytes(resPq.pq as Uint8Array));
  const inner = codec.encode({
    _cons: "p_q_inner_data_dc",
    pq: resPq.pq,
    p: bytesFromBigint(p),
    q: bytesFromBigint(q),
    nonce,
    server_nonce: resPq.server_nonce,
    new_nonce: secureRandom(32),
    dc: 2,
  });
  const plain = new Uint8Array(255);
  plain.set(sha1(inner));
  plain.set(inner, 20);
  plain.set(secureRandom(255 - 20 - inner.length), 20 + inner.length);
  if (corrupt) plain[30] ^= 1;
  const encrypted = bytesFromBigint(modPow(bigintFromBytes(plain), serverKey.e, serverKey.n), 256);
  return codec.encode({
    _cons: "req_DH_params",
    nonce,
    server_nonce: resPq.server_nonce,
    p: bytesFromBigint(p),
    q: bytesFromBigint(q),
    public_key_fingerprint: rsaFingerprint(serverKey),
    encrypted_data: encrypted,
  });
}

Deno.test("the emulator also accepts the legacy RSA scheme that older clients (GramJS, Telethon) still send", () => {
  const server = newServer();
  assertEquals(codec.decode(server.receive(legacyRequestDh(server)))._cons, "server_DH_params_ok");
  const strict = newServer();
  assertThrows(() => strict.receive(legacyRequestDh(strict, true)), SecurityError, "req_DH_params");
});
