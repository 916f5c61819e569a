// A sign-in is noticed through any invoke wrapper the caller puts around it (the one list shared
// with the emulator): the session then names the user, so it can be resumed and exported.
import { assertEquals } from "../assert.ts";
import { Client } from "../../lib/client/client.ts";
import { initConnectionCall } from "../../lib/client/init_connection.ts";
import { sessionToJson } from "../../lib/client/session_json.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";

const APP = {
  apiId: 1,
  apiHash: "h",
  deviceModel: "t",
  systemVersion: "t",
  appVersion: "t",
  langCode: "en",
};

/** `auth.signIn` with the emulator's code, wrapped by `wrap`. */
async function signInWrapped(
  client: Client,
  phone: string,
  wrap: (call: TlObject) => TlObject,
): Promise<TlObject> {
  const sent = await client.call({
    _cons: "auth.sendCode",
    phone_number: phone,
    api_id: 1,
    api_hash: "h",
    settings: { _cons: "codeSettings" },
  });
  assertEquals(sent._cons, "auth.sentCode", JSON.stringify(sent));
  return await client.call(wrap({
    _cons: "auth.signIn",
    phone_number: phone,
    phone_code_hash: sent.phone_code_hash,
    phone_code: "12345",
  }));
}

Deno.test("a sign-in wrapped in invokeWithoutUpdates (alone or under the caller's own initConnection) sets the session's user", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  // Alice (no 2FA) signs in on a new session each time; the wrapping differs.
  const wrappings: [string, (call: TlObject) => TlObject][] = [
    ["invokeWithoutUpdates", (call) => ({ _cons: "invokeWithoutUpdates", query: call })],
    ["invokeWithLayer(initConnection(invokeWithoutUpdates))", (call) => ({
      _cons: "invokeWithLayer",
      layer: loadSchema().layer ?? 0,
      query: initConnectionCall(APP, 1, { _cons: "invokeWithoutUpdates", query: call }),
    })],
  ];
  try {
    for (const [name, wrap] of wrappings) {
      const client = new Client({
        schema: loadSchema(),
        server: {
          host: "127.0.0.1",
          port: emulator.dcs[0].port,
          dc: 1,
          publicKeys: [emulator.rsaKey],
          test: false,
          transport: { kind: "intermediate" },
        },
        app: APP,
        log: () => {},
      });
      try {
        const signed = await signInWrapped(client, "+15550000001", wrap);
        assertEquals(signed._cons, "auth.authorization", `${name}: ${JSON.stringify(signed)}`);
        const userId = Number((signed.user as TlObject).id);
        assertEquals(client.session.userId, userId, name);
        const line = sessionToJson(client.currentSession(), client.server);
        assertEquals(line.user_id, userId, `${name}: the session line names the user`);
      } finally {
        client.closeConnections();
      }
    }
  } finally {
    await emulator.close();
  }
});
