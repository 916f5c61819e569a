/**
 * The web front part of `deno task bench` (issue #20): help.getNearestDc per second over the
 * WebSocket (`/v1/ws`) and over keep-alive one-shot HTTP calls (`POST /v1/help.getNearestDc` with
 * an account handle) against NDJSON over TCP, and managed updates per second over Server-Sent
 * Events (`GET /v1/updates`) against the same over TCP — all against one `serve --state --http`,
 * each as a ratio to TCP. The emulator and `serve` are processes of their own; the load comes
 * from this process.
 *
 * The load generators are lean so that they are not what is measured (the three processes share
 * two cores): the WebSocket client is a raw one over `Deno.connect` (frames written together in
 * one write, answers read for their id, never parsed whole; client frames carry a zero mask, which
 * the protocol allows a server not to check and costs no XOR); the HTTP client is a raw HTTP/1.1
 * one over `Deno.connect` too, one request at a time on each of many keep-alive connections,
 * since `fetch` costs more CPU per request than serve's whole HTTP path. HTTP/1.1 answers a
 * connection's requests one after another, so in-flight HTTP calls are connections; serve lets
 * one address keep at most 64 requests open, so HTTP runs {@link HTTP_CONNECTIONS} of them, over
 * as many account handles as TCP has connections (so as many MTProto sessions), and then over one
 * handle (one account's calls, as most HTTP users make them).
 *
 * Like for like: each HTTP front is compared with TCP carrying the same calls in flight on the
 * same number of MTProto sessions (10 connections × 6 for 10 handles, one connection × 60 for one
 * handle), its target ratio, and with TCP's 10 × 50 too. How many calls share an MTProto message
 * follows from the calls in flight per session (6 on 10 handles against 50 on TCP's 10 × 50), and
 * each message costs a write, a read and their crypto in serve and the emulator: TCP with 500 in
 * flight against HTTP with 60 measured that as much as HTTP.
 *
 * @module
 */

import { Client, defaultServer, serverFromJson } from "../lib/client/client.ts";
import type { TlSchema } from "../lib/tl/schema.ts";
import { loadSchema } from "../lib/tl/default_schema.ts";
import { JsonClient } from "../tests/support/json_client.ts";
import {
  messagesToSelf,
  signInAlice,
  signInAliceDirect,
  startServeProcess,
  waitFor,
} from "../tests/support/processes.ts";
import { app, cpuMeter, LeanJsonLoad, rate, spawn, stop } from "./bench_serve.ts";
import { until } from "../tests/support/until.ts";

type Report = (label: string, value: string, target?: string) => void;
type Line = Record<string, unknown>;

const CONNECTIONS = 10;
const IN_FLIGHT = 50;
/** Keep-alive HTTP connections, one call at a time each (under serve's 64 per address). */
const HTTP_CONNECTIONS = 60;
/** Each front's throughput is measured in rounds that alternate the order, this long each. */
const RATE_MS = 2000;
const ROUNDS = 2;
/** Messages per updates round. */
const UPDATES = 2000;

const encoder = new TextEncoder();

/** Writes `bytes` whole. */
async function writeAll(connection: Deno.Conn, bytes: Uint8Array) {
  for (let written = 0; written < bytes.length;) {
    written += await connection.write(bytes.subarray(written));
  }
}

/**
 * What `connection` reads, each chunk valid until the next is asked for: one buffer is reused
 * (a `readable` allocates 64 KiB for each read, which costs more than a small answer's handling).
 */
async function* reads(connection: Deno.Conn): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(64 * 1024);
  for (let read; (read = await connection.read(buffer)) !== null;) yield buffer.subarray(0, read);
}

/** Reads from `connection` until `text` holds `end`; returns what was read (latin1). */
async function readUntil(connection: Deno.Conn, end: string): Promise<string> {
  const buffer = new Uint8Array(16 * 1024);
  let text = "";
  while (!text.includes(end)) {
    const read = await connection.read(buffer);
    if (read === null) throw new Error(`closed before ${JSON.stringify(end)}: ${text}`);
    text += new TextDecoder("latin1").decode(buffer.subarray(0, read));
  }
  return text;
}

/**
 * A raw WebSocket client for the load: request frames made from a template and written together,
 * answers matched by the id at the start of their text (`{"id":N,`).
 */
