/**
 * serve's two fronts in process, for tests that must hold over both: the TCP port and the web
 * front's WebSocket (`serve --http`), started together on free loopback ports. `connect(front)`
 * gives the same {@link JsonClient} over either, so one test body runs over each.
 *
 * @module
 */

import type { ProxyDefaults } from "../../lib/proxy/proxy_connection.ts";
import { serve, type ServeOptions } from "../../lib/proxy/serve.ts";
import { TokenGuard } from "../../lib/proxy/token_guard.ts";
import { serveHttp, type WebOptions, type WebServer } from "../../lib/web/web_server.ts";
import { JsonClient } from "./json_client.ts";
import { connectWebSocket } from "./ws_json_client.ts";

/** The ways in that speak the line protocol. */
export type Front = "tcp" | "websocket";

/** Every front, for `for (const front of FRONTS) Deno.test(...)`. */
export const FRONTS: Front[] = ["tcp", "websocket"];

/** Both fronts of one serve. */
export interface ServedFronts {
  /** The TCP port. */
  port: number;
  /** The HTTP port. */
  httpPort: number;
  web: WebServer;
  /** A client over `front`. */
  connect(front: Front): Promise<JsonClient>;
  close(): Promise<void>;
}

/** Starts serve with `defaults` on 127.0.0.1, TCP and HTTP, each on a free port. */
export function serveFronts(
  defaults: ProxyDefaults,
  options: { maxLine?: number; token?: string; web?: Partial<WebOptions> } = {},
): ServedFronts {
  const maxLine = options.maxLine ?? 16 * 1024 * 1024;
  const guard = options.token ? new TokenGuard({ log: () => {} }) : undefined;
  const tcpOptions: ServeOptions = {
    host: "127.0.0.1",
    port: 0,
    maxLine,
    ...(options.token ? { token: options.token, guard } : {}),
  };
  const tcp = serve(defaults, tcpOptions);
  const web = serveHttp(defaults, {
    host: "127.0.0.1",
    port: 0,
    maxLine,
    health: tcp.health,
    ...(options.token ? { token: options.token, guard } : {}),
    ...options.web,
  });
  return {
    port: tcp.port,
    httpPort: web.port,
    web,
    connect: (front) => front === "tcp" ? JsonClient.connect(tcp.port) : connectWebSocket(web.port),
    async close() {
      await web.close();
      await tcp.close();
    },
  };
}
