/**
 * The proxy hop part of `deno task bench` (issue #19): help.getNearestDc through `serve` straight
 * to the emulator (direct) and through `serve --proxy` via SOCKS5 (two independent servers:
 * Debian's microsocks and Dante), an MTProxy `ee` (fake TLS: the emulator's own front) and
 * WebSocket (the emulator's `/apiws`), all in one run on 127.0.0.1, each figure printed as a ratio
 * to direct. The emulator, the serves and the SOCKS5 servers are processes of their own, as a user
 * runs them; the load comes from this process.
 *
 * microsocks relays 1 KiB at a time with Nagle's algorithm on (no TCP_NODELAY), so under load each
 * of its writes but the first waits for our delayed ACK (up to 40 ms): its throughput is
 * microsocks' own limit, which Dante (TCP_NODELAY, 64 KiB writes) shows by meeting the target.
 *
 * @module
 */

import { connectThroughSocks5, type Socks5Spec } from "../lib/net/socks5.ts";
import { type ByteConnection, connectTcp } from "../lib/net/tcp_connection.ts";
import { startServeProcess, waitFor } from "../tests/support/processes.ts";
import { type RealProxy, startDante, startMicrosocks } from "../tests/support/real_proxies.ts";
import { cpuMeter, LeanJsonLoad, percentile, rate, spawn, stop } from "./bench_serve.ts";

type Report = (label: string, value: string, target?: string) => void;

/** An `ee` secret: 16 bytes of key, then the SNI domain the fake TLS hello names. */
const EE_SECRET = `ee${"0123456789abcdef".repeat(2)}${
  new TextEncoder().encode("example.com").toHex()
}`;
/** One call at a time per path, interleaved, so that a busy moment of the machine hits all. */
const LATENCY_CALLS = 2000;
const CONNECTIONS = 10;
const IN_FLIGHT = 50;
/** Each path's throughput is measured twice (forward and reverse order), this long each time. */
const RATE_MS = 2000;

/** Round trips of a plain TCP echo per path, to see what a SOCKS5 server's hop alone costs. */
const ECHO_ROUNDS = 2000;
const ECHO_BYTES = 100;

/** One way for serve to reach the emulator. */
interface Path {
  name: string;
  /** serve's flags besides the server line. */
  flags: string[];
  /** The server line serve is given. */
  line: unknown;
  /** The SOCKS5 server in the way, whose processes' CPU is counted. */
  socks?: RealProxy;
  port?: number;
  child?: Deno.ChildProcess;
}

