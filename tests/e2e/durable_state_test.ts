/**
 * `serve --state DIR` as an operator runs it: restarted, killed, two at once, on a damaged or a
 * full disk — and as a client resumes from it: the first cursor a client has is the one in
 * `synced`, before any update.
 */

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { decodeCursor, encodeCursor } from "../../lib/updates/cursor.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, startServeProcess } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";

type Line = Record<string, unknown>;
type Emulator = Awaited<ReturnType<typeof startEmulator>>;
type Serve = Awaited<ReturnType<typeof startServeProcess>>;
const root = new URL("../../", import.meta.url).pathname;
const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";
const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;
const textsOf = (client: JsonClient) =>
  client.updates.map(textOf).filter((text) => text !== undefined);
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);

/** An emulator with Bob signed in on a raw client, and `send` for his messages to Alice. */
async function world() {
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const sender = emulatedSender(emulator, 1);
  const bob = rawCaller(sender, codec);
  await signIn(bob, "+15550000002", "hunter2");
  const alice = emulator.world.users.get(1000001)!;
  const toAlice = { _cons: "inputPeerUser", user_id: alice.id, access_hash: alice.accessHash };
  let random = 1n;
  const send = async (texts: string[]) => {
    for (const message of texts) {
      await bob({ _cons: "messages.sendMessage", peer: toAlice, message, random_id: random++ });
    }
  };
  const close = async () => {
    sender.close();
    await emulator.close();
  };
  return { emulator, send, close };
}

const serveOn = (emulator: Emulator, dir: string, extra: string[] = []) =>
  startServeProcess(emulator.serverLine(1), ["--state", dir, ...extra]);

async function stop(serve: Serve, signal: "SIGTERM" | "SIGKILL") {
  serve.child.kill(signal);
  await serve.child.status;
}

/** Alice loads `session` with `cursor` on a new connection and waits for `synced`. */
async function resume(port: number, session: Line, cursor?: string) {
  const alice = await JsonClient.connect(port);
  const answer = await alice.request({
    id: 1,
    session: { ...session, ...(cursor ? { updates_cursor: cursor } : {}) },
  });
  if (answer.error) throw new Error(JSON.stringify(answer));
  const synced = await alice.next(isSynced, 30_000);
  return { alice, synced: synced.event as Line };
}

