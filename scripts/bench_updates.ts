/**
 * The managed-updates part of `deno task bench`: updates delivered per second through
 * `serve --state`, and the time to resume 1000 missed updates from a held account's journal and,
 * without `--state`, from getDifference. The emulator and `serve` run as processes of their own;
 * the messages are ones Alice sends to herself from another session (which Telegram, and the
 * emulator, push to her other sessions).
 *
 * @module
 */

import { Client, defaultServer, serverFromJson } from "../lib/client/client.ts";
import type { TlSchema } from "../lib/tl/schema.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import {
  messagesToSelf,
  signInAlice,
  signInAliceDirect,
  startServeProcess,
  waitFor,
} from "../tests/support/processes.ts";
import { app, spawn, stop } from "./bench_serve.ts";
import { until } from "../tests/support/until.ts";
import { isSynced, type Line } from "../tests/support/json_lines.ts";

type Report = (label: string, value: string, target?: string) => void;
const messages = (client: JsonClient) => client.updates.filter((line) => line.message).length;

/** Runs the managed-updates benchmarks and reports each figure. */
export async function benchUpdates(schema: TlSchema, report: Report): Promise<void> {
  const emulator = spawn(["emulator", "--port", "0"], "stdout");
  const line = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
  const dir = await Deno.makeTempDir();
  const held = await startServeProcess(line, ["--state", dir]);
  const plain = await startServeProcess(line);
  const sender = new Client({
    schema,
    server: serverFromJson(line.server, defaultServer()),
    app,
    transport: { kind: "intermediate" },
  });
  /** Alice writes `count` messages to herself, 50 at a time. */
  const write = messagesToSelf(sender);
  try {
    console.log("\nManaged updates (Alice's messages to herself, from another session)");
    await signInAliceDirect(sender);

    // Live, through serve --state.
    const live = await JsonClient.connect(held.port);
    const session = await signInAlice(live) as Line;
    await live.next(isSynced);
    const start = performance.now();
    await write(3000);
    await until(() => messages(live) >= 3000, 60_000, "the updates", 5);
    report(
      "  managed updates delivered live through serve --state (3000, sent 50 at a time)",
      `${(3000 / ((performance.now() - start) / 1000)).toFixed(0)} /s`,
    );
    const cursor = live.updates.filter((l) => l.message).at(-1)!.cursor;

    // 1000 missed, resumed from the held account's journal. The live connection stays to tell
    // when they are journaled (a line goes out only once journaled); the store itself is serve's.
    await write(1000);
    await until(() => messages(live) >= 4000, 60_000, "the updates", 5);
    live.close();
    // The same cursor resumed five times (one resume is a few tens of ms, too short for one
    // reading on a noisy machine): the median, and the best.
    const times: number[] = [];
    let lines = 0;
    for (let round = 0; round < 5; round++) {
      const back = await JsonClient.connect(held.port);
      const began = performance.now();
      await back.request({ id: 1, session: { ...session, updates_cursor: cursor } });
      await back.next(isSynced, 60_000);
      times.push(performance.now() - began);
      lines = messages(back);
      back.close();
    }
    times.sort((x, y) => x - y);
    report(
      "  resume 1000 missed updates from the journal (serve --state)",
      `${times[2].toFixed(0)} ms median of 5, best ${times[0].toFixed(0)} ms (${lines} lines)`,
    );

    // 1000 missed, resumed with getDifference (serve without --state).
    const first = await JsonClient.connect(plain.port);
    const plainSession = await signInAlice(first) as Line;
    await first.next(isSynced);
    const plainCursor = ((await first.request({ id: 904, session: {} })).session as Line)
      .updates_cursor;
    first.close();
    await write(1000);
    // Five times from the same cursor, as above: one reading moved between about 60 and 100 ms
    // from run to run (on the code of 2026-11-29 as on today's), too much to compare two trees.
    const differences: number[] = [];
    let differenceLines = 0;
    for (let round = 0; round < 5; round++) {
      const again = await JsonClient.connect(plain.port);
      const begin = performance.now();
      await again.request({ id: 1, session: { ...plainSession, updates_cursor: plainCursor } });
      await again.next(isSynced, 60_000);
      differences.push(performance.now() - begin);
      differenceLines = messages(again);
      again.close();
    }
    differences.sort((x, y) => x - y);
    report(
      "  resume 1000 missed updates with getDifference (no --state)",
      `${differences[2].toFixed(0)} ms median of 5, best ${
        differences[0].toFixed(0)
      } ms (${differenceLines} lines)`,
    );
  } finally {
    sender.closeConnections();
    await stop(held.child);
    await stop(plain.child);
    await stop(emulator);
    await Deno.remove(dir, { recursive: true });
  }
}
