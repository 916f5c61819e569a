/**
 * The `serve` part of `deno task bench`: requests/s through `serve` against the client core
 * called directly with the same load, latency added by the hop, and `serve`'s memory with idle
 * signed-in connections. The emulator and `serve` run as processes of their own, as a user runs
 * them; the load comes from this process.
 *
 * @module
 */

import { Client, defaultServer, serverFromJson } from "../lib/client/client.ts";
import type { TlSchema } from "../lib/tl/schema.ts";
import { JsonClient } from "../tests/e2e/json_client.ts";
import { rssMb, signInAlice, waitFor } from "../tests/support/processes.ts";

type Report = (label: string, value: string, target?: string) => void;

const root = new URL("../", import.meta.url).pathname;
const nearest = { _cons: "help.getNearestDc" };
const app = {
  apiId: 12345,
  apiHash: "hash",
  deviceModel: "bench",
  systemVersion: "1",
  appVersion: "1",
  langCode: "en",
};

/** Starts a subcommand; the stream not named in `read` is discarded (a full pipe would block). */
function spawn(args: string[], read: "stdout" | "stderr"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, ...args],
    stdout: read === "stdout" ? "piped" : "null",
    stderr: read === "stderr" ? "piped" : "null",
  }).spawn();
}

/** `serve` pointed at the emulator's `line`; resolves with its process and port once it listens. */
async function startServe(line: unknown, extra: string[] = []) {
  const child = spawn([
    "serve",
    "--port",
    "0",
    "--api-id",
    "12345",
    "--transport",
    "intermediate",
    ...extra,
    "--server",
    JSON.stringify(line),
  ], "stderr");
  const port = Number((await waitFor(child.stderr, /listening on [\d.]+:(\d+)/))[1]);
  return { child, port };
}

async function stop(child: Deno.ChildProcess) {
  child.kill("SIGTERM");
  await child.status;
}

/** Calls per second from `connections` × `inFlight` loops of `call` for `ms`. */
async function rate(
  calls: ((id: number) => Promise<unknown>)[],
  inFlight: number,
  ms: number,
): Promise<number> {
  let done = 0;
  const start = performance.now();
  await Promise.all(calls.map(async (call, c) => {
    let next = 1;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (performance.now() - start < ms) {
        await call(c * 10_000_000 + next++);
        done++;
      }
    }));
  }));
  return done / ((performance.now() - start) / 1000);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Runs the serve benchmarks and reports each figure. */
export async function benchServe(schema: TlSchema, report: Report): Promise<void> {
  const emulator = spawn(["emulator", "--port", "0"], "stdout");
  const line = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
  const target = serverFromJson(line.server, defaultServer());
  const { child: proxy, port } = await startServe(line);
  try {
    console.log("\nThe JSON proxy (serve) against the emulator, help.getNearestDc");
    // Latency, one call at a time.
    const direct = new Client({ schema, server: target, app, transport: { kind: "intermediate" } });
    const json = await JsonClient.connect(port);
    await direct.call(nearest);
    await json.request({ id: 1, message: nearest });
    const directMs: number[] = [], proxyMs: number[] = [];
    for (let i = 0; i < 3000; i++) {
      let start = performance.now();
      await direct.call(nearest);
      directMs.push(performance.now() - start);
      start = performance.now();
      await json.request({ id: i + 2, message: nearest });
      proxyMs.push(performance.now() - start);
    }
    direct.closeConnections();
    json.close();
    directMs.sort((a, b) => a - b);
    proxyMs.sort((a, b) => a - b);
    for (const [label, p] of [["p50", 0.5], ["p99", 0.99]] as const) {
      const a = percentile(directMs, p), b = percentile(proxyMs, p);
      report(
        `  ${label} latency: client core direct / through serve`,
        `${(a * 1000).toFixed(0)} / ${(b * 1000).toFixed(0)} µs`,
      );
      report(`  ${label} latency added by the proxy hop`, `${((b - a) * 1000).toFixed(0)} µs`);
    }
    // Throughput: the same load on the client core and through serve.
    for (const count of [1, 10, 100]) {
      const clients = Array.from(
        { length: count },
        () => new Client({ schema, server: target, app, transport: { kind: "intermediate" } }),
      );
      await Promise.all(clients.map((client) => client.call(nearest)));
      const directRate = await rate(clients.map((client) => () => client.call(nearest)), 50, 3000);
      for (const client of clients) client.closeConnections();
      const sockets = await Promise.all(clients.map(() => JsonClient.connect(port)));
      await Promise.all(sockets.map((socket) => socket.request({ id: 1, message: nearest })));
      const serveRate = await rate(
        sockets.map((socket) => (id: number) => socket.request({ id: id + 1, message: nearest })),
        50,
        3000,
      );
      for (const socket of sockets) socket.close();
      report(
        `  requests/s, ${count} connection${count > 1 ? "s" : ""} × 50 in flight: direct / serve`,
        `${directRate.toFixed(0)} / ${serveRate.toFixed(0)} (${
          (serveRate / directRate).toFixed(2)
        }×)`,
        count === 10 ? "target ≥ 0.8×" : "",
      );
    }
  } finally {
    await stop(proxy);
  }
  // Memory: a fresh serve, with idle signed-in connections that each made one call.
  const { child: fresh, port: freshPort } = await startServe(line, ["--max-connections", "2000"]);
  const idle: JsonClient[] = [];
  try {
    const owner = await JsonClient.connect(freshPort);
    idle.push(owner);
    const session = await signInAlice(owner);
    const figures: string[] = [];
    for (const count of [0, 100, 1000]) {
      while (idle.length - 1 < count) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, count - idle.length + 1) }, async () => {
            const client = await JsonClient.connect(freshPort);
            await client.request({ id: 1, session });
            await client.request({ id: 2, message: nearest }, 30_000);
            return client;
          }),
        );
        idle.push(...batch);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      figures.push(`${(await rssMb(fresh.pid)).toFixed(0)}`);
    }
    report(
      "  serve RSS with 0 / 100 / 1000 idle signed-in connections",
      `${figures.join(" / ")} MB`,
      "1000: target < 200 MB",
    );
  } finally {
    for (const client of idle) client.close();
    await stop(fresh);
    await stop(emulator);
  }
}
