/**
 * MTProto over WebSocket (core.telegram.org/mtproto/transports): a {@link ByteConnection} whose
 * bytes travel in binary frames of a WebSocket opened with the subprotocol `binary`. Frame
 * boundaries mean nothing: the obfuscated transport over it is one byte stream, as over TCP.
 *
 * It is the project's own RFC 6455 client (websocket_client.ts) over a TCP socket with
 * `TCP_NODELAY` (straight to the server, or a SOCKS5 or HTTP CONNECT proxy's tunnel), TLS over it
 * for `wss://`. Not Deno's own `WebSocket`: that one turns `TCP_NODELAY` off on its socket with no
 * way to turn it back on, so a small frame waited for the peer's delayed ACK (a p99 near 40 ms,
 * half of direct TCP's throughput in the proxy-hop bench); it can neither be given a socket (a
 * proxy's tunnel) nor stop reading while its reader is behind.
 *
 * @module
 */

import type { RandomSource } from "../crypto/random.ts";
import { connectThroughHttp } from "./http_connect.ts";
import { ProxyError, type TcpConnect } from "./proxy_handshake.ts";
import { proxyLabel, type ProxySpec } from "./proxy_url.ts";
import { readChunks } from "./read_chunks.ts";
import { ConnectionFailedError } from "./sender_errors.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import { connectThroughSocks5 } from "./socks5.ts";
import type { ByteConnection } from "./tcp_connection.ts";
import { givenUp, webSocketOver } from "./websocket_client.ts";
import { parseWebSocketUrl } from "./websocket_url.ts";

// The URLs apart, so that reading a --server line before `serve` listens loads no socket code.
export { parseWebSocketUrl, telegramWebSocketUrl } from "./websocket_url.ts";
/** How to open a WebSocket connection. */
export interface WebSocketOptions {
  /** The sender's attempt: aborting it closes what was opened; it hears what the open waits for. */
  attempt?: ConnectAttempt;
  /** A SOCKS5 or HTTP CONNECT proxy to go through (an MTProxy cannot carry a WebSocket). */
  proxy?: ProxySpec;
  /** Masking keys and handshake nonces; secure by default. */
  random?: RandomSource;
  /** Certificates to trust for `wss://`, besides the system's (tests). */
  caCerts?: string[];
}

/**
 * Opens a WebSocket to `url` (subprotocol `binary`) as a byte connection: every write one binary
 * frame, every frame received a chunk, read only as the reader asks (a slow reader holds the
 * server back, not this process's memory). A connection that cannot be opened, or one written
 * after it closed, is {@link ConnectionFailedError} naming the URL; a close other than a normal
 * one ends the readable with that error.
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
  return await overTcp(new URL(href), options);
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

/**
 * A TCP connection to the server or the tunnel through `options.proxy`, TLS over it for `wss://`,
 * and the WebSocket handshake.
 */
async function overTcp(url: URL, options: WebSocketOptions): Promise<ByteConnection> {
  const { proxy, attempt } = options;
  if (proxy?.kind === "mtproxy") {
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
  let stream = !proxy
    ? await directly(url, host, port, connectTcp, attempt)
    : proxy.kind === "http"
    ? await connectThroughHttp(proxy, host, port, connectTcp, attempt)
    : await connectThroughSocks5(proxy, host, port, connectTcp, attempt);
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

/** The TCP connection straight to the WebSocket server; its failures name the URL. */
async function directly(
  url: URL,
  host: string,
  port: number,
  connectTcp: TcpConnect,
  attempt: ConnectAttempt | undefined,
): Promise<ByteConnection> {
  attempt?.waiting(
    `the TCP connect to ${host}:${port} for the WebSocket ${url.href} got no answer`,
  );
  let stream: ByteConnection;
  try {
    stream = await connectTcp(host, port);
  } catch (error) {
    if (attempt?.signal.aborted) throw givenUp(url.href);
    throw new ConnectionFailedError(
      `cannot open the WebSocket ${url.href}: ${(error as Error).message}`,
    );
  }
  // A deadline that passed during the connect: what came too late is closed, not used.
  if (attempt?.signal.aborted) {
    stream.close();
    throw givenUp(url.href);
  }
  return stream;
}