export class LeanWsLoad {
  readonly #connection: Deno.TcpConn;
  readonly #waiting = new Map<number, () => void>();
  #outgoing: Uint8Array[] = [];
  #writing = false;
  /** Answers that were not `nearestDc`. */
  wrong = 0;

  private constructor(connection: Deno.TcpConn, rest: Uint8Array) {
    this.#connection = connection;
    this.#read(rest).catch(() => {});
  }

  /** Opens `/v1/ws` on 127.0.0.1:`port`. */
  static async connect(port: number): Promise<LeanWsLoad> {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.setNoDelay(true);
    const key = crypto.getRandomValues(new Uint8Array(16)).toBase64();
    await writeAll(
      connection,
      encoder.encode(
        `GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const head = await readUntil(connection, "\r\n\r\n");
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${head}`);
    // Frames sent right after the 101 may have come with it.
    const rest = head.slice(head.indexOf("\r\n\r\n") + 4);
    return new LeanWsLoad(connection, Uint8Array.from(rest, (c) => c.charCodeAt(0)));
  }

  async #read(first: Uint8Array) {
    const decoder = new TextDecoder();
    let buffer = first;
    const take = (chunk: Uint8Array) => {
      if (buffer.length === 0) return chunk;
      const joined = new Uint8Array(buffer.length + chunk.length);
      joined.set(buffer);
      joined.set(chunk, buffer.length);
      return joined;
    };
    const frames = (bytes: Uint8Array): Uint8Array => {
      let at = 0;
      for (;;) {
        if (bytes.length - at < 2) break;
        const opcode = bytes[at] & 0x0f;
        let length = bytes[at + 1] & 0x7f;
        let start = at + 2;
        if (length === 126) {
          if (bytes.length - at < 4) break;
          length = (bytes[at + 2] << 8) | bytes[at + 3];
          start = at + 4;
        } else if (length === 127) {
          if (bytes.length - at < 10) break;
          length = Number(new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8).getBigUint64(0));
          start = at + 10;
        }
        if (bytes.length < start + length) break;
        if (opcode === 1) {
          const text = decoder.decode(bytes.subarray(start, start + length));
          if (!text.includes('"_cons":"nearestDc"')) this.wrong++;
          const id = parseInt(text.slice(6));
          const resolve = this.#waiting.get(id);
          this.#waiting.delete(id);
          resolve?.();
        } else if (opcode === 9) {
          // A ping: answered with a pong of the same payload.
          this.#send(0x8a, bytes.subarray(start, start + length));
        }
        at = start + length;
      }
      return bytes.subarray(at);
    };
    buffer = frames(buffer).slice();
    for await (const chunk of reads(this.#connection)) buffer = frames(take(chunk)).slice();
  }

  /** Queues one masked frame (mask 0000: XOR with it changes nothing). */
  #send(first: number, payload: Uint8Array) {
    const size = payload.length;
    const head = size < 126 ? 2 : 4;
    const frame = new Uint8Array(head + 4 + size);
    frame[0] = first;
    if (size < 126) frame[1] = 0x80 | size;
    else [frame[1], frame[2], frame[3]] = [0x80 | 126, size >> 8, size & 0xff];
    frame.set(payload, head + 4);
    this.#outgoing.push(frame);
    if (!this.#writing) this.#flush();
  }

  /** Sends help.getNearestDc with `id`. */
  call(id: number): Promise<void> {
    this.#send(0x81, encoder.encode(`{"id":${id},"message":{"_cons":"help.getNearestDc"}}`));
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  async #flush() {
    this.#writing = true;
    await Promise.resolve();
    while (this.#outgoing.length > 0) {
      const frames = this.#outgoing;
      this.#outgoing = [];
      const bytes = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
      let at = 0;
      for (const frame of frames) {
        bytes.set(frame, at);
        at += frame.length;
      }
      await writeAll(this.#connection, bytes);
    }
    this.#writing = false;
  }

  /** Closes the connection. */
  close() {
    this.#connection.close();
  }
}

/**
 * A raw keep-alive HTTP/1.1 client for the load: the same request bytes each time, answers read
 * for their status, length and constructor.
 */
export class LeanHttpLoad {
  readonly #connection: Deno.TcpConn;
  readonly #request: Uint8Array;
  readonly #waiting: (() => void)[] = [];
  /** Answers that were not 200 with `nearestDc`. */
  wrong = 0;
  /** The first wrong answer, to show. */
  sample?: string;

  private constructor(connection: Deno.TcpConn, request: Uint8Array) {
    this.#connection = connection;
    this.#request = request;
    this.#read().catch(() => {});
  }

  /** Opens a connection to 127.0.0.1:`port` that calls with `handle`. */
  static async connect(port: number, handle: string): Promise<LeanHttpLoad> {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.setNoDelay(true);
    const request = encoder.encode(
      `POST /v1/help.getNearestDc HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Authorization: Bearer ${handle}\r\nContent-Type: application/json\r\n` +
        `Content-Length: 2\r\n\r\n{}`,
    );
    return new LeanHttpLoad(connection, request);
  }

  async #read() {
    const decoder = new TextDecoder("latin1");
    let text = "";
    for await (const chunk of reads(this.#connection)) {
      text += decoder.decode(chunk);
      for (;;) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) break;
        const lengthAt = text.indexOf("content-length: ");
        const length = lengthAt >= 0 && lengthAt < end ? parseInt(text.slice(lengthAt + 16)) : 0;
        if (text.length < end + 4 + length) break;
        const body = text.slice(end + 4, end + 4 + length);
        if (!text.startsWith("HTTP/1.1 200") || !body.includes('"_cons":"nearestDc"')) {
          this.wrong++;
          this.sample ??= text.slice(0, end + 4 + length);
        }
        text = text.slice(end + 4 + length);
        this.#waiting.shift()?.();
      }
    }
  }

