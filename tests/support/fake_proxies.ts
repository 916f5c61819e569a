/**
 * Small SOCKS5 and HTTP CONNECT proxies in-process on 127.0.0.1, for tests of the client's side
 * (issue #19): each records what clients asked for (the address type and host exactly as sent, the
 * request's header lines) and behaves as told — relays to a loopback port, stalls, closes
 * mid-greeting, answers a bogus address type or a failure, or checks credentials. A relay only
 * ever connects to 127.0.0.1 ("localhost" included): any other destination is refused.
 *
 * @module
 */

import { secureRandom } from "../../lib/crypto/random.ts";
import { Sender, type SenderOptions } from "../../lib/net/sender.ts";
import { testCodec } from "./emulated_sender.ts";
import { FakeClock } from "./fake_clock.ts";

/** How a fake proxy behaves once a client is connected. */
export type FakeBehaviour =
  /** Does the handshake and relays to the destination (loopback only). */
  | "relay"
  /** Accepts the TCP connection and never answers. */
  | "stall"
  /** Reads the client's first bytes and closes without a word. */
  | "close_mid_greeting"
  /** SOCKS5: answers CONNECT with success but address type 9. */
  | "bogus_address_type"
  /** Answers the request with this SOCKS5 reply code or HTTP status line. */
  | { fail: number | string };

/** What a fake proxy recorded of one CONNECT. */
export interface FakeRequest {
  /** SOCKS5: the address type byte (1 IPv4, 3 domain, 4 IPv6). */
  addressType?: number;
  /** The host as the client sent it (a name stays a name). */
  host: string;
  port: number;
  /** HTTP: the request's lines, the request line first. */
  lines?: string[];
}

/** A fake proxy listening on 127.0.0.1. */
export interface FakeProxy {
  port: number;
  /** Every CONNECT asked of it, in order. */
  requests: FakeRequest[];
  /** Connections accepted, and of them closed (by either side). */
  accepted: number;
  /** Clients whose first message (SOCKS5 greeting, HTTP request) was read. */
  greeted: number;
  closed: number;
  /** Sent to the client right after a successful reply, in the same write (the stream's bytes). */
  early?: Uint8Array;
  close(): Promise<void>;
}

/** Options of a fake proxy. */
export interface FakeProxyOptions {
  behaviour?: FakeBehaviour;
  /** Credentials the proxy demands (SOCKS5: RFC 1929; HTTP: Basic). */
  user?: { username: string; password: string };
  /** Bytes to send right after a successful reply, in the same write. */
  early?: Uint8Array;
}

