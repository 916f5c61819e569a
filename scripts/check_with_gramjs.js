/**
 * Drives the emulator with GramJS (the `telegram` npm package, layer 198), an independent
 * MTProto client, and prints one line per step: sign-in with and without 2FA, dialogs, history,
 * read, send, an update pushed to another session, and a file fetched from another DC. Like
 * `check_with_mtcute.js` it needs the npm registry the first time and is run by hand (see
 * `scripts/check_clients.sh`); GramJS has Telegram's addresses built in, so it is pointed at the
 * emulator explicitly and, by that script, run in a network namespace with loopback only.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import { Api, TelegramClient } from "npm:telegram@2.26.22";
import { MemorySession } from "npm:telegram@2.26.22/sessions/index.js";
import { _serverKeys } from "npm:telegram@2.26.22/crypto/RSA.js";
import { LAYER } from "npm:telegram@2.26.22/tl/AllTLObjects.js";
import { ConnectionTCPFull } from "npm:telegram@2.26.22/network/connection/TCPFull.js";
import apiText from "npm:telegram@2.26.22/tl/apiTl.js";
import bigInt from "npm:big-integer@1.6.52";
import { rsaFingerprint } from "../lib/crypto/rsa.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { finish, step } from "./check_steps.js";

// GramJS reads only its own layer's objects: the emulator serves that layer, as `--scheme` would.
const schema = loadSchema([{ name: `gramjs-${LAYER}.tl`, text: `${apiText}\n// LAYER ${LAYER}` }]);
const emulator = await startEmulator({
  port: 0,
  schema,
  world: { homeDc: 1, filesDc: 3 },
  log: Deno.env.get("VERBOSE") ? (line) => console.error(`[emulator] ${line}`) : () => {},
});
// GramJS trusts only the keys in this table: add the emulator's, by its fingerprint.
_serverKeys.set(bigInt(rsaFingerprint(emulator.rsaKey).toString()).toString(), {
  n: bigInt(emulator.rsaKey.n.toString()),
  e: Number(emulator.rsaKey.e),
});
const clients = [];

/**
 * GramJS opens its main connection on port 80 and its download connections on 443, whatever
 * the session and help.getConfig say; those ports are mapped to the emulator's port for the DC.
 * The rest is GramJS as it talks to Telegram: the full transport over TCP.
 */
class EmulatorConnection extends ConnectionTCPFull {
  constructor(options) {
    const dc = emulator.dcs.find((candidate) => candidate.id === options.dcId);
    const fixed = options.port === 80 || options.port === 443;
    super({ ...options, port: fixed && dc ? dc.port : options.port });
  }
}

/** A GramJS client whose first DC is the emulator's DC 2 (accounts live on DC 1). */
function client() {
  // MemorySession: StringSession stores the port in 16 signed bits, too few for an ephemeral port.
  const session = new MemorySession();
  const dc = emulator.dcs[1];
  session.setDC(dc.id, "127.0.0.1", dc.port);
  const tg = new TelegramClient(session, 12345, "0123456789abcdef0123456789abcdef", {
    connection: EmulatorConnection,
    connectionRetries: 1,
    useWSS: false,
    autoReconnect: false,
  });
  tg.setLogLevel(Deno.env.get("VERBOSE") ? "debug" : "none");
  clients.push(tg);
  return tg;
}

const fail = (error) => {
  throw error;
};

console.log(`GramJS 2.26.22, layer ${LAYER}: accounts on DC 1, files on DC 3`);
const alice = client(), bob = client();
try {
  await step("sign in +15550000001 after PHONE_MIGRATE_1", async () => {
    await alice.start({
      phoneNumber: "+15550000001",
      phoneCode: () => Promise.resolve("12345"),
      onError: fail,
    });
    return (await alice.getMe()).firstName;
  });
  await step("2FA sign-in (SRP, password hunter2)", async () => {
    await bob.start({
      phoneNumber: "+15550000002",
      phoneCode: () => Promise.resolve("12345"),
      password: () => Promise.resolve("hunter2"),
      onError: fail,
    });
    return (await bob.getMe()).firstName;
  });
  await step("dialogs", async () => {
    const dialogs = await alice.getDialogs({ limit: 10 });
    if (dialogs.length !== 3) throw new Error(`expected 3 dialogs, got ${dialogs.length}`);
    return dialogs.map((dialog) => dialog.title).join(", ");
  });
  await step("history with Bob", async () => {
    const messages = await alice.getMessages("bob_example", { limit: 5 });
    return messages.map((message) => JSON.stringify(message.message)).join(", ");
  });
  await step("read history", async () => {
    const read = await alice.markAsRead("bob_example");
    if (read !== true) throw new Error(`markAsRead gave ${read}`);
    const [dialog] = (await alice.getDialogs({ limit: 10 })).filter((d) =>
      d.title.startsWith("Bob")
    );
    return `unread with Bob now ${dialog.unreadCount}`;
  });
  await step("Bob's client receives Alice's message as an update", async () => {
    const received = new Promise((resolve) =>
      bob.addEventHandler((update) => {
        if (update instanceof Api.UpdateShortMessage) resolve(update.message);
        if (update instanceof Api.UpdateNewMessage) resolve(update.message.message);
      })
    );
    await bob.getMe(); // Bob's session takes updates once it has made a call
    const sent = await alice.sendMessage("bob_example", { message: "ping from GramJS" });
    const text = await Promise.race([
      received,
      new Promise((_, reject) => setTimeout(() => reject(new Error("no update within 5 s")), 5000)),
    ]);
    return `sent id ${sent.id}, received ${JSON.stringify(text)}`;
  });
  await step("upload.getFile on DC 3 (export/import authorization)", async () => {
    const location = new Api.InputDocumentFileLocation({
      id: bigInt("9000001"),
      accessHash: bigInt("9100000000000000001"),
      fileReference: Buffer.alloc(0),
      thumbSize: "",
    });
    const bytes = await alice.downloadFile(location, { dcId: 3, fileSize: bigInt(10000) });
    return `${bytes.length} bytes`;
  });
} finally {
  await Promise.all(clients.map((tg) => tg.destroy().catch(() => {})));
  await emulator.close();
}

finish();
