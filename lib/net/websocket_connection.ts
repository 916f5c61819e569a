/**
 * MTProto over WebSocket (core.telegram.org/mtproto/transports): a {@link ByteConnection} whose
 * bytes travel in binary frames of a WebSocket opened with the subprotocol `binary`. Frame
 * boundaries mean nothing: the obfuscated transport over it is one byte stream, as over TCP.
 *
 * Straight to the server it is Deno's own `WebSocket`. Through a SOCKS5 or HTTP CONNECT proxy it
 * is this module's own RFC 6455 client over the proxy's tunnel (Deno's `WebSocket` cannot be given
 * a socket): the opening handshake with its `Sec-WebSocket-Accept` check, masked binary frames,
 * pings answered, the closing handshake; for `wss://`, TLS over the tunnel first.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import { sha1 } from "../crypto/hash.ts";
import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { ByteQueue } from "../transport/byte_queue.ts";
import { connectThroughHttp } from "./http_connect.ts";
import { ProxyError, type TcpConnect } from "./proxy_handshake.ts";
import { proxyLabel, type ProxySpec } from "./proxy_url.ts";
import { readChunks } from "./read_chunks.ts";
import { ConnectionFailedError } from "./sender_errors.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { connectThroughSocks5 } from "./socks5.ts";
import type { ByteConnection } from "./tcp_connection.ts";

/** The subprotocol Telegram's endpoints require. */
export const WEBSOCKET_PROTOCOL = "binary";

/** Telegram's web endpoint names of DCs 1 to 5. */
const TELEGRAM_NAMES = ["pluto", "venus", "aurora", "vesta", "flora"];

/** How to open a WebSocket connection. */
export interface WebSocketOptions {
  /** The sender's attempt: aborting it closes what was opened; it hears what the open waits for. */
  attempt?: ConnectAttempt;
  /** Timers for waiting while the send buffer is full; the platform's by default. */
  clock?: Clock;
  /** A SOCKS5 or HTTP CONNECT proxy to go through (an MTProxy cannot carry a WebSocket). */
  proxy?: ProxySpec;
  /** `write` waits while more than this many bytes are queued unsent (default 1 MiB). */
  highWaterMark?: number;
  /** Masking keys and handshake nonces, through a proxy; secure by default. */
  random?: RandomSource;
  /** Certificates to trust for `wss://` through a proxy, besides the system's (tests). */
  caCerts?: string[];
}

/**
 * Telegram's WebSocket URL for DC `dcId` (1 to 5): `wss://NAME.web.telegram.org/apiws`, NAME by
 * the DC, `apiws_test` for test DCs, NAME-1 for file (media) connections as Telegram's web apps
 * use; undefined for a DC without a web endpoint (a CDN DC).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { telegramWebSocketUrl } from "./websocket_connection.ts";
 * assert.equal(telegramWebSocketUrl(2, { test: false }), "wss://venus.web.telegram.org/apiws");
 * assert.equal(telegramWebSocketUrl(1, { test: true }), "wss://pluto.web.telegram.org/apiws_test");
 * ```
 */
export function telegramWebSocketUrl(
  dcId: number,
  options: { test: boolean; media?: boolean },
): string | undefined {
  const name = TELEGRAM_NAMES[dcId - 1];
  if (!name) return undefined;
  return `wss://${name}${options.media ? "-1" : ""}.web.telegram.org/` +
    (options.test ? "apiws_test" : "apiws");
}

/** Reads a `ws://` or `wss://` URL; throws TypeError saying what is wrong with it. */
export function parseWebSocketUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new TypeError(`a WebSocket URL starts with ws:// or wss://, got ${url.protocol}//`);
  }
  if (url.username || url.password || url.hash) {
    throw new TypeError("a WebSocket URL has no user name, password or #fragment");
  }
  return url.href;
}

/**
 * Opens a WebSocket to `url` (subprotocol `binary`) as a byte connection: every write one binary
 * frame, every frame received a chunk. A connection that cannot be opened, or one written after
 * it closed, is {@link ConnectionFailedError} naming the URL; a close other than a normal one ends
 * the readable with that error.
 *
 * @example
 * ```ts ignore
 * import { connectWebSocket } from "./websocket_connection.ts";
 * const connection = await connectWebSocket("ws://127.0.0.1:8080/apiws");
 * ```
 */
