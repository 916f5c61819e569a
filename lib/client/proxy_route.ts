/**
 * How a sender reaches a DC when the server names a proxy: for SOCKS5 and HTTP CONNECT, a
 * `connect` that goes through the proxy to the DC's address (the transport is unchanged); for
 * MTProxy, the proxy's own connect and transport (the proxy picks the DC by the signed DC id in
 * the obfuscation header: negative for media connections, +10000 for test DCs).
 *
 * @module
 */

import type { Clock } from "../io/clock.ts";
import { connectThroughHttp } from "../net/http_connect.ts";
import { connectWebSocket } from "../net/websocket_connection.ts";
import { mtproxyRoute } from "../net/mtproxy.ts";
import { type ProxySpec, proxyToUrl } from "../net/proxy_url.ts";
import type { SenderOptions } from "../net/sender_options.ts";
import { connectThroughSocks5 } from "../net/socks5.ts";
import type { TransportOptions } from "../transport/transport.ts";

/** What a sender is built with to go through a proxy (nothing: straight to the DC). */
export interface SenderRoute {
  /** The DC id the sender writes into the obfuscation header (and names in its messages). */
  dcId: number;
  connect?: SenderOptions["connect"];
  /** MTProxy's transport, in place of the server's. */
  transport?: TransportOptions;
  /** The proxy's redacted URL, for the sender's messages. */
  via?: string;
}

/** Which DC a sender is for, and what kind of connection it is. */
export interface RouteTarget {
  dc: number;
  /** A test DC (ids +10000 in the header). */
  test: boolean;
  /** A file connection to the DC's media-only address (MTProxy: a negative id). */
  media?: boolean;
}

/**
 * The route of one sender through `proxy` (or straight, without one). `clock` is the client's:
 * fake TLS puts its wall time in the hello, so a client given its own clock (tests, a skewed
 * machine) must not fall back to the platform's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { senderRoute } from "./proxy_route.ts";
 * import { systemClock } from "../io/clock.ts";
 * const proxy = { kind: "socks5" as const, host: "127.0.0.1", port: 1080 };
 * const route = senderRoute(proxy, { dc: 2, test: false }, systemClock);
 * assert.equal(route.via, "socks5://127.0.0.1:1080");
 * assert.equal(typeof route.connect, "function");
 * ```
 */
export function senderRoute(
  proxy: ProxySpec | undefined,
  target: RouteTarget,
  clock: Clock,
): SenderRoute {
  const dcId = target.test ? target.dc + 10000 : target.dc;
  if (!proxy) return { dcId };
  const via = proxyToUrl(proxy, { redact: true });
  switch (proxy.kind) {
    case "socks5":
      return {
        dcId,
        via,
        connect: (host, port, attempt) =>
          connectThroughSocks5(proxy, host, port, undefined, attempt),
      };
    case "http":
      return {
        dcId,
        via,
        connect: (host, port, attempt) => connectThroughHttp(proxy, host, port, undefined, attempt),
      };
    case "mtproxy": {
      // The header carries the DC the proxy routes to; the sender writes its dcId there.
      const signed = target.media ? -dcId : dcId;
      const route = mtproxyRoute(proxy, signed, { clock });
      return {
        dcId: signed,
        via,
        connect: (_host, _port, attempt) => route.connect(attempt),
        transport: route.transport,
      };
    }
  }
}

/**
 * A sender's route to DC `dc` over the WebSocket at `url` (its host and port taken from the URL),
 * through the server's SOCKS5 or HTTP proxy when it names one; Telegram's WebSocket endpoints
 * take obfuscated streams only.
 */
export function webSocketRoute(
  url: string,
  server: { proxy?: ProxySpec; test: boolean; transport?: TransportOptions },
  options: { clock: Clock; transport?: TransportOptions },
  dc: number,
): SenderRoute & { host: string; port: number } {
  const proxy = server.proxy;
  const framing = server.transport ?? options.transport ?? { kind: "intermediate" };
  const target = new URL(url);
  return {
    host: target.hostname,
    port: Number(target.port) || (target.protocol === "wss:" ? 443 : 80),
    dcId: server.test ? dc + 10000 : dc,
    connect: (_host, _port, attempt) =>
      connectWebSocket(url, {
        ...(attempt ? { attempt } : {}),
        ...(proxy ? { proxy } : {}),
      }),
    // (The full framing cannot be obfuscated: intermediate instead.)
    transport: { kind: framing.kind === "full" ? "intermediate" : framing.kind, obfuscated: true },
    via: proxy ? `${url} via ${proxyToUrl(proxy, { redact: true })}` : url,
  };
}