/** Reads a socket exactly: `bytes(n)`, `line()`. */
class SocketReader {
  #buffer = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #more(): Promise<boolean> {
    const chunk = new Uint8Array(4096);
    const read = await this.conn.read(chunk).catch(() => null);
    if (read === null) return false;
    const joined = new Uint8Array(this.#buffer.length + read);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, read), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  async bytes(count: number): Promise<Uint8Array | undefined> {
    while (this.#buffer.length < count) if (!(await this.#more())) return undefined;
    const bytes = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  /** Reads through the next "\r\n\r\n"; the lines before it. */
  async header(): Promise<string[] | undefined> {
    for (;;) {
      const text = new TextDecoder().decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.#buffer = this.#buffer.subarray(
          new TextEncoder().encode(text.slice(0, end + 4)).length,
        );
        return text.slice(0, end).split("\r\n");
      }
      if (!(await this.#more())) return undefined;
    }
  }

  /** What was read past the handshake. */
  rest(): Uint8Array {
    return this.#buffer;
  }
}

/** Starts a fake SOCKS5 proxy. */
export function startFakeSocks5(options: FakeProxyOptions = {}): FakeProxy {
  return startFake(options, socks5Session);
}

/** Starts a fake HTTP CONNECT proxy. */
export function startFakeHttpProxy(options: FakeProxyOptions = {}): FakeProxy {
  return startFake(options, httpSession);
}

type Session = (
  reader: SocketReader,
  options: FakeProxyOptions,
  proxy: FakeProxy,
) => Promise<Deno.Conn | undefined>;

function startFake(options: FakeProxyOptions, session: Session): FakeProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const proxy: FakeProxy = {
    port: (listener.addr as Deno.NetAddr).port,
    requests: [],
    accepted: 0,
    greeted: 0,
    closed: 0,
    async close() {
      listener.close();
      for (const conn of open) closeQuietly(conn);
      await Promise.allSettled([...tasks]);
    },
  };
  const closeConn = (conn: Deno.Conn) => {
    if (!open.delete(conn)) return;
    proxy.closed++;
    closeQuietly(conn);
  };
  (async () => {
    for await (const conn of listener) {
      proxy.accepted++;
      open.add(conn);
      const task = (async () => {
        const reader = new SocketReader(conn);
        if (options.behaviour === "close_mid_greeting") {
          await reader.bytes(1);
          closeConn(conn);
          return;
        }
        let upstream: Deno.Conn | undefined;
        try {
          upstream = await session(reader, options, proxy);
        } catch {
          // a client that went away mid-handshake
        }
        if (!upstream) {
          if (options.behaviour === "stall") {
            // Never answers: waits for the client to give up and close.
            await reader.bytes(1 << 30);
          }
          closeConn(conn);
          return;
        }
        open.add(upstream);
        const leftover = reader.rest();
        if (leftover.length > 0) await upstream.write(leftover).catch(() => {});
        await Promise.allSettled([
          pump(conn, upstream).finally(() => closeConn(upstream)),
          pump(upstream, conn).finally(() => closeConn(conn)),
        ]);
        closeConn(conn);
        closeConn(upstream);
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});
  return proxy;
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const read = await from.read(buffer).catch(() => null);
    if (read === null) return;
    for (let written = 0; written < read;) {
      written += await to.write(buffer.subarray(written, read));
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already
  }
}

/** Connects to a destination on this machine only; undefined for anything else. */
async function loopback(host: string, port: number): Promise<Deno.Conn | undefined> {
  if (host !== "127.0.0.1" && host !== "localhost") return undefined;
  try {
    return await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return undefined;
  }
}

/** The SOCKS5 side: greeting, RFC 1929 when demanded, CONNECT; the relay's upstream or none. */
async function socks5Session(
  reader: SocketReader,
  options: FakeProxyOptions,
  proxy: FakeProxy,
): Promise<Deno.Conn | undefined> {
  const conn = reader.conn;
  const head = await reader.bytes(2);
  if (!head) return undefined;
  const methods = await reader.bytes(head[1]);
  if (!methods) return undefined;
  proxy.greeted++;
  if (options.behaviour === "stall") return undefined;
  const wanted = options.user ? 2 : 0;
  if (!methods.includes(wanted)) {
    await conn.write(Uint8Array.of(5, 0xff));
    return undefined;
  }
  await conn.write(Uint8Array.of(5, wanted));
  if (options.user) {
    const [, userLength] = (await reader.bytes(2)) ?? [];
    const user = new TextDecoder().decode(await reader.bytes(userLength ?? 0));
    const [passLength] = (await reader.bytes(1)) ?? [];
    const pass = new TextDecoder().decode(await reader.bytes(passLength ?? 0));
    const ok = user === options.user.username && pass === options.user.password;
    await conn.write(Uint8Array.of(1, ok ? 0 : 1));
    if (!ok) return undefined;
  }
  const request = await reader.bytes(4);
  if (!request) return undefined;
  const addressType = request[3];
  let host: string;
  if (addressType === 1) host = [...(await reader.bytes(4))!].join(".");
  else if (addressType === 3) {
    const [length] = (await reader.bytes(1))!;
    host = new TextDecoder().decode(await reader.bytes(length));
  } else {
    const bytes = (await reader.bytes(16))!;
    host = Array.from(
      { length: 8 },
      (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16),
    )
      .join(":");
  }
  const portBytes = (await reader.bytes(2))!;
  const port = (portBytes[0] << 8) | portBytes[1];
  proxy.requests.push({ addressType, host, port });
  const behaviour = options.behaviour ?? "relay";
  if (typeof behaviour === "object") {
    await conn.write(Uint8Array.of(5, Number(behaviour.fail), 0, 1, 0, 0, 0, 0, 0, 0));
    return undefined;
  }
  if (behaviour === "bogus_address_type") {
    await conn.write(Uint8Array.of(5, 0, 0, 9, 0, 0, 0, 0, 0, 0));
    return undefined;
  }
  const upstream = await loopback(host, port);
  if (!upstream) {
    await conn.write(Uint8Array.of(5, 4, 0, 1, 0, 0, 0, 0, 0, 0));
    return undefined;
  }
  // A domain in the bound address, as some proxies answer, with the stream's first bytes after.
  const bound = new TextEncoder().encode("proxy.invalid");
  await conn.write(
    Uint8Array.of(5, 0, 0, 3, bound.length, ...bound, 0x10, 0x92, ...(options.early ?? [])),
  );
  return upstream;
}

/** The HTTP side: CONNECT with Basic auth when demanded. */
async function httpSession(
  reader: SocketReader,
  options: FakeProxyOptions,
  proxy: FakeProxy,
): Promise<Deno.Conn | undefined> {
  const conn = reader.conn;
  const lines = await reader.header();
  if (!lines) return undefined;
  proxy.greeted++;
  const target = /^CONNECT (.+):(\d+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!target) {
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    return undefined;
  }
  const host = target[1].replace(/^\[(.*)\]$/, "$1");
  proxy.requests.push({ host, port: Number(target[2]), lines });
  if (options.behaviour === "stall") return undefined;
  const reply = (status: string) =>
    conn.write(new TextEncoder().encode(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`));
  if (options.user) {
    const expected = `Basic ${
      new TextEncoder().encode(`${options.user.username}:${options.user.password}`).toBase64()
    }`;
    const given = lines.find((line) => /^proxy-authorization:/i.test(line));
    if (given?.replace(/^[^:]*:\s*/, "") !== expected) {
      await reply("407 Proxy Authentication Required");
      return undefined;
    }
  }
  const behaviour = options.behaviour ?? "relay";
  if (typeof behaviour === "object") {
    await reply(String(behaviour.fail));
    return undefined;
  }
  const upstream = await loopback(host, Number(target[2]));
  if (!upstream) {
    await reply("502 Bad Gateway");
    return undefined;
  }
  const header = new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n");
  await conn.write(Uint8Array.of(...header, ...(options.early ?? [])));
  return upstream;
}

/** An echo server on 127.0.0.1: what a client writes comes back. */
export function startEcho(): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      pump(conn, conn).finally(() => {
        conns.delete(conn);
        closeQuietly(conn);
      });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const conn of conns) closeQuietly(conn);
      await serving;
    },
  };
}

/**
 * A sender to `host`:443 (DC 2) that opens its connection with `connect`, on a fake clock with a
 * 1 s connect deadline: what a stalled proxy runs into.
 */
export function senderThrough(
  connect: NonNullable<SenderOptions["connect"]>,
  host: string,
): { sender: Sender; clock: FakeClock } {
  const clock = new FakeClock();
  const sender = new Sender({
    host,
    port: 443,
    dcId: 2,
    publicKeys: [],
    transport: { kind: "intermediate" },
    codec: testCodec,
    random: secureRandom,
    log: () => {},
    pingIntervalMs: 0,
    connectTimeoutMs: 1000,
    clock,
    connect,
  });
  return { sender, clock };
}