  /** Sends one call and resolves with its answer. */
  call(): Promise<void> {
    const answered = new Promise<void>((resolve) => this.#waiting.push(resolve));
    writeAll(this.#connection, this.#request).catch(() => {});
    return answered;
  }

  /** Closes the connection. */
  close() {
    this.#connection.close();
  }
}

/** One small HTTP request with `fetch` (setting up, not measured). */
export async function post(
  base: string,
  path: string,
  body: unknown,
  bearer?: string,
): Promise<Line> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** One way in for the throughput figures: opens its load, returns the calls and a closer. */
interface Front {
  name: string;
  /** Connections and calls in flight, as printed. */
  shape: string;
  open(): Promise<{ calls: (() => Promise<void>)[]; inFlight: number; close(): number }>;
}

/** The rate of one measured round, and the CPU µs per request of each process. */
interface Round {
  rate: number;
  serveUs: number;
  emulatorUs: number;
  benchUs: number;
}

const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;

/**
 * Counts managed update lines carrying a bench message as they arrive on `readable` (TCP lines
 * or SSE `data:` lines), without parsing them.
 */
function countMessages(readable: ReadableStream<Uint8Array>): {
  count: () => number;
  synced: Promise<void>;
} {
  let count = 0;
  let synced!: () => void;
  const isSynced = new Promise<void>((resolve) => synced = resolve);
  (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of readable) {
      const text = rest + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let end; (end = text.indexOf("\n", start)) >= 0; start = end + 1) {
        const line = text.slice(start, end);
        if (line.includes('"type":"synced"')) synced();
        else if (line.includes('"message":"bench ')) count++;
      }
      rest = text.slice(start);
    }
  })().catch(() => {});
  return { count: () => count, synced: isSynced };
}

