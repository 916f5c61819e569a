/**
 * Drives the emulator with an independent, well-known MTProto client, mtcute 0.30 (layer 227),
 * without and with perfect forward secrecy, and prints one line per step. This is how the emulator's acceptance by a client that is not
 * this project's own is checked; it needs the npm registry the first time (for mtcute), so it is
 * a script to run by hand, not part of the tests:
 *
 * ```sh
 * deno task check-mtcute
 * ```
 *
 * mtcute stays out of the project's configuration and lock file (inline `npm:` specifiers, run
 * with `--no-lock`), and this file is JavaScript so that `deno check` skips it: the tests never
 * fetch mtcute.
 *
 * @module
 */

// deno-lint-ignore-file no-import-prefix

import { MemoryStorage, TelegramClient } from "npm:@mtcute/node@0.30.3";
import { addPublicKey } from "npm:@mtcute/core@0.30.3/utils.js";
import api from "npm:@mtcute/core@0.30.3/tl/api-schema.json" with { type: "json" };
import mtproto from "npm:@mtcute/core@0.30.3/tl/mtp-schema.json" with { type: "json" };
import Long from "npm:long@5";
import { publicKeyToPem } from "../lib/crypto/rsa.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { schemaTexts } from "./update_scheme.ts";
import { finish, step } from "./check_steps.js";

const texts = schemaTexts({ api, mtproto });
// mtcute reads only layer 227 objects: the emulator serves its layer, as `--scheme` would.
const schema = loadSchema([{ name: `mtcute-${texts.layer}.tl`, text: texts.apiText }]);
/**
 * One scenario against a fresh emulator; `world` switches the home and files DCs, `pfs` makes
 * mtcute bind temporary keys (and the emulator's log is then checked for messages under a
 * permanent key).
 */
async function scenario(title, world, pfs, body) {
  console.log(`\n${title}${pfs ? ", with PFS" : ""}`);
  const lines = [];
  const emulator = await startEmulator({
    port: 0,
    schema,
    world,
    log: (line) => {
      lines.push(line);
      if (Deno.env.get("VERBOSE")) console.error(`[emulator] ${line}`);
    },
  });
  const pem = publicKeyToPem(emulator.rsaKey);
  const home = emulator.dcs[1];
  const clients = [];
  const client = () => {
    const tg = new TelegramClient({
      apiId: 12345,
      apiHash: "0123456789abcdef0123456789abcdef",
      storage: new MemoryStorage(),
      defaultDcs: {
        main: { id: home.id, ipAddress: "127.0.0.1", port: home.port },
        media: { id: home.id, ipAddress: "127.0.0.1", port: home.port },
      },
      logLevel: Number(Deno.env.get("MTCUTE_LOG") ?? 0),
      network: { usePfs: pfs },
    });
    addPublicKey(tg.crypto ?? tg._client?.crypto ?? tg.mt?.crypto, pem);
    clients.push(tg);
    return tg;
  };
  try {
    await body(client);
    if (pfs) {
      await step("PFS: temporary keys bound, no message under a permanent key", () => {
        const bound = lines.filter((line) => line.includes("bound to permanent key")).length;
        const under = lines.filter((line) => line.includes("a message under permanent key"));
        if (bound === 0) throw new Error("no temporary key was bound");
        if (under.length) throw new Error(under[0]);
        return `${bound} bound`;
      });
    }
  } finally {
    await Promise.all(clients.map((tg) => tg.destroy().catch(() => {})));
    await emulator.close();
  }
}

const FILE = {
  _: "inputDocumentFileLocation",
  id: Long.fromString("9000001"),
  accessHash: Long.fromString("9100000000000000001"),
  fileReference: new Uint8Array(0),
  thumbSize: "",
};

for (const pfs of [false, true]) {
  await scenario("mtcute 0.30, everything on DC 2", {}, pfs, async (client) => {
    const alice = client();
    await step("key exchange and connect", () => alice.connect());
    await step("help.getConfig", async () => {
      const config = await alice.call({ _: "help.getConfig" });
      return `this_dc ${config.thisDc}, ${config.dcOptions.length} dc_options`;
    });
    await step("sign in +15550000001 with code 12345", async () => {
      const me = await alice.start({ phone: "+15550000001", code: "12345" });
      return me.displayName;
    });
    await step("dialogs, page by page", async () => {
      const names = [];
      for await (const dialog of alice.iterDialogs({ limit: 10 })) {
        names.push(dialog.peer.displayName);
      }
      if (names.length !== 3) throw new Error(`expected 3 dialogs, got ${names.join(", ")}`);
      return names.join(", ");
    });
    await step("history with Bob", async () => {
      const messages = await alice.getHistory("bob_example", { limit: 5 });
      return messages.map((message) => JSON.stringify(message.text)).join(", ");
    });
    await step("read history", async () => {
      await alice.readHistory("bob_example");
      const [dialog] = await alice.getPeerDialogs(["bob_example"]);
      return `unread with Bob now ${dialog.unreadCount}`;
    });
    await step(
      "sendText",
      async () => (await alice.sendText("bob_example", "hello from mtcute")).id,
    );
  });

  await scenario(
    "mtcute 0.30, accounts on DC 1, files on DC 3",
    { homeDc: 1, filesDc: 3 },
    pfs,
    async (client) => {
      const alice = client(), bob = client();
      await step("sign in after PHONE_MIGRATE_1", async () => {
        return (await alice.start({ phone: "+15550000001", code: "12345" })).displayName;
      });
      await step("2FA sign-in (SRP, password hunter2)", async () => {
        const me = await bob.start({ phone: "+15550000002", code: "12345", password: "hunter2" });
        return me.displayName;
      });
      await step("Bob's client receives Alice's message as an update", async () => {
        // start() returns before mtcute's update loop has loaded its state, and mtcute drops an
        // update that arrives in between; give the loop a moment to start.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const received = new Promise((resolve) =>
          bob.onNewMessage.add((message) => resolve(message.text))
        );
        await alice.sendText("bob_example", "ping from alice");
        const text = await Promise.race([
          received,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error("no update within 5 s")), 5000)
          ),
        ]);
        return JSON.stringify(text);
      });
      await step("upload.getFile on DC 3 (export/import authorization)", async () => {
        const part = await alice.call(
          { _: "upload.getFile", location: FILE, offset: 0, limit: 4096 },
          { dcId: 3 },
        );
        return `${part.bytes.length} bytes`;
      });
    },
  );
}

finish();