export async function connectWebSocket(
  url: string,
  options: WebSocketOptions = {},
): Promise<ByteConnection> {
  const href = parseWebSocketUrl(url);
  if (options.attempt?.signal.aborted) throw givenUp(href);
  return options.proxy
    ? await throughProxy(new URL(href), options.proxy, options)
    : await platformWebSocket(href, options);
}

/** Received chunks waiting for the reader, and how the stream ended. */
class Inbox {
  #chunks: Uint8Array[] = [];
  #wake?: () => void;
  #ended = false;
  #error?: Error;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  /** Ends the stream, with `error` once what came before it is read. */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const batch = this.#chunks;
      this.#chunks = [];
      for (const chunk of batch) yield chunk;
      if (this.#chunks.length) continue;
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

/** How often a full send buffer is looked at again. */
const DRAIN_POLL_MS = 5;

/** Deno's own WebSocket client. */
async function platformWebSocket(url: string, options: WebSocketOptions): Promise<ByteConnection> {
  const { attempt } = options;
  const clock = options.clock ?? systemClock;
  const highWaterMark = options.highWaterMark ?? 1 << 20;
  let socket: WebSocket;
  try {
    socket = new WebSocket(url, WEBSOCKET_PROTOCOL);
  } catch (error) {
    throw new ConnectionFailedError(
      `cannot open the WebSocket ${url}: ${(error as Error).message}`,
    );
  }
  socket.binaryType = "arraybuffer";
  const inbox = new Inbox();
  let closedByUs = false;
  let failure: string | undefined;
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      inbox.end(new ConnectionFailedError(`the WebSocket ${url} sent a text message`));
      socket.close(1003);
      return;
    }
    inbox.push(new Uint8Array(event.data as ArrayBuffer));
  };
  socket.onerror = (event) => (failure = (event as ErrorEvent).message);
  attempt?.waiting(`the WebSocket ${url} did not answer the opening handshake`);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      socket.close();
      reject(givenUp(url));
    };
    attempt?.signal.addEventListener("abort", onAbort, { once: true });
    socket.onopen = () => {
      attempt?.signal.removeEventListener("abort", onAbort);
      resolve();
    };
    socket.onclose = (event) => {
      attempt?.signal.removeEventListener("abort", onAbort);
      reject(
        new ConnectionFailedError(
          `cannot open the WebSocket ${url}: ${failure ?? `closed with code ${event.code}`}`,
        ),
      );
    };
  });
  socket.onclose = (event) => inbox.end(closedByUs ? undefined : closeError(url, event, failure));
  return {
    readable: inbox.chunks(),
    async write(bytes) {
      if (socket.readyState !== WebSocket.OPEN) {
        throw new ConnectionFailedError(`the WebSocket ${url} is closed`);
      }
      socket.send(bytes);
      // Sent in order at once; the promise holds a writer back while the socket is behind.
      while (socket.readyState === WebSocket.OPEN && socket.bufferedAmount > highWaterMark) {
        await clock.sleep(DRAIN_POLL_MS);
      }
    },
    close() {
      if (closedByUs) return;
      closedByUs = true;
      inbox.end();
      socket.close(1000);
    },
  };
}

/**
 * What a close means: a normal one (Telegram always closes with 1000 and puts its error code in
 * the reason, which may be ignored) ends the stream; any other is an error naming it.
 */
function closeError(
  url: string,
  event: { code: number; reason: string },
  failure?: string,
): Error | undefined {
  if (event.code === 1000 || event.code === 1005) return undefined;
  const reason = event.reason ? ` (${event.reason.slice(0, 100)})` : "";
  return new ConnectionFailedError(
    `the WebSocket ${url} closed with code ${event.code}${reason}${failure ? `: ${failure}` : ""}`,
  );
}

function givenUp(url: string): ConnectionFailedError {
  return new ConnectionFailedError(
    `the WebSocket ${url} was given up (the connect deadline passed, or the connection closed)`,
  );
}

/** A TCP socket as a byte connection whose reads happen only when asked for (TLS may follow). */
function socketConnection(socket: Deno.TcpConn | Deno.TlsConn): ByteConnection {
  return {
    readable: readChunks(socket),
    async write(bytes) {
      for (let written = 0; written < bytes.length;) {
        written += await socket.write(bytes.subarray(written));
      }
    },
    close() {
      try {
        socket.close();
      } catch {
        // closed already
      }
    },
  };
}

