/**
 * `serve --state postgres://...` as an operator runs it (issue #21): held accounts, their sessions
 * and journals in PostgreSQL; a cursor resumes exactly after serve is killed and started again on
 * the same database; the URL can come from a 0600 `--state-file`, and one readable by others is
 * refused; the password never reaches the log.
 */

import { assertEquals } from "../assert.ts";
import { JsonClient } from "../support/json_client.ts";
import { signInAlice } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { startInstancesBed } from "../support/instances_bed.ts";
import { isSynced, lastMessageCursor, type Line, range, textsOf } from "../support/json_lines.ts";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("serve --state postgres:// holds Alice; killed and restarted on the same database, her cursor gets exactly what Bob sent", async () => {
  const bed = await startInstancesBed();
  const dir = await Deno.makeTempDir();
  try {
    // The password is in the file only: trust authentication ignores it, the log must not show it.
    const url = bed.url.replace("postgres@", "postgres:s3cret@");
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

    let serve = await bed.start(2, { stateFile: file });
    const first = await JsonClient.connect(serve.port);
    const session = await signInAlice(first) as Line;
    await first.next(isSynced);
    await bed.send(range("before", 0, 5));
    await until(() => textsOf(first).length === 5, 15_000, "5 messages");
    // The cursor of the last message line (events after it carry none).
    const cursor = lastMessageCursor(first);
    first.close();
    await bed.send(range("away", 0, 5));
    // Journaled in PostgreSQL (the held account stays connected) before the kill.
    const rows = async () =>
      Number(await bed.pg.psql(bed.database, "SELECT count(*) FROM mtproto2json_journal"));
    await until(async () => (await rows()) >= 10, 15_000, "10 journal rows");
    serve.child.kill("SIGKILL");
    await serve.child.status;
    await bed.send(range("down", 0, 5));
    serve = await bed.start(2, { state: url });
    const back = await JsonClient.connect(serve.port);
    try {
      const answer = await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      assertEquals(answer.error, undefined, JSON.stringify(answer));
      const synced = await back.next(isSynced, 30_000);
      assertEquals(textsOf(back), [...range("away", 0, 5), ...range("down", 0, 5)]);
      assertEquals((synced.event as Line).recovered, 10);
      await bed.send(["live"]);
      await until(() => textsOf(back).length === 11, 15_000, "the live message");
      assertEquals(textsOf(back).at(-1), "live");
    } finally {
      back.close();
    }
    assertEquals(serve.stderr().includes("s3cret"), false, serve.stderr());
    const accounts = await bed.pg.psql(bed.database, "SELECT count(*) FROM mtproto2json_accounts");
    assertEquals(accounts.trim(), "1");
  } finally {
    await bed.close();
    await Deno.remove(dir, { recursive: true });
  }
});
