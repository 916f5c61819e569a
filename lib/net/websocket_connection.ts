/**
 * MTProto over WebSocket (core.telegram.org/mtproto/transports): a {@link ByteConnection} whose
 * bytes travel in binary frames of a WebSocket opened with the subprotocol `binary`. Frame
 * boundaries mean nothing: the obfuscated transport over it is one byte stream, as over TCP.
 *
 * Straight to the server it is Deno's own `WebSocket`. Through a SOCKS5 or HTTP CONNECT proxy it
 * is the project's own RFC 6455 client (websocket_client.ts) over the proxy's tunnel, since Deno's
 * `WebSocket` cannot be given a socket; for `wss://`, TLS over the tunnel first.
 *
 * @module
 */

import { type Clock, systemClock } from "../io/clock.ts";
import type { RandomSource } from "../crypto/random.ts";
import { connectThroughHttp } from "./http_connect.ts";
import { ProxyError, type TcpConnect } from "./proxy_handshake.ts";
import { proxyLabel, type ProxySpec } from "./proxy_url.ts";
import { readChunks } from "./read_chunks.ts";
import { ConnectionFailedError } from "./sender_errors.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { connectThroughSocks5 } from "./socks5.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import { closeError, givenUp, WEBSOCKET_PROTOCOL, webSocketOver } from "./websocket_client.ts";
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
    try {
      const tls = await Deno.startTls(raw!, {
        hostname: host,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      });
      stream = socketConnection(tls);
    } catch (error) {
      stream.close();
      throw new ConnectionFailedError(
        `cannot start TLS for the WebSocket ${url.href}: ${(error as Error).message}`,
      );
    }
  }
  return await webSocketOver(stream, url, {
    ...(options.attempt ? { attempt: options.attempt } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
}
