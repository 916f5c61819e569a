/**
 * The store part of `deno task bench` (issue #21): managed updates delivered per second through
 * `serve --state` on SQLite and on PostgreSQL (the same load: Alice's messages to herself from
 * another session, 50 in flight), and the time a second instance takes to drive 1000 accounts
 * whose instance was killed: 1000 accounts of the emulator's `--users 1000` signed in through a
 * first instance, which is killed (SIGKILL); the figure is the time until the second one holds
 * every lease and has every account's MTProto connection up. The lease side alone (claims and
 * takeover rounds, no clients) is printed beside it.
 * PostgreSQL is Debian's, started on 127.0.0.1 with a throwaway data directory.
 *
 * ```sh
 * deno run -A scripts/bench_store.ts
 * ```
 *
 * @module
 */

import { Client, defaultServer, serverFromJson } from "../lib/client/client.ts";
import { LeaseKeeper } from "../lib/proxy/lease_keeper.ts";
import { openPostgresStore } from "../lib/store/postgres.ts";
import { systemClock } from "../lib/io/clock.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import type { TlSchema } from "../lib/tl/schema.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import { startPostgres } from "../tests/support/postgres.ts";
import {
  messagesToSelf,
  signInAlice,
  signInAliceDirect,
  signInByCode,
  startServeProcess,
  waitFor,
} from "../tests/support/processes.ts";
import { extraUserPhone } from "../lib/emulator/world_default.ts";
import { app, spawn, stop } from "./bench_serve.ts";
import { until } from "../tests/support/until.ts";
import { isSynced, type Line } from "../tests/support/json_lines.ts";

type Report = (label: string, value: string, target?: string) => void;
const messages = (client: JsonClient) => client.updates.filter((line) => line.message).length;
const COUNT = 3000;

/** Updates per second delivered live through `serve --state target`. */
async function updatesPerSecond(schema: TlSchema, line: Line, target: string): Promise<number> {
  const serve = await startServeProcess(line, ["--state", target]);
  const sender = new Client({
    schema,
    server: serverFromJson(line.server as Record<string, unknown>, defaultServer()),
    app,
    transport: { kind: "intermediate" },
  });
  try {
    await signInAliceDirect(sender);
    const live = await JsonClient.connect(serve.port);
    await signInAlice(live);
    await live.next(isSynced, 60_000);
    const start = performance.now();
    await messagesToSelf(sender)(COUNT);
    await until(() => messages(live) >= COUNT, 120_000, "the updates", 5);
    const rate = COUNT / ((performance.now() - start) / 1000);
    live.close();
    return rate;
  } finally {
    sender.closeConnections();
    await stop(serve.child);
  }
}

/** Milliseconds from a kill until another instance holds all of `count` accounts' leases. */
async function takeoverMs(url: string, count: number, leaseMs: number): Promise<number> {
  const store = await openPostgresStore(url, { connections: 10 });
  const quiet = { onLost: () => {}, onTaken: () => {}, clock: systemClock };
  try {
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, j) => store.saveAccount({ keyId: `bench${i + j}`, session: { dc: 2 } }),
        ),
      );
    }
    const dead = new LeaseKeeper({ ...quiet, store, leaseMs, owner: "killed" });
    await dead.start();
    if (dead.size !== count) throw new Error(`bench: the first instance took ${dead.size}`);
    // Killed: no more renewals, nothing released (what SIGKILL leaves). The instance counts as
    // gone once its heartbeat lapses too, so the survivor's share becomes all of them.
    await dead.stop(false);
    const killed = performance.now();
    const survivor = new LeaseKeeper({ ...quiet, store, leaseMs, owner: "survivor" });
    await survivor.start();
    await until(() => survivor.size === count, 120_000, "the takeover", 5);
    const ms = performance.now() - killed;
    await survivor.stop(true);
    return ms;
  } finally {
    await store.close();
  }
}

