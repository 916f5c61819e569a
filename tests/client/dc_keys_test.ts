// Keys on the account's other DCs (where its files live) are kept with the session: a second
// download from that DC, even from a new client loading the session line, neither makes a key nor
// exports the authorization again; a DC that forgot the authorization gets it exported once more.

import { emulatorClient, recordCalls } from "../support/emulated_client.ts";
import { assertEquals } from "../assert.ts";
import { sessionFromJson, sessionToJson } from "../../lib/client/session_json.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { RpcError } from "../../lib/errors.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { signIn } from "../support/raw_calls.ts";

/** A file of the default world, stored on the files DC. */
const getFile = {
  _cons: "upload.getFile",
  location: {
    _cons: "inputDocumentFileLocation",
    id: 9000001,
    access_hash: "9100000000000000001",
    file_reference: "",
    thumb_size: "",
  },
  offset: 0,
  limit: 4096,
};

Deno.test("a key on the files DC is kept in the session line: the next download neither exchanges a key nor exports again", async () => {
  const emulator = await startEmulator({
    port: 0,
    log: () => {},
    world: { homeDc: 2, filesDc: 3 },
  });
  // What each DC was asked, by method: the test observes the emulator, never the client's state.
  const calls = recordCalls(emulator);
  const keysOn = (dc: number) => emulator.contexts[dc - 1].keys.size;
  const first = emulatorClient(emulator, 2);
  let line: Record<string, unknown>;
  try {
    const signed = await signIn((request) => first.call(request), "+15550000001");
    assertEquals(signed._cons, "auth.authorization", JSON.stringify(signed));
    const file = await first.call(getFile);
    assertEquals(file._cons, "upload.file", JSON.stringify(file));
    assertEquals(calls.filter((c) => c === "dc2 auth.exportAuthorization").length, 1);
    line = JSON.parse(JSON.stringify(sessionToJson(first.currentSession(), first.server)));
    const kept = (line.dc_keys as Record<string, Record<string, unknown>>)?.["3"];
    assertEquals(kept?.authorized, true, JSON.stringify(line.dc_keys));
  } finally {
    first.closeConnections();
  }

  // A new client from the session line: DC 3 already knows its key and the account under it.
  const keysBefore = keysOn(3);
  calls.length = 0;
  const second = emulatorClient(emulator, 2, { session: sessionFromJson(line, 2) });
  try {
    const file = await second.call(getFile);
    assertEquals(file._cons, "upload.file", JSON.stringify(file));
    assertEquals(calls.filter((c) => c.endsWith("auth.exportAuthorization")), []);
    assertEquals(calls.filter((c) => c.endsWith("auth.importAuthorization")), []);
    assertEquals(keysOn(3), keysBefore, "no new key on DC 3");

    // DC 3 loses the authorization (revoked there) but keeps the key: exported again, once.
    const forget = emulator.contexts[2].call.bind(emulator.contexts[2]);
    let refused = 0;
    emulator.contexts[2].call = (request: TlObject, callContext) => {
      if (request._cons === "upload.getFile" && refused++ === 0) {
        throw new RpcError(401, "AUTH_KEY_UNREGISTERED");
      }
      return forget(request, callContext);
    };
    calls.length = 0;
    const again = await second.call(getFile);
    assertEquals(again._cons, "upload.file", JSON.stringify(again));
    assertEquals(calls.filter((c) => c.endsWith("auth.exportAuthorization")).length, 1);
    assertEquals(calls.filter((c) => c.endsWith("auth.importAuthorization")).length, 1);
  } finally {
    second.closeConnections();
    await emulator.close();
  }
});
