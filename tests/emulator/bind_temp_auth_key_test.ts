import { assertEquals, assertThrows } from "../assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { RpcError } from "../../lib/errors.ts";
import { secureRandom } from "../../lib/crypto/random.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { authKeyIdLong, bindTempAuthKeyCall } from "../../lib/mtproto/temp_key_binding.ts";
import { makeAuthKey } from "../../lib/mtproto/encrypted_message.ts";
import { KeyStore } from "../../lib/emulator/key_store.ts";
import { World } from "../../lib/emulator/world.ts";
import { createTools } from "../../lib/emulator/methods/tools.ts";
import { pfsMethods } from "../../lib/emulator/methods/pfs.ts";
import type { CallContext, DcContext } from "../../lib/emulator/server_connection.ts";
import { testCodec as codec } from "../support/emulated_sender.ts";

/** A DC with one permanent and one temporary key, and the bind handler over it. */
async function setUp() {
  const now = 1_800_000_000;
  const keys = new KeyStore(secureRandom);
  const [permBytes, tempBytes] = [secureRandom(256), secureRandom(256)];
  keys.register(permBytes, 1n, now);
  keys.register(tempBytes, 2n, now, 3600);
  const perm = keys.find(makeAuthKey(permBytes).id, now)!;
  const temp = keys.find(makeAuthKey(tempBytes).id, now)!;
  const log: string[] = [];
  const clock = new FakeClock(now * 1000);
  const dc = { dcId: 1, keys, codec, clock } as unknown as DcContext;
  const bind = pfsMethods(createTools(await World.create(), () => []), (line) => log.push(line))[
    "auth.bindTempAuthKey"
  ];
  const sessionId = 0x5555n, messageId = BigInt(now) << 32n;
  const context = (key = temp) =>
    ({ key, messageKey: key, messageId, session: { sessionId }, dc }) as unknown as CallContext;
  const call = (overrides: { expiresAt?: number; signedWith?: Uint8Array } = {}): TlObject =>
    bindTempAuthKeyCall(
      codec,
      // A signature by other bytes that claims the permanent key's id.
      overrides.signedWith ? { key: overrides.signedWith, id: perm.authKey.id } : perm.authKey,
      {
        tempAuthKeyId: authKeyIdLong(temp.authKey),
        tempSessionId: sessionId,
        expiresAt: overrides.expiresAt ?? now + 3600,
      },
      messageId,
      secureRandom,
    );
  return { bind, call, context, perm, temp, log, keys };
}

const refusal = (run: () => unknown, name: string) =>
  assertEquals(assertThrows(run, RpcError).message.includes(name), true);

Deno.test("bindTempAuthKey binds once, and refuses a bad signature, a wrong nonce, an expired binding and a permanent key", async () => {
  const { bind, call, context, perm, temp, log, keys } = await setUp();
  // Signed with bytes that are not the permanent key, under its id: a bad signature.
  refusal(
    () => bind(call({ signedWith: secureRandom(256) }), context()),
    "ENCRYPTED_MESSAGE_INVALID",
  );
  refusal(() => bind({ ...call(), nonce: 1n }, context()), "ENCRYPTED_MESSAGE_INVALID");
  refusal(
    () => bind(call({ expiresAt: 1_800_000_000 - 1 }), context()),
    "ENCRYPTED_MESSAGE_INVALID",
  );
  // Sent under the permanent key itself: there is no temporary key to bind.
  refusal(() => bind(call(), context(perm)), "TEMP_AUTH_KEY_EMPTY");
  assertEquals(temp.boundTo, undefined);
  assertEquals(log.length, 3);
  assertEquals(bind(call(), context()), true);
  assertEquals(temp.boundTo, perm);
  refusal(() => bind(call(), context()), "TEMP_AUTH_KEY_ALREADY_BOUND");
  // At its end the temporary key is forgotten (its client gets -404); the permanent one stays.
  assertEquals(keys.find(temp.authKey.id, 1_800_000_000 + 3600), undefined);
  assertEquals(keys.find(perm.authKey.id, 1_800_000_000 + 3600), perm);
});
