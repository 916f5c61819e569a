/**
 * `serve`: the JSON protocol over TCP. Every client connection gets its own client and its own
 * MTProto connections; clients share nothing.
 *
 * @module
 */

import { systemClock } from "../io/clock.ts";
import type { ProxyDefaults } from "./proxy_connection.ts";
import { acceptLoop, closeQuietly } from "../net/accept_loop.ts";
import { readChunks } from "../net/read_chunks.ts";
import type { LogFields } from "../io/log_format.ts";
import { TokenGuard, type TokenGuardOptions } from "./token_guard.ts";

/** Where and how to listen. */
export interface ServeOptions {
  host: string;
  port: number;
  maxLine: number;
  token?: string;
  /** Connections served at once; one more is told so and closed (default 1000). */
  maxConnections?: number;
  /** With a token: how long a new connection has to present it (default 10 s). */
  tokenDeadlineMs?: number;
  /** With a token: how wrong ones are delayed per address (defaults in token_guard.ts). */
  tokenThrottle?: Omit<TokenGuardOptions, "log" | "clock">;
  /** With a token: a guard shared with another front (the web one), so guesses count together. */
  guard?: TokenGuard;
}

/** A running server. */
export interface ProxyServer {
  port: number;
  /** What `{"health": {}}` answers (the web front's `/healthz` serves the same). */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * True for addresses only this machine can reach: an IPv4 address in 127.0.0.0/8, `::1`, or the
 * name `localhost`. Any other name is taken as reachable from elsewhere (`127.evil.example` is a
 * name, not an address), so it needs a token; the address actually bound is checked again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./serve.ts";
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("127.evil.example"), false);
 * assert.equal(isLoopback("0.0.0.0"), false);
 * ```
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(bare);
  return octets !== null && octets[1] === "127" && octets.slice(2).every((o) => Number(o) <= 255);
}

/** Listens; refuses a non-loopback address without a token, since clients act as the account. */
export function serve(defaults: ProxyDefaults, options: ServeOptions): ProxyServer {
  if (!isLoopback(options.host) && !options.token) {
    throw new Error(
      `refusing to listen on ${options.host} without --token: anyone who can connect could act as ` +
        `the account. Use 127.0.0.1, or give --token SECRET and have clients send {"token": "SECRET"} first.`,
    );
  }
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.host, port: options.port });
  } catch (error) {
    throw new Error(
      `cannot listen on ${options.host}:${options.port}: ${
        error instanceof Deno.errors.AddrInUse
          ? "the address is already in use"
          : (error as Error).message
      }`,
    );
  }
  if (!options.token && !isLoopback((listener.addr as Deno.NetAddr).hostname)) {
    listener.close();
    throw new Error(`refusing to listen on ${options.host} without --token: it is not loopback`);
  }
  // The protocol (the client, its crypto and codec: most of the program) loads while the port
  // already accepts; a connection that comes first waits for it.
  const protocol = Promise.all([import("./serve_lines.ts"), defaults.ready]);
  const maxConnections = options.maxConnections ?? 1000;
  let connections = 0;
  const sockets = new Set<Deno.TcpConn>();
  const clock = defaults.clock ?? systemClock;
  const started = clock.now();
  const serverLog = defaults.log ??
    ((line: string) => console.error(`mtproto2json serve: ${line}`));
  // Only the token guards a non-loopback bind, so guessing it is slowed, counted and logged.
  const guard = options.token
    ? options.guard ??
      new TokenGuard({ ...options.tokenThrottle, clock, log: (line) => serverLog(line) })
    : undefined;
  // For health checks (a container's HEALTHCHECK, a load balancer): alive, and how busy.
  // A store that cannot be written is "degraded": serving goes on, but held accounts' updates
  // wait for it (the health subcommand exits 1, so a supervisor sees it).
  const health = () => {
    const store = defaults.held?.health();
    return {
      status: store?.store === "failing" ? "degraded" : "ok",
      uptime_s: Math.floor((clock.now() - started) / 1000),
      connections: sockets.size,
      held_accounts: defaults.held?.size ?? 0,
      ...store,
      version: defaults.app.appVersion,
      token_failures: guard?.stats() ?? { total: 0, addresses_throttled: 0 },
    };
  };
  const serving = acceptLoop(
    listener,
    (socket) => {
      if (sockets.size >= maxConnections) {
        const line = JSON.stringify({
          id: -1,
          error: "TooManyConnections",
          msg: `this server serves at most ${maxConnections} connections at once`,
        }) + "\n";
        socket.write(new TextEncoder().encode(line)).catch(() => {}).finally(() =>
          closeQuietly(socket)
        );
        return;
      }
      socket.setNoDelay(true);
      sockets.add(socket);
      const tally = defaults.metrics?.opened("tcp");
      // Every line this connection logs names it.
      const connection = ++connections;
      const tagged = (log?: (line: string, fields?: LogFields) => void) =>
        log && ((line: string, fields?: LogFields) => log(line, { ...fields, connection }));
      (async () => {
        const [{ serveLines }] = await protocol;
        // Copied once ready: copying reads every field, the schema too.
        const own: ProxyDefaults = {
          ...defaults,
          health,
          ...(defaults.log ? { log: tagged(defaults.log) } : {}),
          ...(defaults.verbose ? { verbose: tagged(defaults.verbose) } : {}),
        };
        await serveLines(own, {
          // Counted as read, not by another generator over the chunks: that one held on to the
          // last chunk's buffer while it waited for the next, for every idle connection.
          readable: readChunks(
            tally
              ? {
                // Not an async function: a suspended one per idle connection held its frame.
                read: (into: Uint8Array) =>
                  socket.read(into).then((count) => {
                    if (count) tally.received(count);
                    return count;
                  }),
              }
              : socket,
          ),
          write: async (text) => {
            const bytes = new TextEncoder().encode(text);
            tally?.sent(bytes.length);
            for (let written = 0; written < bytes.length;) {
              written += await socket.write(bytes.subarray(written));
            }
          },
          maxLine: options.maxLine,
          ...(options.token ? { token: options.token } : {}),
          tokenDeadlineMs: options.tokenDeadlineMs ?? 10_000,
          ...(guard ? { guard, address: (socket.remoteAddr as Deno.NetAddr).hostname } : {}),
        });
        sockets.delete(socket);
        tally?.closed();
        closeQuietly(socket);
      })();
    },
    serverLog,
    clock,
  );
  return {
    port: (listener.addr as Deno.NetAddr).port,
    health,
    async close() {
      listener.close();
      guard?.close();
      for (const socket of sockets) {
        closeQuietly(socket);
      }
      await serving;
    },
  };
}