Deno.test("the cursor of the first synced, before any update, resumes exactly across SIGTERM, SIGKILL and an emptied store", async () => {
  const { emulator, send, close } = await world();
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  let serve = await serveOn(emulator, state);
  try {
    const first = await JsonClient.connect(serve.port);
    const session = await signInAlice(first) as Line;
    const synced = await first.next(isSynced);
    const cursor = (synced.event as Line).cursor as string;
    first.close();

    await stop(serve, "SIGTERM");
    await send(range("away", 0, 25));
    serve = await serveOn(emulator, state);
    await stop(serve, "SIGKILL");
    await send(range("away", 25, 50));
    serve = await serveOn(emulator, state);
    let { alice, synced: back } = await resume(serve.port, session, cursor);
    assertEquals(textsOf(alice), range("away", 0, 50));
    assertEquals(back.recovered, 50);
    const last = alice.updates.filter((line) => line.cursor).at(-1)!.cursor as string;
    alice.close();

    // The store is lost: the cursors it handed out still resume, from their own state.
    await stop(serve, "SIGKILL");
    await Deno.remove(state, { recursive: true });
    await send(range("after loss", 0, 5));
    serve = await serveOn(emulator, state);
    ({ alice, synced: back } = await resume(serve.port, session, cursor));
    assertEquals(textsOf(alice), [...range("away", 0, 50), ...range("after loss", 0, 5)]);
    alice.close();
    ({ alice, synced: back } = await resume(serve.port, session, last));
    assertEquals(textsOf(alice), range("after loss", 0, 5));
    assertEquals(back.recovered, 5);
    // And it goes on live.
    await send(["live"]);
    await until(() => textsOf(alice).includes("live"), 15_000, "the live message");
    assertEquals(textsOf(alice), [...range("after loss", 0, 5), "live"]);
    alice.close();
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cursor of another account is refused; one out of range is refused; a journal position past the end is not 'caught up'", async () => {
  const { emulator, send, close } = await world();
  const dir = await Deno.makeTempDir();
  const serve = await serveOn(emulator, `${dir}/state`);
  try {
    const first = await JsonClient.connect(serve.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await send(["one"]);
    await until(() => textsOf(first).includes("one"));
    const cursor = first.updates.find((line) => textOf(line) === "one")!.cursor as string;
    first.close();
    const value = decodeCursor(cursor);
    assertEquals(value.account, 1000001);

    const probe = await JsonClient.connect(serve.port);
    const bobs = encodeCursor({ ...value, account: 1000002 });
    const refused = await probe.request({ id: 1, session: { ...session, updates_cursor: bobs } });
    assertEquals(refused.error, "BadCursor");
    assertEquals(String(refused.msg).includes("another account"), true, String(refused.msg));
    const huge = encodeCursor({ ...value, state: { ...value.state, pts: 2 ** 31 } });
    const wild = await probe.request({ id: 2, session: { ...session, updates_cursor: huge } });
    assertEquals(wild.error, "BadCursor");
    probe.close();

    await send(["two", "three"]);
    const ahead = encodeCursor({ ...value, journal: Number.MAX_SAFE_INTEGER });
    const { alice, synced } = await resume(serve.port, session, ahead);
    assertEquals(textsOf(alice), ["two", "three"]);
    assertEquals(synced.recovered, 2);
    alice.close();
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second serve on the same --state exits 2 naming the first; after a SIGKILL of the first a new one starts", async () => {
  const { emulator, close } = await world();
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  let serve = await serveOn(emulator, state);
  try {
    const second = await serveCommand(["--state", state, "--port", "0"]);
    assertEquals(second.code, 2, second.stderr);
    assertEquals(second.stderr.includes(`process ${serve.child.pid}`), true, second.stderr);
    await stop(serve, "SIGKILL");
    serve = await serveOn(emulator, state);
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `mtproto2json serve ARGS`, expected to refuse to start (killed after 20 s if it runs). */
async function serveCommand(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, "serve", "--api-id", "12345", ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("a store with damaged pages is refused with exit 2 and what to do, no stack trace", async () => {
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  try {
    const store = await openSqliteStore(state);
    const session = { dc: 1, user_id: 1, auth_key: "AA" };
    for (let i = 0; i < 50; i++) {
      await store.saveAccount({ keyId: `k${i}`, session: { ...session, pad: "x".repeat(2000) } });
    }
    await store.close();
    const file = await Deno.open(`${state}/mtproto2json.sqlite`, { read: true, write: true });
    await file.seek(4096 * 2, Deno.SeekMode.Start);
    await file.write(new Uint8Array(4096 * 4).fill(0xa5));
    file.close();
    const refused = await serveCommand(["--state", state, "--port", "0"]);
    assertEquals(refused.code, 2, refused.stderr);
    assertEquals(/damaged/.test(refused.stderr), true, refused.stderr);
    assertEquals(/\n\s+at /.test(refused.stderr), false, refused.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an existing --state directory open to others is made 0700, with a log line", async () => {
  const { emulator, close } = await world();
  const dir = await Deno.makeTempDir();
  const state = `${dir}/state`;
  await Deno.mkdir(state);
  await Deno.chmod(state, 0o755);
  const serve = await serveOn(emulator, state);
  try {
    assertEquals(Deno.statSync(state).mode! & 0o777, 0o700);
    assertEquals(/made it 0700/.test(serve.stderr()), true, serve.stderr());
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("longs_as_strings holds on a held account's live lines, journal replays and calls, per connection", async () => {
  const { emulator, send, close } = await world();
  const dir = await Deno.makeTempDir();
  const serve = await serveOn(emulator, `${dir}/state`);
  const accessHashes = (client: JsonClient) =>
    client.updates.filter((line) => line.message).map((line) =>
      ((line.message as TlObject).users as TlObject[])[0]?.access_hash
    );
  try {
    const alice = await JsonClient.connect(serve.port);
    const session = await signInAlice(alice) as Line;
    const synced = await alice.next(isSynced);
    await alice.request({ id: 5, options: { longs_as_strings: true } });
    const plain = (await resume(serve.port, session)).alice;
    await send(["hello"]);
    await until(() => textsOf(alice).includes("hello") && textsOf(plain).includes("hello"));
    assertEquals(typeof accessHashes(alice)[0], "string");
    assertEquals(typeof accessHashes(plain)[0], "number");
    const bob = emulator.world.users.get(1000002)!;
    const users = await alice.request({
      id: 6,
      message: {
        _cons: "users.getUsers",
        id: [{ _cons: "inputUser", user_id: bob.id, access_hash: String(bob.accessHash) }],
      },
    });
    assertEquals(typeof (users.message as TlObject[])[0].access_hash, "string");
    const other = await plain.request({ id: 7, message: { _cons: "updates.getState" } });
    assertEquals(typeof (other.message as TlObject).pts, "number");
    // The replay from the journal has the connection's form too.
    const again = await JsonClient.connect(serve.port);
    await again.request({ id: 1, options: { longs_as_strings: true } });
    await again.request({
      id: 2,
      session: { ...session, updates_cursor: (synced.event as Line).cursor },
    });
    await again.next(isSynced);
    assertEquals(textsOf(again), ["hello"]);
    assertEquals(typeof accessHashes(again)[0], "string");
    for (const client of [alice, plain, again]) client.close();
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full disk (an 8 MiB tmpfs): serve stays up, health says the store fails, and once space returns the cursor gets all 300", async () => {
  const { emulator, send, close } = await world();
  const dir = await Deno.makeTempDir();
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir],
    stderr: "piped",
  }).output();
  if (!mounted.success) {
    throw new Error(
      `this test needs to mount a small tmpfs (run as root): ${
        new TextDecoder().decode(mounted.stderr)
      }`,
    );
  }
  const state = `${dir}/state`;
  let serve = await serveOn(emulator, state);
  const health = async () => {
    const client = await JsonClient.connect(serve.port);
    const answer = await client.request({ id: 1, health: {} });
    client.close();
    return answer.health as Line;
  };
  try {
    const alice = await JsonClient.connect(serve.port);
    const session = await signInAlice(alice) as Line;
    const cursor = ((await alice.next(isSynced)).event as Line).cursor as string;
    alice.close();
    const filler = await fill(`${dir}/filler`);
    await send(range("full", 0, 300));
    // The held account logs its first failed write once, as it stops taking updates (and says
    // so in health from then on); it logs once again when a probe goes through.
    await until(() => /Its updates wait/.test(serve.stderr()), 15_000, "a failed store write");
    // Asked while the disk is full. A probe's small write can fit in a page the failed
    // transaction freed, and the account then fails again on its next batch: health may read
    // "ok" between the two, so it is asked until it says "failing".
    let report: Line = {};
    await until(async () => (report = await health()).store === "failing", 15_000, "health");
    assertEquals([report.status, report.store], ["degraded", "failing"], JSON.stringify(report));
    assertEquals(/disk is full|database or disk/.test(serve.stderr()), true, serve.stderr());
    await Deno.remove(filler);
    await until(
      async () => (report = await health()).store === "ok",
      40_000,
      "the store to recover",
    );
    assertEquals(/can be written again/.test(serve.stderr()), true, serve.stderr());
    // Some may come after synced, while the account is still fetching what it missed: each once.
    const { alice: back } = await resume(serve.port, session, cursor);
    await until(() => textsOf(back).length >= 300, 30_000, "300 messages");
    // Nothing after them: a call to the DC is answered after what the account had asked for or
    // was sent before it, and each of those lines is journaled and written before its answer.
    await back.request({ id: 99, message: { _cons: "help.getConfig" } });
    assertEquals(textsOf(back), range("full", 0, 300), serve.stderr());
    back.close();
    // And the journal was written: after a restart the same cursor still gets them all.
    await stop(serve, "SIGTERM");
    serve = await serveOn(emulator, state);
    const { alice: later } = await resume(serve.port, session, cursor);
    assertEquals(textsOf(later), range("full", 0, 300));
    later.close();
  } finally {
    await stop(serve, "SIGTERM");
    await close();
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Writes a file until the file system has no room left; returns its path. */
async function fill(path: string): Promise<string> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(16 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch {
    // No space left: that is the point.
  } finally {
    file.close();
  }
  return path;
}
