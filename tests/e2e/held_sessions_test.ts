import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/proxy_command.ts";
import { type AccountStore, openSqliteStore } from "../../lib/proxy/account_store.ts";
import { HeldAccounts } from "../../lib/proxy/held_accounts.ts";
import type { ProxyDefaults } from "../../lib/proxy/handler.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "./json_client.ts";
import { signInAlice, waitFor } from "../support/processes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";

type Line = Record<string, unknown>;
const root = new URL("../../", import.meta.url).pathname;
const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";
const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;

async function until(test: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; !test() && Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `mtproto2json serve --state DIR` as a process; resolves once it listens. */
async function startServe(line: unknown, dir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}main.ts`,
      "serve",
      "--port",
      "0",
      "--api-id",
      "12345",
      "--transport",
      "intermediate",
      "--state",
      dir,
      "--server",
      JSON.stringify(line),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const port = Number((await waitFor(child.stderr, /listening on [\d.]+:(\d+)/))[1]);
  return { child, port };
}

Deno.test("serve --state killed with SIGKILL while Alice is away: after a restart she gets exactly what Bob sent", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const sender = emulatedSender(emulator, 1);
  const bob = rawCaller(sender, codec);
  const aliceUser = emulator.world.users.get(1000001)!;
  const toAlice = {
    _cons: "inputPeerUser",
    user_id: aliceUser.id,
    access_hash: aliceUser.accessHash,
  };
  let random = 1n;
  const send = (text: string) =>
    bob({ _cons: "messages.sendMessage", peer: toAlice, message: text, random_id: random++ });
  let proxy = await startServe(emulator.serverLine(1), dir);
  try {
    await signIn(bob, "+15550000002", "hunter2");
    const alice = await JsonClient.connect(proxy.port);
    const session = await signInAlice(alice) as Line;
    await alice.next(isSynced);
    await send("before");
    await until(() => alice.updates.some((line) => textOf(line) === "before"));
    const cursor = alice.updates.filter((line) => textOf(line) === "before")[0].cursor;
    alice.close();
    await new Promise((resolve) => setTimeout(resolve, 200));

    proxy.child.kill("SIGKILL");
    await proxy.child.status;
    for (let i = 0; i < 50; i++) await send(`while away ${i}`);
    proxy = await startServe(emulator.serverLine(1), dir);

    const back = await JsonClient.connect(proxy.port);
    try {
      await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      const synced = await back.next(isSynced, 20_000);
      const texts = back.updates.map(textOf).filter((text) => text !== undefined);
      assertEquals(texts, Array.from({ length: 50 }, (_, i) => `while away ${i}`));
      assertEquals((synced.event as Line).recovered, 50);
      // And it goes on live.
      await send("after");
      await until(() => back.updates.some((line) => textOf(line) === "after"));
      assertEquals(back.updates.map(textOf).filter((text) => text !== undefined).length, 51);
    } finally {
      back.close();
    }
  } finally {
    sender.close();
    proxy.child.kill("SIGTERM");
    await proxy.child.status;
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("three connections on one held account all get Bob's message, and their calls share one session", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const store = await openSqliteStore(`${dir}/state`);
  const defaults: ProxyDefaults = {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  };
  defaults.held = new HeldAccounts(defaults, store, 1000);
  const proxy = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const sender = emulatedSender(emulator, 1);
  const connections: JsonClient[] = [];
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    const first = await JsonClient.connect(proxy.port);
    connections.push(first);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    const sessionsOfAlice = () =>
      [...emulator.contexts[0].sessions.values()].filter((s) => s.key.userId === 1000001).length;
    const before = sessionsOfAlice();
    for (let i = 0; i < 2; i++) {
      const other = await JsonClient.connect(proxy.port);
      connections.push(other);
      await other.request({ id: 1, session });
      await other.next(isSynced);
    }
    const aliceUser = emulator.world.users.get(1000001)!;
    await bob({
      _cons: "messages.sendMessage",
      peer: { _cons: "inputPeerUser", user_id: aliceUser.id, access_hash: aliceUser.accessHash },
      message: "to all of Alice's connections",
      random_id: 99n,
    });
    await until(() =>
      connections.every((c) =>
        c.updates.some((line) => textOf(line) === "to all of Alice's connections")
      )
    );
    for (const connection of connections) {
      assertEquals(
        connection.updates.filter((line) => textOf(line) === "to all of Alice's connections")
          .length,
        1,
      );
    }
    // 3 × 100 calls at once, each answer to its own request.
    await Promise.all(
      connections.map((connection, c) =>
        Promise.all(Array.from({ length: 100 }, async (_, i) => {
          const id = 1000 + c * 1000 + i;
          const answer = await connection.request({
            id,
            message: {
              _cons: "messages.getPeerDialogs",
              peers: [{ _cons: "inputDialogPeer", peer: { _cons: "inputPeerSelf" } }],
            },
          });
          assertEquals(answer.id, id);
          assertEquals(
            (answer.message as TlObject)?._cons,
            "messages.peerDialogs",
            JSON.stringify(answer),
          );
        }))
      ),
    );
    assertEquals(sessionsOfAlice(), before);
    // The store holds auth keys: its owner alone may read it.
    assertEquals(Deno.statSync(`${dir}/state/mtproto2json.sqlite`).mode! & 0o777, 0o600);
    assertEquals(Deno.statSync(`${dir}/state`).mode! & 0o777, 0o700);
  } finally {
    for (const connection of connections) connection.close();
    sender.close();
    await proxy.close();
    defaults.held.close();
    store.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cursor older than the journal reaches is served from getDifference, exactly", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const store = await openSqliteStore(dir);
  const defaults: ProxyDefaults = {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  };
  defaults.held = new HeldAccounts(defaults, store, 10); // a journal of 10 lines
  const proxy = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const sender = emulatedSender(emulator, 1);
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    const alice = await JsonClient.connect(proxy.port);
    const session = await signInAlice(alice) as Line;
    const synced = await alice.next(isSynced);
    alice.close();
    const aliceUser = emulator.world.users.get(1000001)!;
    const peer = {
      _cons: "inputPeerUser",
      user_id: aliceUser.id,
      access_hash: aliceUser.accessHash,
    };
    for (let i = 0; i < 40; i++) {
      await bob({
        _cons: "messages.sendMessage",
        peer,
        message: `m${i}`,
        random_id: BigInt(i + 1),
      });
    }
    // The held account journals all 40 (and keeps the last 10 or so).
    await until(() => (store.journalBounds(keyOf(store))?.last ?? 0) >= 40);
    assertEquals(store.journalBounds(keyOf(store))!.first > 1, true);
    const back = await JsonClient.connect(proxy.port);
    try {
      await back.request({
        id: 1,
        session: { ...session, updates_cursor: (synced.event as Line).cursor },
      });
      const done = await back.next(isSynced, 20_000);
      const texts = back.updates.map(textOf).filter((text) => text !== undefined);
      assertEquals(texts, Array.from({ length: 40 }, (_, i) => `m${i}`));
      assertEquals((done.event as Line).recovered, 40);
    } finally {
      back.close();
    }
  } finally {
    sender.close();
    await proxy.close();
    defaults.held.close();
    store.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The key id of the store's only account. */
function keyOf(store: AccountStore): string {
  return store.accounts()[0].keyId;
}

Deno.test("mtproto2json health asks serve how it is: held accounts, connections, uptime; 1 when nobody answers", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const proxy = await startServe(emulator.serverLine(1), dir);
  const health = async (port: number) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, "health", "--port", String(port), "--timeout", "2"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  };
  const alice = await JsonClient.connect(proxy.port);
  try {
    await signInAlice(alice);
    await alice.next(isSynced);
    const well = await health(proxy.port);
    assertEquals(well.code, 0, well.stderr);
    const report = JSON.parse(well.stdout);
    assertEquals([report.status, report.held_accounts, report.connections], ["ok", 1, 2]);
    assertEquals(typeof report.uptime_s, "number");
  } finally {
    alice.close();
    proxy.child.kill("SIGTERM");
    await proxy.child.status;
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
  const down = await health(proxy.port);
  assertEquals(down.code, 1);
  assertEquals(down.stderr.includes(`127.0.0.1:${proxy.port}`), true, down.stderr);
});

Deno.test("a held account whose key the DC forgot tells its connections, and is not held any more", async () => {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const store = await openSqliteStore(dir);
  const defaults: ProxyDefaults = {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  };
  defaults.held = new HeldAccounts(defaults, store, 100);
  const proxy = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const alice = await JsonClient.connect(proxy.port);
  try {
    await signInAlice(alice);
    await alice.next(isSynced);
    assertEquals(store.accounts().length, 1);
    emulator.contexts[0].keys.forgetAll();
    const met = await alice.request({ id: 5, message: { _cons: "help.getNearestDc" } });
    assertEquals(met.error, "AuthKeyUnknown", JSON.stringify(met));
    await alice.next((line) => line.id === 0 && (line.event as Line)?.type === "session_dead");
    assertEquals(store.accounts().length, 0);
    assertEquals(defaults.held.size, 0);
    // The connection goes on: a new key, and help calls work.
    const again = await alice.request({ id: 6, message: { _cons: "help.getNearestDc" } });
    assertEquals((again.message as TlObject)._cons, "nearestDc");
  } finally {
    alice.close();
    await proxy.close();
    defaults.held.close();
    store.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