/** The pid listening on 127.0.0.1:`port` (ss names it), for its CPU time; undefined if unseen. */
async function listenerPid(port: number): Promise<number | undefined> {
  const { stdout } = await new Deno.Command("ss", {
    args: ["-tlnpH", `sport = :${port}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const pid = /pid=(\d+)/.exec(new TextDecoder().decode(stdout))?.[1];
  return pid ? Number(pid) : undefined;
}

/** The processes of a SOCKS5 server: the one listening and its children (Dante forks workers). */
async function socksPids(socks: RealProxy | undefined): Promise<number[]> {
  const pid = socks && await listenerPid(socks.port);
  if (!pid) return [];
  const { stdout } = await new Deno.Command("pgrep", {
    args: ["-P", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const children = new TextDecoder().decode(stdout).split("\n").filter(Boolean).map(Number);
  return [pid, ...children];
}

/**
 * What relaying through each SOCKS5 server costs a round trip of its own, without serve or the
 * emulator: 100-byte round trips to an echo server in this process, direct and through each
 * server in turn, one at a time; the p50 of each (ms), direct first. A call through serve makes
 * the same hop once each way, so this is the floor of what the server adds to a call's p50.
 */
async function echoHops(servers: RealProxy[]): Promise<number[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const echoing = (async () => {
    for await (const socket of listener) {
      socket.setNoDelay(true);
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        for (let count; (count = await socket.read(buffer)) !== null;) {
          for (let written = 0; written < count;) {
            written += await socket.write(buffer.subarray(written, count));
          }
        }
      })().catch(() => {}).finally(() => socket.close());
    }
  })().catch(() => {});
  const connections: ByteConnection[] = [await connectTcp("127.0.0.1", port)];
  for (const server of servers) {
    const spec: Socks5Spec = { kind: "socks5", host: "127.0.0.1", port: server.port };
    connections.push(await connectThroughSocks5(spec, "127.0.0.1", port));
  }
  const readers = connections.map((connection) => connection.readable[Symbol.asyncIterator]());
  const message = new Uint8Array(ECHO_BYTES);
  const roundTrip = async (index: number) => {
    await connections[index].write(message);
    for (let received = 0; received < ECHO_BYTES;) {
      const next = await readers[index].next();
      if (next.done) throw new Error("the echo closed");
      received += next.value.length;
    }
  };
  const times: number[][] = connections.map(() => []);
  try {
    for (let round = 0; round < ECHO_ROUNDS + 200; round++) {
      for (const index of connections.keys()) {
        const start = performance.now();
        await roundTrip(index);
        // The first 200 warm up the sockets and the code.
        if (round >= 200) times[index].push(performance.now() - start);
      }
    }
  } finally {
    for (const connection of connections) connection.close();
    listener.close();
    await echoing;
  }
  return times.map((list) => percentile(list.sort((a, b) => a - b), 0.5));
}

/** Runs the proxy hop benchmarks and reports each figure as a ratio to direct. */
export async function benchProxies(report: Report): Promise<void> {
  const emulator = spawn(
    ["emulator", "--port", "0", "--mtproxy", EE_SECRET, "--websocket"],
    "stdout",
  );
  const printed: string[] = [];
  // The server line (DC 2), then the MTProxy link, then one WebSocket URL per DC.
  await waitFor(emulator.stdout, /"websocket":\{"dc":2,"url":"[^"]+"\}\}\n/, printed);
  const lines = printed.join("").split("\n").filter(Boolean).map((text) => JSON.parse(text));
  const serverLine = lines.find((line) => line.server);
  const link: string = lines.find((line) => line.mtproxy).mtproxy.link;
  const websocket: string = lines.find((line) => line.websocket?.dc === serverLine.server.dc)
    .websocket.url;
  // Without a SOCKS5 server the other paths are still measured (setup.sh installs both).
  const leftOut = (error: Error) => {
    console.log(`\n(proxy hop: a SOCKS5 path left out: ${error.message})`);
    return undefined;
  };
  const microsocks = await startMicrosocks().catch(leftOut);
  const dante = await startDante().catch(leftOut);
  // Direct and SOCKS5 use the default transport (obfuscated intermediate), as MTProxy and
  // WebSocket always do, so that the ratio is the hop's and not the obfuscation's.
  const obfuscated = ["--transport", "obfuscated-intermediate"];
  const paths: Path[] = [
    { name: "direct", flags: obfuscated, line: serverLine },
    ...[["microsocks", microsocks], ["Dante", dante]].flatMap(([name, socks]) =>
      socks && typeof socks !== "string"
        ? [{
          name: `SOCKS5 (${name})`,
          flags: [...obfuscated, "--proxy", socks.url],
          line: serverLine,
          socks,
        }]
        : []
    ),
    { name: "MTProxy ee (fake TLS)", flags: ["--proxy", link], line: serverLine },
    {
      name: "WebSocket",
      flags: [],
      line: { server: { ...serverLine.server, websocket } },
    },
  ];
  try {
    for (const path of paths) {
      const { child, port } = await startServeProcess(path.line, path.flags);
      path.child = child;
      path.port = port;
    }
    console.log(
      "\nProxy hop: help.getNearestDc through serve, direct and through each proxy (ratios to direct)",
    );
    // Latency: one call at a time on each path in turn.
    const clients = await Promise.all(paths.map((path) => LeanJsonLoad.connect(path.port!)));
    await Promise.all(clients.map((client) => client.call(1)));
    const times: number[][] = paths.map(() => []);
    for (let i = 0; i < LATENCY_CALLS; i++) {
      for (const [index, client] of clients.entries()) {
        const start = performance.now();
        await client.call(i + 2);
        times[index].push(performance.now() - start);
      }
    }
    for (const client of clients) client.close();
    const p50 = times.map((list) => percentile(list.sort((a, b) => a - b), 0.5));
    const withSocks = paths.filter((path) => path.socks);
    const echoes = await echoHops(withSocks.map((path) => path.socks!));
    const p99 = times.map((list) => percentile(list, 0.99));
    // Throughput: CONNECTIONS × IN_FLIGHT on each path, in order and then in reverse order.
    const emulatorPid = emulator.pid;
    const rates: number[][] = paths.map(() => []);
    const cpu: number[][][] = paths.map(() => []);
    const order = [...paths.keys()];
    for (const round of [order, [...order].reverse()]) {
      for (const index of round) {
        const path = paths[index];
        const sockets = await Promise.all(
          Array.from({ length: CONNECTIONS }, () => LeanJsonLoad.connect(path.port!)),
        );
        await Promise.all(sockets.map((socket) => socket.call(1)));
        const pids = [path.child!.pid, emulatorPid, ...await socksPids(path.socks)];
        const meter = cpuMeter(pids);
        const measured = await rate(
          sockets.map((socket) => (id: number) => socket.call(id + 1)),
          IN_FLIGHT,
          RATE_MS,
        );
        rates[index].push(measured);
        cpu[index].push(meter.perRequest(measured));
        const wrong = sockets.reduce((sum, socket) => sum + socket.wrong, 0);
        for (const socket of sockets) socket.close();
        if (wrong) report(`  answers that were not nearestDc (${path.name})`, `${wrong}`);
      }
    }
    const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;
    const throughput = rates.map(mean);
    for (const [index, path] of paths.entries()) {
      const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
      const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
      if (index === 0) {
        report(`  direct: p50 / p99 latency`, `${us(p50[0])} / ${us(p99[0])}`);
        report(
          `  direct: requests/s, ${CONNECTIONS} connections × ${IN_FLIGHT} in flight`,
          `${throughput[0].toFixed(0)}`,
        );
      } else {
        report(
          `  ${path.name}: p50 latency (p99)`,
          `${us(p50[index])} ${ratio(p50[index], p50[0])} (${us(p99[index])})`,
          "target p50 ≤ 1.15×",
        );
        if (path.socks) {
          // The call's p50 beyond direct next to the server's own hop on a bare TCP echo: when
          // they are alike, the difference is the relay's, not serve's.
          const echo = echoes[withSocks.indexOf(path) + 1];
          const signed = (ms: number) => `${ms < 0 ? "−" : "+"}${us(Math.abs(ms))}`;
          report(
            `    p50 beyond direct: the call / a ${ECHO_BYTES}-byte TCP echo alone`,
            `${signed(p50[index] - p50[0])} / ${signed(echo - echoes[0])}`,
          );
        }
        report(
          `  ${path.name}: requests/s`,
          `${throughput[index].toFixed(0)} ${ratio(throughput[index], throughput[0])}`,
          "target ≥ 0.9×",
        );
      }
      // Where the CPU goes: serve, the emulator (whose MTProxy and WebSocket fronts stand in
      // for the proxy there) and the SOCKS5 server's processes, per request, the mean of the two
      // rounds.
      const sum = (list: number[]) => list.reduce((total, value) => total + value, 0);
      const [serveUs, emulatorUs, socksUs] = [
        (figures: number[]) => figures[0],
        (figures: number[]) => figures[1],
        (figures: number[]) => sum(figures.slice(2)),
      ].map((pick) => mean(cpu[index].map(pick)));
      report(
        `    CPU per request: serve / emulator${path.socks ? " / SOCKS5 server" : ""}`,
        `${serveUs.toFixed(1)} / ${emulatorUs.toFixed(1)}${
          path.socks ? ` / ${socksUs.toFixed(1)}` : ""
        } µs`,
      );
    }
  } finally {
    for (const path of paths) if (path.child) await stop(path.child);
    await microsocks?.close();
    await dante?.close();
    await stop(emulator);
  }
}

if (import.meta.main) {
  // `deno run -A scripts/bench_proxies.ts` runs this part alone; its `deno run`s check for no
  // update (that would look up dl.deno.land).
  Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
  await benchProxies((label, value, target = "") =>
    console.log(`${label.padEnd(58)} ${value.padStart(14)}  ${target}`)
  );
}
