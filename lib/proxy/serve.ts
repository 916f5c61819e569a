/**
 * `serve`: the JSON protocol over TCP. Every client connection gets its own client and its own
 * MTProto connections; clients share nothing.
 *
 * @module
 */

import type { ProxyDefaults } from "./handler.ts";
import { serveLines } from "./serve_lines.ts";
import { acceptLoop, closeQuietly } from "../net/accept_loop.ts";
import { readChunks } from "../net/read_chunks.ts";

/** Where and how to listen. */
export interface ServeOptions {
  host: string;
  port: number;
  maxLine: number;
  token?: string;
}

/** A running server. */
export interface ProxyServer {
  port: number;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** Listens; refuses a non-loopback address without a token, since clients act as the account. */
export function serve(defaults: ProxyDefaults, options: ServeOptions): ProxyServer {
  if (!isLoopback(options.host) && !options.token) {
    throw new Error(
      `refusing to listen on ${options.host} without --token: anyone who can connect could act as ` +
        `the account. Use 127.0.0.1, or give --token SECRET and have clients send {"token": "SECRET"} first.`,
    );
  }
  const listener = Deno.listen({ hostname: options.host, port: options.port });
  const sockets = new Set<Deno.TcpConn>();
  const serving = acceptLoop(listener, (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    (async () => {
      await serveLines(defaults, {
        readable: readChunks(socket),
        write: async (text) => {
          const bytes = new TextEncoder().encode(text);
          for (let written = 0; written < bytes.length;) {
            written += await socket.write(bytes.subarray(written));
          }
        },
        maxLine: options.maxLine,
        ...(options.token ? { token: options.token } : {}),
      });
      sockets.delete(socket);
      closeQuietly(socket);
    })();
  }, defaults.log ?? ((line) => console.error(`mtproto2json serve: ${line}`)));
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const socket of sockets) {
        closeQuietly(socket);
      }
      await serving;
    },
  };
}