/** A JSON client's health report from a serve port. */
async function health(port: number): Promise<Record<string, unknown>> {
  const client = await JsonClient.connect(port);
  try {
    return (await client.request({ id: 1, health: {} })).health as Record<string, unknown>;
  } finally {
    client.close();
  }
}

/**
 * Milliseconds from the kill of the instance that holds `count` signed-in accounts until another
 * holds all their leases (`leased`), and until it also has every account's connection to its DC
 * up (`driven`, health's `held_connected`).
 */
async function takeoverWithClientsMs(
  url: string,
  count: number,
  leaseSeconds: number,
): Promise<{ leased: number; driven: number }> {
  const emulator = spawn(
    ["emulator", "--port", "0", "--dcs", "1", "--home-dc", "1", "--users", String(count)],
    "stdout",
  );
  const children: Deno.ChildProcess[] = [];
  try {
    const line = JSON.parse((await waitFor(emulator.stdout!, /^.*\n/))[0]);
    const instance = async () => {
      const serve = await startServeProcess(line, [
        "--state",
        url,
        "--lease-seconds",
        String(leaseSeconds),
      ]);
      children.push(serve.child);
      return serve;
    };
    const first = await instance();
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < count) {
        const index = ++next;
        const client = await JsonClient.connect(first.port);
        try {
          await signInByCode(client, `+${extraUserPhone(index)}`);
        } finally {
          client.close();
        }
      }
    }));
    await until(
      async () => (await health(first.port)).held_connected === count,
      120_000,
      "every account held by the first instance",
      50,
    );
    const second = await instance();
    first.child.kill("SIGKILL");
    await first.child.status;
    const killed = performance.now();
    let leased = 0;
    await until(
      async () => {
        const report = await health(second.port);
        if (report.leases_held === count) leased ||= performance.now() - killed;
        return report.leases_held === count && report.held_connected === count;
      },
      180_000,
      "the takeover",
      50,
    );
    return { leased, driven: performance.now() - killed };
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* killed */ }
      await child.status;
    }
    await stop(emulator);
  }
}

/** Runs the store benchmarks and reports each figure. */
export async function benchStore(schema: TlSchema, report: Report): Promise<void> {
  console.log("\nStores (serve --state: SQLite and PostgreSQL)");
  const pg = await startPostgres();
  const emulator = spawn(["emulator", "--port", "0"], "stdout");
  const dir = await Deno.makeTempDir();
  try {
    const line = JSON.parse((await waitFor(emulator.stdout!, /^.*\n/))[0]);
    const sqlite = await updatesPerSecond(schema, line, `${dir}/state`);
    const postgres = await updatesPerSecond(schema, line, await pg.createDatabase());
    const label = `managed updates delivered live through serve --state (${COUNT}, 50 in flight)`;
    report(`  ${label}, SQLite`, `${sqlite.toFixed(0)} /s`);
    report(
      `  ${label}, PostgreSQL`,
      `${postgres.toFixed(0)} /s (${(postgres / sqlite).toFixed(2)}× SQLite)`,
      "target ≥ 0.5× SQLite",
    );
    const leaseMs = 15_000;
    const { leased, driven } = await takeoverWithClientsMs(
      await pg.createDatabase(),
      1000,
      leaseMs / 1000,
    );
    report(
      "  1000 signed-in accounts driven by another instance after a kill -9 (lease 15 s)",
      `${(driven / 1000).toFixed(1)} s (all leases held at ${(leased / 1000).toFixed(1)} s)`,
      "target < 20 s",
    );
    const ms = await takeoverMs(await pg.createDatabase(), 1000, leaseMs);
    report(
      "    the leases alone (no clients)",
      `${(ms / 1000).toFixed(1)} s`,
    );
  } finally {
    await stop(emulator);
    await pg.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await benchStore(
    loadSchema(),
    (label, value, target = "") => console.log(`${label.padEnd(96)} ${value} ${target}`),
  );
}
