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
import { JsonClient } from "../tests/support/json_client.ts";
import { rssMb, signInAlice, startServeProcess, waitFor } from "../tests/support/processes.ts";

type Report = (label: string, value: string, target?: string) => void;

const root = new URL("../", import.meta.url).pathname;
const nearest = { _cons: "help.getNearestDc" };
/** The app identity the bench's direct clients send. */
export const app = {
  apiId: 12345,
  apiHash: "hash",
  deviceModel: "bench",
  systemVersion: "1",
  appVersion: "1",
  langCode: "en",
};

/** Starts a subcommand; the stream not named in `read` is discarded (a full pipe would block). */
export function spawn(args: string[], read: "stdout" | "stderr"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}main.ts`, ...args],
    stdout: read === "stdout" ? "piped" : "null",
    stderr: read === "stderr" ? "piped" : "null",
  }).spawn();
}

/** Ends a subcommand with SIGTERM, as a user would, and waits for it. */
export async function stop(child: Deno.ChildProcess) {
  child.kill("SIGTERM");
  await child.status;
}

/** Calls per second from `connections` × `inFlight` loops of `call` for `ms`. */
export async function rate(
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

/**
 * A load generator for `serve` that costs little next to what it measures (on a 2-core machine
 * the three processes share the cores): request lines come from a template, and answers are read
 * for their id and checked for the expected constructor, never parsed whole. `JsonClient` costs
 * about as much CPU per request as the client core itself.
 */
export class LeanJsonLoad {
  readonly #connection: Deno.TcpConn;
  readonly #waiting = new Map<number, () => void>();
  #outgoing = "";
  #writing = false;
  /** Answers that were not `nearestDc` (an error line, say). */
  wrong = 0;

  private constructor(connection: Deno.TcpConn) {
    this.#connection = connection;
    this.#read().catch(() => {});
  }

  /** Opens a connection to serve on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<LeanJsonLoad> {
    return new LeanJsonLoad(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #read() {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.#connection.readable) {
      const text = rest + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let end; (end = text.indexOf("\n", start)) >= 0; start = end + 1) {
        const line = text.slice(start, end);
        if (!line.includes('"_cons":"nearestDc"')) this.wrong++;
        const id = parseInt(line.slice(6));
        const resolve = this.#waiting.get(id);
        this.#waiting.delete(id);
        resolve?.();
      }
      rest = text.slice(start);
    }
  }

  /** Sends help.getNearestDc with `id`; lines sent while a write is in flight share the next. */
  call(id: number): Promise<void> {
    this.#outgoing += `{"id":${id},"message":{"_cons":"help.getNearestDc"}}\n`;
    if (!this.#writing) this.#flush();
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  async #flush() {
    this.#writing = true;
    await Promise.resolve();
    while (this.#outgoing) {
      const bytes = new TextEncoder().encode(this.#outgoing);
      this.#outgoing = "";
      for (let written = 0; written < bytes.length;) {
        written += await this.#connection.write(bytes.subarray(written));
      }
    }
    this.#writing = false;
  }

  /** Closes the connection. */
  close() {
    this.#connection.close();
  }
}

/**
 * The smallest complete client of serve, for lone calls: each request stringified and written as
 * a line, the answer read into one reused buffer until its newline and parsed whole. JsonClient
 * (a test client: a timer per request, Web streams that read into a new 64 KiB buffer each time,
 * line splitting) adds about a third to a lone call's time through serve.
 */
export class MinimalJsonClient {
  readonly #socket: Deno.TcpConn;
  readonly #buffer = new Uint8Array(64 * 1024);
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();

  private constructor(socket: Deno.TcpConn) {
    this.#socket = socket;
  }

  /** Opens a connection to serve on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<MinimalJsonClient> {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    socket.setNoDelay(true);
    return new MinimalJsonClient(socket);
  }

  /** Calls help.getNearestDc as request `id` and waits for its answer (one call at a time). */
  async call(id: number): Promise<void> {
    const line = JSON.stringify({ id, message: nearest }) + "\n";
    await this.#socket.write(this.#encoder.encode(line));
    let text = "";
    while (!text.endsWith("\n")) {
      const count = await this.#socket.read(this.#buffer);
      if (count === null) throw new Error("serve closed the connection");
      text += this.#decoder.decode(this.#buffer.subarray(0, count), { stream: true });
    }
    const answer = JSON.parse(text);
    if (answer.id !== id || answer.message?._cons !== "nearestDc") {
      throw new Error(`unexpected answer: ${text}`);
    }
  }

  /** Closes the connection. */
  close() {
    this.#socket.close();
  }
}

/**
 * CPU time a process has used, in ms (Linux: utime + stime in 10 ms ticks; read with `cat`, as
 * `rssMb` does, since Deno lets only --allow-all read /proc).
 */
export function cpuMs(pid: number): number {
  const { stdout } = new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).outputSync();
  const fields = new TextDecoder().decode(stdout).split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Starts counting the CPU time of `pids`; `perRequest(rate)` gives µs of each per request. */
export function cpuMeter(pids: number[]): { perRequest(rate: number): number[] } {
  const start = pids.map(cpuMs);
  const startMs = performance.now();
  return {
    perRequest(rate: number): number[] {
      const requests = rate * (performance.now() - startMs) / 1000;
      return pids.map((pid, i) => (cpuMs(pid) - start[i]) * 1000 / requests);
    },
  };
}

/** The value at fraction `p` of an ascending array. */
export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/** Runs the serve benchmarks and reports each figure. */
export async function benchServe(schema: TlSchema, report: Report): Promise<void> {
  const emulator = spawn(["emulator", "--port", "0"], "stdout");
  const line = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
  const target = serverFromJson(line.server, defaultServer());
  const { child: proxy, port } = await startServeProcess(line);
  try {
    console.log("\nThe JSON proxy (serve) against the emulator, help.getNearestDc");
    // Latency, one call at a time.
    const direct = new Client({ schema, server: target, app, transport: { kind: "intermediate" } });
    const json = await JsonClient.connect(port);
    const lean = await MinimalJsonClient.connect(port);
    await direct.call(nearest);
    await json.request({ id: 1, message: nearest });
    await lean.call(1);
    const directMs: number[] = [], proxyMs: number[] = [], leanMs: number[] = [];
    // serve's CPU over its lone calls (idle while the direct client calls).
    const serveCpu = cpuMs(proxy.pid);
    for (let i = 0; i < 3000; i++) {
      let start = performance.now();
      await direct.call(nearest);
      directMs.push(performance.now() - start);
      start = performance.now();
      await json.request({ id: i + 2, message: nearest });
      proxyMs.push(performance.now() - start);
      start = performance.now();
      await lean.call(i + 2);
      leanMs.push(performance.now() - start);
    }
    const servePerCall = (cpuMs(proxy.pid) - serveCpu) * 1000 / 6000;
    direct.closeConnections();
    json.close();
    lean.close();
    for (const times of [directMs, proxyMs, leanMs]) times.sort((a, b) => a - b);
    for (const [label, p] of [["p50", 0.5], ["p99", 0.99]] as const) {
      const a = percentile(directMs, p), b = percentile(proxyMs, p), c = percentile(leanMs, p);
      report(
        `  ${label} latency: client core direct / through serve (JsonClient; a minimal client)`,
        `${(a * 1000).toFixed(0)} / ${(b * 1000).toFixed(0)}; ${(c * 1000).toFixed(0)} µs`,
      );
      report(
        `  ${label} latency added by the proxy hop (JsonClient; a minimal client)`,
        `${((b - a) * 1000).toFixed(0)}; ${((c - a) * 1000).toFixed(0)} µs`,
      );
    }
    report("    serve's CPU per lone call", `${servePerCall.toFixed(0)} µs`);
    // Throughput: the same load on the client core and through serve.
    for (const count of [1, 10, 100]) {
      const clients = Array.from(
        { length: count },
        () => new Client({ schema, server: target, app, transport: { kind: "intermediate" } }),
      );
      await Promise.all(clients.map((client) => client.call(nearest)));
      const directCpu = cpuMeter([Deno.pid, emulator.pid]);
      const directRate = await rate(clients.map((client) => () => client.call(nearest)), 50, 3000);
      const [directClientUs, directEmulatorUs] = directCpu.perRequest(directRate);
      for (const client of clients) client.closeConnections();
      const sockets = await Promise.all(clients.map(() => LeanJsonLoad.connect(port)));
      await Promise.all(sockets.map((socket) => socket.call(1)));
      const serveCpu = cpuMeter([proxy.pid, emulator.pid]);
      const serveRate = await rate(
        sockets.map((socket) => (id: number) => socket.call(id + 1)),
        50,
        3000,
      );
      const [serveUs, serveEmulatorUs] = serveCpu.perRequest(serveRate);
      const wrong = sockets.reduce((sum, socket) => sum + socket.wrong, 0);
      for (const socket of sockets) socket.close();
      if (wrong) report(`  answers that were not nearestDc (${count} connections)`, `${wrong}`);
      report(
        `  requests/s, ${count} connection${count > 1 ? "s" : ""} × 50 in flight: direct / serve`,
        `${directRate.toFixed(0)} / ${serveRate.toFixed(0)} (${
          (serveRate / directRate).toFixed(2)
        }×)`,
        count === 10 ? "target ≥ 0.8×" : "",
      );
      report(
        "    CPU per request: client core / its emulator; serve / its emulator",
        `${directClientUs.toFixed(1)} / ${directEmulatorUs.toFixed(1)}; ${serveUs.toFixed(1)} / ${
          serveEmulatorUs.toFixed(1)
        } µs`,
      );
    }
  } finally {
    await stop(proxy);
  }
  try {
    await benchIdleMemory(line, report);
    const state = await Deno.makeTempDir();
    try {
      await benchIdleMemory(line, report, ["--state", state]);
    } finally {
      await Deno.remove(state, { recursive: true });
    }
  } finally {
    await stop(emulator);
  }
}

/** A process's resident anonymous and file-backed memory, in MB (read with `cat`, as `rssMb`). */
async function rssParts(pid: number): Promise<{ anon: number; file: number }> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const status = new TextDecoder().decode(stdout);
  const mb = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { anon: mb("RssAnon"), file: mb("RssFile") + mb("RssShmem") };
}

/** How long the idle bench waits after the last connection before its settled figure. */
const SETTLE_MS = 45_000;

/**
 * `serve`'s RSS with 0, 100 and 1000 idle signed-in connections, each of which made one call: a
 * fresh serve (with `extra` flags) against the emulator of `line`. Each figure is taken 1 s after
 * the last connection's call, and the 1000 once more 45 s later: V8 keeps the heap it grew for
 * the burst of connections until its memory reducer sees the process idle (after some seconds),
 * so the first figure counts garbage of the burst and the second what idle connections hold.
 *
 * The 1000 figures are also printed split into anonymous memory and file-backed pages (~40 MB:
 * ~32 MB of the `deno` binary's code, then Deno's caches and libc, which no change of ours
 * moves). Most of what the settled figure does not have at 1 s is V8's young generation: it
 * doubles whenever the bytes surviving its collections since it last grew exceed its size, and
 * what each connection keeps (~20 KB of heap, ~7 KB under `--state`, where a held account's
 * client serves every connection) survives once or twice, so a burst of 1000 grows it to its
 * 2 × 32 MB maximum (2 × 16 under `--state`) however little garbage a connection makes
 * (helper-45's GC traces, #22).
 */
export async function benchIdleMemory(
  line: unknown,
  report: Report,
  extra: string[] = [],
): Promise<number[]> {
  const { child: fresh, port: freshPort } = await startServeProcess(line, [
    "--max-connections",
    "2000",
    ...extra,
  ]);
  const idle: JsonClient[] = [];
  try {
    const owner = await JsonClient.connect(freshPort);
    idle.push(owner);
    const session = await signInAlice(owner);
    const figures: number[] = [];
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
      figures.push(await rssMb(fresh.pid));
    }
    const parts = await rssParts(fresh.pid);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const settled = await rssMb(fresh.pid);
    const settledParts = await rssParts(fresh.pid);
    const flags = extra.includes("--state") ? " --state" : "";
    report(
      `  serve${flags} RSS, 0 / 100 / 1000 idle signed-in connections (1000, ${
        SETTLE_MS / 1000
      } s later)`,
      `${figures.map((mb) => mb.toFixed(0)).join(" / ")} (${settled.toFixed(0)}) MB`,
      "1000: target ≤ 100 MB",
    );
    report(
      `    the 1000: anonymous + file-backed (mostly deno itself), 1 s / ${
        SETTLE_MS / 1000
      } s later`,
      `${parts.anon.toFixed(0)} + ${parts.file.toFixed(0)} / ${settledParts.anon.toFixed(0)} + ${
        settledParts.file.toFixed(0)
      } MB`,
    );
    return [...figures, settled];
  } finally {
    for (const client of idle) client.close();
    await stop(fresh);
  }
}
