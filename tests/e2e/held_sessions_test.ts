import { assertEquals } from "../assert.ts";
import { loadSchema } from "../../lib/tl/default_schema.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { serve } from "../../lib/proxy/serve.ts";
import { appIdentity, serverFlag } from "../../lib/cli/server_flags.ts";
import { type AccountStore, openSqliteStore } from "../../lib/store/sqlite.ts";
import { HeldAccounts } from "../../lib/proxy/held_accounts.ts";
import type { ProxyDefaults } from "../../lib/proxy/proxy_connection.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, startServeProcess } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";

type Line = Record<string, unknown>;
const root = new URL("../../", import.meta.url).pathname;
const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";
const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;

/** `mtproto2json serve --state DIR` as a process; resolves once it listens. */
const startServe = (line: unknown, dir: string) => startServeProcess(line, ["--state", dir]);

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
    // Alice is away once serve has let her connection go: health counts only the asking one.
    const port = proxy.port;
    await until(
      async () => {
        const asking = await JsonClient.connect(port);
        try {
          return ((await asking.request({ id: 1, health: {} })).health as Line).connections === 1;
        } finally {
          asking.close();
        }
      },
      15_000,
      "serve to let Alice's connection go",
    );

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

/** A held-sessions world: emulator, serve with `--state` in-process, and Bob on a raw client. */
interface HeldWorld {
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  store: AccountStore;
  held: HeldAccounts;
  port: number;
  /** The `--state` directory. */
  state: string;
  bob: (call: TlObject) => Promise<TlObject>;
}

/** Runs `run` in a fresh held-sessions world whose journals keep `journal` lines. */
async function withHeldServe(journal: number, run: (world: HeldWorld) => Promise<void>) {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  const store = await openSqliteStore(state);
  const defaults: ProxyDefaults = {
    schema: loadSchema(),
    server: serverFlag(JSON.stringify(emulator.serverLine(1)))!,
    app: appIdentity("12345", "hash", "test"),
    behaviour: { timeoutSeconds: 5 },
    transport: { kind: "intermediate" },
  };
  const held = new HeldAccounts(defaults, store, { journalLimit: journal });
  defaults.held = held;
  const proxy = serve(defaults, { host: "127.0.0.1", port: 0, maxLine: 1 << 20 });
  const sender = emulatedSender(emulator, 1);
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    await run({ emulator, store, held, port: proxy.port, state, bob });
  } finally {
    sender.close();
    await proxy.close();
    await held.close();
    await store.close();
    await emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("three connections on one held account all get Bob's message, and their calls share one session", async () => {
  await withHeldServe(1000, async ({ emulator, port, state, bob }) => {
    const connections: JsonClient[] = [];
    try {
      const first = await JsonClient.connect(port);
      connections.push(first);
      const session = await signInAlice(first) as Line;
      await first.next(isSynced);
      const sessionsOfAlice = () =>
        [...emulator.contexts[0].sessions.values()].filter((s) => s.key.userId === 1000001).length;
      const before = sessionsOfAlice();
      for (let i = 0; i < 2; i++) {
        const other = await JsonClient.connect(port);
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
      assertEquals(Deno.statSync(`${state}/mtproto2json.sqlite`).mode! & 0o777, 0o600);
      assertEquals(Deno.statSync(state).mode! & 0o777, 0o700);
    } finally {
      for (const connection of connections) connection.close();
    }
  });
});

Deno.test("a cursor older than the journal reaches is served from getDifference, exactly", async () => {
  // A journal of 10 lines.
  await withHeldServe(10, async ({ store, emulator, port, bob }) => {
    const alice = await JsonClient.connect(port);
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
    await until(async () => ((await store.journalBounds(await keyOf(store)))?.last ?? 0) >= 40);
    assertEquals((await store.journalBounds(await keyOf(store)))!.first > 1, true);
    const back = await JsonClient.connect(port);
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
  });
});

/** The key id of the store's only account. */
async function keyOf(store: AccountStore): Promise<string> {
  return (await store.accounts())[0].keyId;
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
  await withHeldServe(100, async ({ emulator, store, held, port }) => {
    const alice = await JsonClient.connect(port);
    try {
      await signInAlice(alice);
      await alice.next(isSynced);
      assertEquals((await store.accounts()).length, 1);
      emulator.contexts[0].keys.forgetAll();
      const met = await alice.request({ id: 5, message: { _cons: "help.getNearestDc" } });
      assertEquals(met.error, "AuthKeyUnknown", JSON.stringify(met));
      await alice.next((line) => line.id === 0 && (line.event as Line)?.type === "session_dead");
      assertEquals((await store.accounts()).length, 0);
      assertEquals(held.size, 0);
      // The connection goes on: a new key, and help calls work.
      const again = await alice.request({ id: 6, message: { _cons: "help.getNearestDc" } });
      assertEquals((again.message as TlObject)._cons, "nearestDc");
    } finally {
      alice.close();
    }
  });
});
