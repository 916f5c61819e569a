/**
 * `serve --state postgres://...` as an operator runs it (issue #21): held accounts, their sessions
 * and journals in PostgreSQL; a cursor resumes exactly after serve is killed and started again on
 * the same database; the URL can come from a 0600 `--state-file`, and one readable by others is
 * refused; the password never reaches the log.
 */

import { assertEquals } from "../assert.ts";
import { startEmulator } from "../../lib/emulator/emulator.ts";
import type { TlObject } from "../../lib/tl/codec.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice, startServeProcess } from "../support/processes.ts";
import { emulatedSender, testCodec as codec } from "../support/emulated_sender.ts";
import { rawCaller, signIn } from "../support/raw_calls.ts";
import { startPostgres } from "../support/postgres.ts";
import { until } from "../support/until.ts";

type Line = Record<string, unknown>;
const root = new URL("../../", import.meta.url).pathname;
const isSynced = (line: Line) => line.id === 0 && (line.event as Line)?.type === "synced";
const textOf = (line: Line) =>
  (((line.message as TlObject | undefined)?.updates as TlObject[])?.[0]?.message as TlObject)
    ?.message as string | undefined;
const textsOf = (client: JsonClient) =>
  client.updates.map(textOf).filter((text) => text !== undefined);
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);

Deno.test("serve --state postgres:// holds Alice; killed and restarted on the same database, her cursor gets exactly what Bob sent", async () => {
  const pg = await startPostgres();
  const emulator = await startEmulator({ port: 0, dcs: 1, log: () => {}, world: { homeDc: 1 } });
  const sender = emulatedSender(emulator, 1);
  const dir = await Deno.makeTempDir();
  const serves: Deno.ChildProcess[] = [];
  try {
    const bob = rawCaller(sender, codec);
    await signIn(bob, "+15550000002", "hunter2");
    const aliceUser = emulator.world.users.get(1000001)!;
    const peer = {
      _cons: "inputPeerUser",
      user_id: aliceUser.id,
      access_hash: aliceUser.accessHash,
    };
    let random = 1n;
    const send = async (texts: string[]) => {
      for (const message of texts) {
        await bob({ _cons: "messages.sendMessage", peer, message, random_id: random++ });
      }
    };
    // The password is in the file only: trust authentication ignores it, the log must not show it.
    const url = (await pg.createDatabase()).replace("postgres@", "postgres:s3cret@");
    const file = `${dir}/state-url`;
    await Deno.writeTextFile(file, url + "\n", { mode: 0o644 });
    const refused = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}main.ts`, "serve", "--port", "0", "--state-file", file],
      stdout: "null",
      stderr: "piped",
    }).output();
    const refusal = new TextDecoder().decode(refused.stderr);
    assertEquals(refused.code, 2, refusal);
    assertEquals(refusal.includes("can be read by others"), true, refusal);
    await Deno.chmod(file, 0o600);

    let serve = await startServeProcess(emulator.serverLine(1), [
      "--state-file",
      file,
      "--lease-seconds",
      "2",
    ]);
    serves.push(serve.child);
    const first = await JsonClient.connect(serve.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await send(range("before", 0, 5));
    await until(() => textsOf(first).length === 5, 15_000, "5 messages");
    // The cursor of the last message line (events after it carry none).
    const cursor = first.updates.filter((line) => textOf(line) !== undefined).at(-1)!
      .cursor as string;
    first.close();
    await send(range("away", 0, 5));
    // Journaled in PostgreSQL (the held account stays connected) before the kill.
    const database = url.split("/").pop()!;
    const rows = async () =>
      Number(await pg.psql(database, "SELECT count(*) FROM mtproto2json_journal"));
    await until(async () => (await rows()) >= 10, 15_000, "10 journal rows");
    serve.child.kill("SIGKILL");
    await serve.child.status;
    await send(range("down", 0, 5));
    serve = await startServeProcess(emulator.serverLine(1), [
      "--state",
      url,
      "--lease-seconds",
      "2",
    ]);
    serves.push(serve.child);
    const back = await JsonClient.connect(serve.port);
    try {
      const answer = await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      assertEquals(answer.error, undefined, JSON.stringify(answer));
      const synced = await back.next(isSynced, 30_000);
      assertEquals(textsOf(back), [...range("away", 0, 5), ...range("down", 0, 5)]);
      assertEquals((synced.event as Line).recovered, 10);
      await send(["live"]);
      await until(() => textsOf(back).length === 11, 15_000, "the live message");
      assertEquals(textsOf(back).at(-1), "live");
    } finally {
      back.close();
    }
    assertEquals(serve.stderr().includes("s3cret"), false, serve.stderr());
    const accounts = await pg.psql(database, "SELECT count(*) FROM mtproto2json_accounts");
    assertEquals(accounts.trim(), "1");
  } finally {
    for (const child of serves) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    sender.close();
    await emulator.close();
    await pg.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