/** The tunnel through `proxy`, TLS over it for `wss://`, and the WebSocket handshake. */
async function throughProxy(
  url: URL,
  proxy: ProxySpec,
  options: WebSocketOptions,
): Promise<ByteConnection> {
  if (proxy.kind === "mtproxy") {
    throw new ProxyError(
      proxyLabel(proxy),
      "connect request",
      "an MTProxy cannot carry a WebSocket: use a SOCKS5 or HTTP proxy, or no WebSocket",
    );
  }
  const secure = url.protocol === "wss:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  let raw: Deno.TcpConn | undefined;
  const connectTcp: TcpConnect = async (hostname, tcpPort) => {
    raw = await Deno.connect({ hostname, port: tcpPort });
    raw.setNoDelay(true);
    return socketConnection(raw);
  };
  let stream = proxy.kind === "http"
    ? await connectThroughHttp(proxy, host, port, connectTcp, options.attempt)
    : await connectThroughSocks5(proxy, host, port, connectTcp, options.attempt);
  if (secure) {
    // The tunnel's reads are lazy: none is pending once the proxy's reply is read, so the socket
    // can be handed to TLS. A server speaks only after the client's hello.
    const tls = await Deno.startTls(raw!, {
      hostname: host,
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
    stream = socketConnection(tls);
  }
  return await openingHandshake(stream, url, options);
}

/** The GUID RFC 6455 appends to the key before hashing it into `Sec-WebSocket-Accept`. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The longest handshake answer read. */
const MAX_ANSWER = 16 * 1024;

/** The client's opening handshake over `stream`; the connection once the server accepts it. */
async function openingHandshake(
  stream: ByteConnection,
  url: URL,
  options: WebSocketOptions,
): Promise<ByteConnection> {
  const random = options.random ?? secureRandom;
  const { attempt } = options;
  const onAbort = () => stream.close();
  attempt?.signal.addEventListener("abort", onAbort, { once: true });
  const reader = stream.readable[Symbol.asyncIterator]();
  try {
    const key = random(16).toBase64();
    const request = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Protocol: ${WEBSOCKET_PROTOCOL}`,
    ];
    attempt?.waiting(`the WebSocket ${url.href} did not answer the opening handshake`);
    await stream.write(new TextEncoder().encode(request.join("\r\n") + "\r\n\r\n"));
    const answer = new ByteQueue();
    let end = -1;
    while (end < 0) {
      const next = await reader.next();
      if (attempt?.signal.aborted) throw givenUp(url.href);
      if (next.done) throw refused(url, "the server closed the connection");
      answer.push(next.value);
      const text = new TextDecoder("latin1").decode(answer.peek(answer.length));
      end = text.indexOf("\r\n\r\n");
      if (end < 0 && answer.length > MAX_ANSWER) throw refused(url, "its answer is too long");
    }
    const head = new TextDecoder("latin1").decode(answer.take(end + 4));
    const [status, ...lines] = head.slice(0, end).split("\r\n");
    if (!/^HTTP\/1\.1 101(?: |$)/.test(status)) {
      throw refused(url, `it answered ${JSON.stringify(status.slice(0, 200))}`);
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const expected = sha1(new TextEncoder().encode(key + ACCEPT_GUID)).toBase64();
    if (
      headers.get("upgrade")?.toLowerCase() !== "websocket" ||
      !/\bupgrade\b/i.test(headers.get("connection") ?? "")
    ) throw refused(url, "its answer is not a WebSocket upgrade");
    if (headers.get("sec-websocket-accept") !== expected) {
      throw refused(url, "its Sec-WebSocket-Accept does not match the key sent");
    }
    const protocol = headers.get("sec-websocket-protocol");
    if (protocol !== undefined && protocol !== WEBSOCKET_PROTOCOL) {
      throw refused(url, `it chose the subprotocol ${JSON.stringify(protocol)}`);
    }
    const early = answer.length ? answer.take(answer.length) : undefined;
    return framedConnection(stream, reader, early, url.href, random);
  } catch (error) {
    stream.close();
    if (attempt?.signal.aborted) throw givenUp(url.href);
    if (error instanceof ConnectionFailedError) throw error;
    throw refused(url, (error as Error).message);
  } finally {
    attempt?.signal.removeEventListener("abort", onAbort);
  }
}

function refused(url: URL, reason: string): ConnectionFailedError {
  return new ConnectionFailedError(`the WebSocket handshake with ${url.href} failed: ${reason}`);
}

const OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;

/** The largest frame accepted (MTProto's own messages stay far below it). */
const MAX_FRAME = 16 << 20;

/** What the server's frames carry. */
type FrameEvent =
  | { kind: "data"; payload: Uint8Array }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "close"; code: number; reason: string };

/** Server frames, parsed as bytes arrive (sans-IO). */
class FrameReader {
  readonly #queue = new ByteQueue();

  /** Feeds received bytes; the frames now whole. Throws on a frame RFC 6455 forbids. */
  push(chunk: Uint8Array): FrameEvent[] {
    const queue = this.#queue;
    queue.push(chunk);
    const events: FrameEvent[] = [];
    while (queue.length >= 2) {
      const [first, second] = queue.peek(2);
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (queue.length < 4) break;
        const bytes = queue.peek(4);
        length = (bytes[2] << 8) | bytes[3];
        header = 4;
      } else if (length === 127) {
        if (queue.length < 10) break;
        const bytes = queue.peek(10);
        const big = new DataView(bytes.buffer, bytes.byteOffset, 10).getBigUint64(2);
        if (big > BigInt(MAX_FRAME)) throw new Error(`a frame of ${big} bytes`);
        length = Number(big);
        header = 10;
      }
      if (length > MAX_FRAME) throw new Error(`a frame of ${length} bytes`);
      if (first & 0x70) throw new Error("a frame with reserved bits set");
      if (second & 0x80) throw new Error("the server masked a frame");
      const opcode = first & 0x0f;
      if (opcode >= OP_CLOSE && (!(first & 0x80) || length > 125)) {
        throw new Error("a fragmented or long control frame");
      }
      if (queue.length < header + length) break;
      queue.skip(header);
      const payload = queue.take(length);
      if (opcode === OP_BINARY || opcode === OP_CONTINUATION) {
        if (payload.length) events.push({ kind: "data", payload });
      } else if (opcode === OP_PING) events.push({ kind: "ping", payload });
      else if (opcode === OP_CLOSE) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        const reason = new TextDecoder().decode(payload.subarray(2));
        events.push({ kind: "close", code, reason });
        break;
      } else if (opcode === OP_TEXT) throw new Error("a text frame");
      else if (opcode !== OP_PONG) throw new Error(`a frame of unknown opcode ${opcode}`);
    }
    return events;
  }
}

/** One client frame: FIN, `opcode`, masked with 4 fresh random bytes as RFC 6455 requires. */
function clientFrame(opcode: number, payload: Uint8Array, random: RandomSource): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = random(4);
  frame.set(mask, header);
  const body = header + 4;
  for (let index = 0; index < length; index++) {
    frame[body + index] = payload[index] ^ mask[index & 3];
  }
  return frame;
}

/** The connection over an accepted handshake: frames out, data frames in, control handled. */
function framedConnection(
  stream: ByteConnection,
  reader: AsyncIterator<Uint8Array>,
  early: Uint8Array | undefined,
  url: string,
  random: RandomSource,
): ByteConnection {
  const frames = new FrameReader();
  let closed = false;
  let writing = Promise.resolve();
  // One frame at a time on the stream, in the order written.
  const send = (opcode: number, payload: Uint8Array) => {
    const frame = clientFrame(opcode, payload, random);
    const sent = writing.then(() => stream.write(frame));
    writing = sent.catch(() => {});
    return sent;
  };
  const closeWith = (code: number) => {
    if (closed) return;
    closed = true;
    send(OP_CLOSE, Uint8Array.of(code >> 8, code & 0xff)).catch(() => {}).finally(() =>
      stream.close()
    );
  };
  return {
    readable: (async function* () {
      try {
        for (let chunk = early;;) {
          for (const event of chunk ? frames.push(chunk) : []) {
            if (event.kind === "data") yield event.payload;
            else if (event.kind === "ping") send(OP_PONG, event.payload).catch(() => {});
            else {
              // The closing handshake: the server's code sent back, then the stream closed.
              closeWith(event.code === 1005 ? 1000 : event.code);
              const error = closeError(url, event);
              if (error) throw error;
              return;
            }
          }
          if (closed) return;
          const next = await reader.next();
          if (next.done) {
            if (closed) return;
            throw new ConnectionFailedError(`the WebSocket ${url} ended without a close frame`);
          }
          chunk = next.value;
        }
      } catch (error) {
        if (closed && !(error instanceof ConnectionFailedError)) return;
        stream.close();
        if (error instanceof ConnectionFailedError) throw error;
        throw new ConnectionFailedError(`the WebSocket ${url} failed: ${(error as Error).message}`);
      }
    })(),
    async write(bytes) {
      if (closed) throw new ConnectionFailedError(`the WebSocket ${url} is closed`);
      await send(OP_BINARY, bytes);
    },
    close() {
      closeWith(1000);
    },
  };
}