/** Runs the web front benchmarks and reports each figure as a ratio to TCP. */
export async function benchWeb(schema: TlSchema, report: Report): Promise<void> {
  const emulator = spawn(["emulator", "--port", "0"], "stdout");
  const line = JSON.parse((await waitFor(emulator.stdout, /^.*\n/))[0]);
  const dir = await Deno.makeTempDir();
  const served = await startServeProcess(line, ["--state", dir, "--http", "127.0.0.1:0"]);
  const sender = new Client({
    schema,
    server: serverFromJson(line.server, defaultServer()),
    app,
    transport: { kind: "intermediate" },
  });
  try {
    await until(
      () => /HTTP and WebSocket on http:\/\/[\d.]+:\d+/.test(served.stderr()),
      60_000,
      "the web front",
      2,
    );
    const httpPort = Number(
      /HTTP and WebSocket on http:\/\/[\d.]+:(\d+)/.exec(served.stderr())![1],
    );
    const base = `http://127.0.0.1:${httpPort}`;
    console.log(
      "\nThe web front (serve --http): help.getNearestDc and managed updates, ratios to TCP",
    );
    /** A front of `connections` lean sockets, `inFlight` calls on each (TCP lines, WebSocket). */
    const socketsFront = (
      name: string,
      connections: number,
      inFlight: number,
      connect: () => Promise<{ call(id: number): Promise<void>; close(): void; wrong: number }>,
    ): Front => ({
      name,
      shape: `${connections} connection${connections === 1 ? "" : "s"} × ${inFlight} in flight`,
      async open() {
        const sockets = await Promise.all(Array.from({ length: connections }, connect));
        await Promise.all(sockets.map((socket) => socket.call(1)));
        let next = 2;
        return {
          calls: sockets.map((socket) => () => socket.call(next++)),
          inFlight,
          close: () => {
            for (const socket of sockets) socket.close();
            return sockets.reduce((sum, socket) => sum + socket.wrong, 0);
          },
        };
      },
    });
    /** One-shot calls over HTTP_CONNECTIONS keep-alive connections spread on `sessions` handles. */
    const httpFront = (name: string, sessions: number): Front => ({
      name,
      shape: `${HTTP_CONNECTIONS} connections × 1, ${sessions} handle${sessions === 1 ? "" : "s"}`,
      async open() {
        // A handle per 6 connections, as many MTProto sessions as TCP's connections; or one
        // account's handle for every connection, as a single-account HTTP user has.
        const handles = await Promise.all(
          Array.from(
            { length: sessions },
            async () => (await post(base, "/v1/sessions", {})).account as string,
          ),
        );
        const sockets = await Promise.all(
          Array.from(
            { length: HTTP_CONNECTIONS },
            (_, i) => LeanHttpLoad.connect(httpPort, handles[i % sessions]),
          ),
        );
        await Promise.all(sockets.map((socket) => socket.call()));
        return {
          calls: sockets.map((socket) => () => socket.call()),
          inFlight: 1,
          close: () => {
            for (const socket of sockets) socket.close();
            const sample = sockets.find((socket) => socket.sample)?.sample;
            if (sample) console.log(`  (a wrong HTTP answer: ${sample.slice(0, 300)})`);
            // The handles are left to serve's idle sweep: the process ends with the bench.
            return sockets.reduce((sum, socket) => sum + socket.wrong, 0);
          },
        };
      },
    });
    const tcp = (connections: number, inFlight: number) =>
      socketsFront(
        "TCP (NDJSON)",
        connections,
        inFlight,
        () => LeanJsonLoad.connect(served.port),
      );
    // HTTP/1.1 has one call in flight per connection, and an address may keep 64 open: each
    // HTTP front is compared with TCP carrying as many calls in flight on as many MTProto
    // sessions (10 × 6 for 10 handles, 1 × 60 for one), and with TCP's 10 × 50 as well.
    const httpShape = HTTP_CONNECTIONS / CONNECTIONS;
    const fronts: Front[] = [
      tcp(CONNECTIONS, IN_FLIGHT),
      socketsFront("WebSocket", CONNECTIONS, IN_FLIGHT, () => LeanWsLoad.connect(httpPort)),
      tcp(CONNECTIONS, httpShape),
      httpFront("HTTP keep-alive", CONNECTIONS),
      tcp(1, HTTP_CONNECTIONS),
      httpFront("HTTP keep-alive, one handle", 1),
    ];
    /** Which front each is compared with: TCP 10 × 50, or TCP with as many calls in flight. */
    const baseline = [0, 0, 0, 2, 0, 4];
    const rounds: Round[][] = fronts.map(() => []);
    const order = [...fronts.keys()];
    for (let round = 0; round < ROUNDS; round++) {
      for (const index of round % 2 === 0 ? order : [...order].reverse()) {
        const load = await fronts[index].open();
        const meter = cpuMeter([served.child.pid, emulator.pid, Deno.pid]);
        const measured = await rate(load.calls, load.inFlight, RATE_MS);
        const [serveUs, emulatorUs, benchUs] = meter.perRequest(measured);
        rounds[index].push({ rate: measured, serveUs, emulatorUs, benchUs });
        const wrong = load.close();
        if (wrong) report(`  answers that were not nearestDc (${fronts[index].name})`, `${wrong}`);
        // Let the closed connections' places in the per-address limit come back.
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const rates = rounds.map((list) => mean(list.map((round) => round.rate)));
    for (const [index, front] of fronts.entries()) {
      const ratio = (other: number) => `${(rates[index] / rates[other]).toFixed(2)}×`;
      const like = baseline[index];
      const ratios = index === 0
        ? ""
        : like === 0
        ? ` ${ratio(0)}`
        : ` ${ratio(like)} (${ratio(0)} of 10 × 50)`;
      report(
        `  ${front.name}: requests/s, ${front.shape}`,
        `${rates[index].toFixed(0)}${ratios}`,
        index === 1 ? "target ≥ 0.9×" : like !== 0 ? "target ≥ 0.5×" : "",
      );
      const us = (pick: (round: Round) => number) => mean(rounds[index].map(pick)).toFixed(1);
      report(
        "    CPU per request: serve / emulator / the load generator",
        `${us((round) => round.serveUs)} / ${us((round) => round.emulatorUs)} / ${
          us((round) => round.benchUs)
        } µs`,
      );
    }

    // Managed updates: Alice's messages to herself from another session, live to one reader.
    await signInAliceDirect(sender);
    const owner = await JsonClient.connect(served.port);
    const session = await signInAlice(owner) as Line;
    const handle = (await post(base, "/v1/sessions", { session })).account as string;
    /** Alice writes `count` messages to herself, 50 at a time. */
    const write = messagesToSelf(sender);
    const readers = {
      /** A TCP connection that loads Alice's session: her updates as lines. */
      async tcp() {
        const connection = await Deno.connect({ hostname: "127.0.0.1", port: served.port });
        await writeAll(connection, encoder.encode(JSON.stringify({ id: 1, session }) + "\n"));
        return { ...countMessages(connection.readable), close: () => connection.close() };
      },
      /** `GET /v1/updates` as an event stream (what EventSource asks for). */
      async sse() {
        const aborter = new AbortController();
        const response = await fetch(`${base}/v1/updates`, {
          headers: { accept: "text/event-stream", authorization: `Bearer ${handle}` },
          signal: aborter.signal,
        });
        if (!response.ok) throw new Error(`/v1/updates: ${response.status}`);
        return { ...countMessages(response.body!), close: () => aborter.abort() };
      },
    };
    const updateRates: Record<"tcp" | "sse", number[]> = { tcp: [], sse: [] };
    const updateCpu: Record<"tcp" | "sse", number[]> = { tcp: [], sse: [] };
    // Each way three times, in an order that gives neither the earlier turns.
    for (const kind of ["tcp", "sse", "sse", "tcp", "tcp", "sse"] as const) {
      const reader = await readers[kind]();
      await reader.synced;
      const meter = cpuMeter([served.child.pid]);
      const start = performance.now();
      await write(UPDATES);
      await until(() => reader.count() >= UPDATES, 60_000, "the updates", 2);
      const perSecond = UPDATES / ((performance.now() - start) / 1000);
      updateRates[kind].push(perSecond);
      updateCpu[kind].push(meter.perRequest(perSecond)[0]);
      reader.close();
    }
    owner.close();
    const tcpUpdates = mean(updateRates.tcp);
    report(
      `  TCP: managed updates delivered live (${UPDATES}, sent 50 at a time)`,
      `${tcpUpdates.toFixed(0)} /s`,
    );
    const sseUpdates = mean(updateRates.sse);
    report(
      "  Server-Sent Events (GET /v1/updates): updates/s",
      `${sseUpdates.toFixed(0)} ${(sseUpdates / tcpUpdates).toFixed(2)}×`,
      "target ≥ 0.9×",
    );
    report(
      "    serve CPU per update: TCP / SSE",
      `${mean(updateCpu.tcp).toFixed(0)} / ${mean(updateCpu.sse).toFixed(0)} µs`,
    );
  } finally {
    sender.closeConnections();
    // SIGTERM as a user would; a serve that does not end within 10 s is told so and killed.
    served.child.kill("SIGTERM");
    const late = setTimeout(() => {
      console.log("  (serve did not end within 10 s of SIGTERM: killed)");
      served.child.kill("SIGKILL");
    }, 10_000);
    await served.child.status;
    clearTimeout(late);
    await stop(emulator);
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  // `deno run -A scripts/bench_web.ts` runs this part alone; its `deno run`s check for no update
  // (that would look up dl.deno.land).
  Deno.env.set("DENO_NO_UPDATE_CHECK", "1");
  await benchWeb(
    loadSchema(),
    (label, value, target = "") =>
      console.log(`${label.padEnd(58)} ${value.padStart(14)}  ${target}`),
  );
}
