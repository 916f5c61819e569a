/**
 * `deno task demo`: the product end to end, offline. Starts the emulator (a local stand-in for
 * Telegram), starts `serve` against it, signs in as the emulator's first user with `signin`, then
 * runs a short scripted client: dialogs, history, a message to the second user, whose own
 * connection receives it as an update. Everything runs on 127.0.0.1.
 *
 * @module
 */

import { systemClock } from "../lib/io/clock.ts";
import { runCli } from "../lib/cli/run.ts";
import { appIdentity, serverFlag } from "../lib/cli/server_flags.ts";
import { startEmulator } from "../lib/emulator/emulator.ts";
import { serve } from "../lib/proxy/serve.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { JsonClient } from "../tests/support/json_client.ts";

const step = (text: string) => console.log(`\n\x1b[1m${text}\x1b[0m`);
const show = (label: string, value: unknown) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  console.log(`  ${label.padEnd(10)} ${text.length > 160 ? text.slice(0, 157) + "..." : text}`);
};

step("1. The emulator: a test double of Telegram's DCs on 127.0.0.1");
const emulator = await startEmulator({ port: 0, log: () => {} });
const serverLine = JSON.stringify(emulator.serverLine());
show("DCs", emulator.dcs.map((dc) => `DC ${dc.id} → 127.0.0.1:${dc.port}`).join(", "));
show("server", serverLine);

step("2. serve: the JSON proxy, pointed at the emulator");
const proxy = serve({
  schema: loadSchema(),
  server: serverFlag(serverLine)!,
  app: appIdentity("12345", "demo-hash", "demo"),
}, { host: "127.0.0.1", port: 0, maxLine: 16 * 1024 * 1024 });
show("listening", `127.0.0.1:${proxy.port}  (try: nc 127.0.0.1 ${proxy.port})`);

async function signin(phone: string, password?: string): Promise<string> {
  let stdout = "";
  const status = await runCli(
    [
      "signin",
      "--server",
      serverLine,
      "--api-id",
      "12345",
      "--api-hash",
      "demo-hash",
      "--phone",
      phone,
      "--code",
      "12345",
      ...(password ? ["--password", password] : []),
    ],
    {
      stdin: ReadableStream.from([]),
      stdout: (text) => void (stdout += text),
      stderr: () => {},
      readTextFile: (path) => Deno.readTextFile(path),
      writeSecretFile: () => Promise.resolve(),
      stopped: new Promise(() => {}), // never: the demo runs signin to its end
      env: () => undefined,
      clock: systemClock,
    },
  );
  if (status !== 0) throw new Error(`signin failed for ${phone}`);
  return stdout.trim();
}

step("3. signin: Alice (+15550000001, code 12345) and Bob (+15550000002, 2FA password hunter2)");
const aliceLine = await signin("+15550000001");
const bobLine = await signin("+15550000002", "hunter2");
show("Alice", aliceLine.replace(/"auth_key":"[^"]*"/, '"auth_key":"…"'));

step("4. A scripted client: paste the session line, then call methods");
const alice = await JsonClient.connect(proxy.port);
const bob = await JsonClient.connect(proxy.port);
await alice.send(JSON.parse(aliceLine));
await bob.send(JSON.parse(bobLine));
await alice.request({ id: 2, options: { longs_as_strings: true } });
const dialogs = await alice.request({
  id: 3,
  message: {
    _cons: "messages.getDialogs",
    offset_date: 0,
    offset_id: 0,
    offset_peer: { _cons: "inputPeerEmpty" },
    limit: 10,
    hash: 0,
  },
});
const result = dialogs.message as Record<string, unknown[]>;
show(
  "dialogs",
  (result.dialogs as Record<string, Record<string, unknown>>[]).map((dialog) =>
    JSON.stringify(dialog.peer)
  ).join(", "),
);
const bobUser = (result.users as Record<string, unknown>[]).find((user) =>
  user.first_name === "Bob"
)!;
const peer = { _cons: "inputPeerUser", user_id: bobUser.id, access_hash: bobUser.access_hash };
const history = await alice.request({
  id: 4,
  message: {
    _cons: "messages.getHistory",
    peer,
    offset_id: 0,
    offset_date: 0,
    add_offset: 0,
    limit: 10,
    max_id: 0,
    min_id: 0,
    hash: 0,
  },
});
for (
  const message
    of ((history.message as Record<string, unknown[]>).messages as Record<string, unknown>[])
      .reverse()
) {
  show(message.out ? "Alice:" : "Bob:", message.message);
}
await bob.request({ id: 2, message: { _cons: "updates.getState" } });
const sent = await alice.request({
  id: 5,
  message: {
    _cons: "messages.sendMessage",
    peer,
    message: "Hello from the demo!",
    random_id: Date.now(),
  },
});
show("sent", sent.message);

/** The part of a message the demo prints. */
type TlText = { message: string };

step("5. Bob's connection receives the message, unasked, with id 0 and a resume cursor");
const update = await bob.next((line) => line.id === 0 && line.message !== undefined);
const [received] = (update.message as { updates: { _cons: string; message: TlText }[] }).updates;
show("update", `${received._cons}: ${JSON.stringify(received.message.message)}`);
show("cursor", update.cursor);

alice.close();
bob.close();
await proxy.close();
await emulator.close();
console.log("\nDone: emulator, serve, signin and a JSON client, all offline on 127.0.0.1.");
