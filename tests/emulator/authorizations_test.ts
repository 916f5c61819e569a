import { assertEquals } from "../assert.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn, signInWithCode } from "../support/raw_calls.ts";

/** A call wrapped as apps wrap their first one, saying which app and device this is. */
const asApp = (query: TlObject): TlObject => ({
  _cons: "invokeWithLayer",
  layer: 223,
  query: {
    _cons: "initConnection",
    api_id: 42,
    device_model: "Test Phone",
    system_version: "TestOS 1",
    app_version: "9.9",
    system_lang_code: "en",
    lang_pack: "",
    lang_code: "en",
    query,
  },
});

Deno.test("getAuthorizations lists the account's signed-in keys; resetAuthorization signs one out (401 on its next call)", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const laptop = emulatedSender(emulator, 1), phone = emulatedSender(emulator, 1);
  const bob = emulatedSender(emulator, 1);
  const onLaptop = rawCaller(laptop, codec), onPhone = rawCaller(phone, codec);
  const asBob = rawCaller(bob, codec);
  try {
    await signInWithCode(onLaptop, "+15550000001");
    await onPhone(asApp({ _cons: "help.getNearestDc" }));
    await signInWithCode(onPhone, "+15550000001");
    await signIn(asBob, "+15550000002", "hunter2");
    const listed = await onLaptop({ _cons: "account.getAuthorizations" });
    const [own, other, ...more] = listed.authorizations as TlObject[];
    assertEquals(more, [], "Bob's session is not Alice's");
    const current = { _cons: "true" };
    assertEquals([own.current, own.hash], [current, 0n]);
    assertEquals([other.current, other.device_model, other.api_id, other.app_version], [
      undefined,
      "Test Phone",
      42,
      "9.9",
    ]);
    assertEquals(
      (await asBob({ _cons: "account.resetAuthorization", hash: other.hash })).error_message,
      "HASH_INVALID",
      "another account's session cannot be ended",
    );
    assertEquals(
      (await onLaptop({ _cons: "account.resetAuthorization", hash: 0n })).error_message,
      "HASH_INVALID",
    );
    assertEquals(
      (await onLaptop({ _cons: "account.resetAuthorization", hash: other.hash }))._cons,
      "boolTrue",
    );
    const signedOut = await onPhone({ _cons: "updates.getState" });
    assertEquals([signedOut.error_code, signedOut.error_message], [401, "AUTH_KEY_UNREGISTERED"]);
    const after = await onLaptop({ _cons: "account.getAuthorizations" });
    assertEquals((after.authorizations as TlObject[]).map((entry) => entry.current), [current]);
    assertEquals((await onLaptop({ _cons: "updates.getState" }))._cons, "updates.state");

    // Push tokens are taken and given back; an empty one is refused.
    const device = { token_type: 2, token: "fcm-token", other_uids: [] };
    const registered = await onLaptop({
      _cons: "account.registerDevice",
      ...device,
      app_sandbox: { _cons: "boolFalse" },
      secret: new Uint8Array(0),
    });
    assertEquals(registered._cons, "boolTrue");
    const empty = await onLaptop({
      _cons: "account.registerDevice",
      ...device,
      token: "",
      app_sandbox: { _cons: "boolFalse" },
      secret: new Uint8Array(0),
    });
    assertEquals(empty.error_message, "TOKEN_INVALID");
    assertEquals(
      (await onLaptop({ _cons: "account.unregisterDevice", ...device }))._cons,
      "boolTrue",
    );
  } finally {
    for (const sender of [laptop, phone, bob]) sender.close();
    await emulator.close();
  }
});
