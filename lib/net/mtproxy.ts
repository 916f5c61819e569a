/**
 * Reaching a DC through an MTProxy: the connection goes to the proxy, and the obfuscated
 * transport carries the proxy's secret (its keys are SHA-256(key ‖ secret)) and the DC id the
 * proxy routes by. By the secret's form:
 *
 * - plain (16 bytes): obfuscated intermediate;
 * - `dd` + 16 bytes: obfuscated padded intermediate (random padding hides the sizes);
 * - `ee` + 16 bytes + domain: fake TLS with that domain as SNI, around obfuscated padded
 *   intermediate, as Telegram's apps do.
 *
 * Every connection makes a new obfuscation header (and a new ClientHello): a reconnect never
 * reuses a handshake, which proxies refuse as a replay.
 *
 * @module
 */

import { type RandomSource, secureRandom } from "../crypto/random.ts";
import { type Clock, systemClock } from "../io/clock.ts";
import type { TransportOptions } from "../transport/transport.ts";
import { fakeTlsHello, fakeTlsRecords } from "./fake_tls.ts";
import { ProxyConnectionFailedError, ProxyHandshake, type TcpConnect } from "./proxy_handshake.ts";
import { proxyLabel } from "./proxy_url.ts";
import type { ConnectAttempt } from "./sender_options.ts";
import type { ByteConnection } from "./tcp_connection.ts";

/** An MTProxy: where it listens and its secret (a `ProxySpec` of kind `mtproxy`). */
export interface MtproxySpec {
  host: string;
  port: number;
  /** The secret's 16-byte key (without the `dd`/`ee` prefix or the domain). */
  secret: Uint8Array;
  /** The secret's form: plain, `dd` (random padding), `ee` (fake TLS). */
  mode: "plain" | "dd" | "ee";
  /** The fake-TLS domain (`ee` only). */
  domain?: string;
}

/** What a connection through the proxy is opened with, in place of a TCP connect to the DC. */
export interface MtproxyRoute {
  /**
   * Opens a connection to the proxy, for `ee` past a verified fake-TLS hello. `attempt` (the
   * sender's) stops it when given up and names what it waits for when a deadline passes.
   */
  connect: (attempt?: ConnectAttempt) => Promise<ByteConnection>;
  /** The transport the sender must use over it: obfuscated, with the secret and the DC id. */
  transport: TransportOptions;
}

/** What a route may be given instead of the defaults (tests). */
export interface MtproxyRouteOptions {
  /** The wall time in fake-TLS hellos; the platform's by default. */
  clock?: Clock;
  random?: RandomSource;
  /** Opens the TCP connection to the proxy; `connectTcp` by default. */
  connect?: TcpConnect;
}

/**
 * How to reach DC `dcId` through the proxy `spec`. `dcId` is the signed id the proxy routes by:
 * negative for a media connection, +10000 for a test DC. Failures are the proxy handshake's
 * errors, naming the proxy (secret hidden) and the step: `ProxyError` when it refuses the
 * fake-TLS hello, `ProxyConnectionFailed` when it cannot be reached or closes the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mtproxyRoute } from "./mtproxy.ts";
 * const secret = new Uint8Array(16).fill(7);
 * const route = mtproxyRoute({ host: "127.0.0.1", port: 443, secret, mode: "dd" }, -2);
 * assert.equal(route.transport.kind, "padded");
 * assert.equal(route.transport.dcId, -2);
 * ```
 */
export function mtproxyRoute(
  spec: MtproxySpec,
  dcId: number,
  options: MtproxyRouteOptions = {},
): MtproxyRoute {
  if (spec.secret.length !== 16) {
    throw new TypeError(`an MTProxy secret's key is 16 bytes, not ${spec.secret.length}`);
  }
  if (!Number.isInteger(dcId) || dcId === 0 || dcId < -32768 || dcId > 32767) {
    throw new RangeError(`an MTProxy routes by a DC id in the 16-bit range, not ${dcId}`);
  }
  if (spec.mode === "ee" && !spec.domain) {
    throw new TypeError("an ee (fake-TLS) MTProxy secret needs a domain");
  }
  const proxy = {
    kind: "mtproxy" as const,
    host: spec.host,
    port: spec.port,
    secret: spec.secret,
    mode: spec.mode,
    ...(spec.domain !== undefined ? { domain: spec.domain } : {}),
  };
  const random = options.random ?? secureRandom;
  const clock = options.clock ?? systemClock;
  return {
    transport: {
      kind: spec.mode === "plain" ? "intermediate" : "padded",
      obfuscated: true,
      dcId,
      secret: spec.secret,
    },
    async connect(attempt) {
      const handshake = new ProxyHandshake(proxy, options.connect, attempt);
      if (spec.mode !== "ee") {
        return silentCloseNamed(await handshake.run(() => Promise.resolve()), handshake.label);
      }
      const connection = await handshake.run(() =>
        fakeTlsHello(handshake, { key: spec.secret, domain: spec.domain!, random, clock })
      );
      return silentCloseNamed(fakeTlsRecords(connection), handshake.label);
    },
  };
}

/** How errors and logs name the proxy: its kind and URL, the secret hidden. */
export function mtproxyLabel(spec: MtproxySpec): string {
  return proxyLabel({ kind: "mtproxy", ...spec });
}

/**
 * `connection`, whose end before a single byte arrived is an error naming the proxy: that is how
 * a proxy answers a secret it does not know, or a DC it does not serve.
 */
function silentCloseNamed(connection: ByteConnection, label: string): ByteConnection {
  return {
    readable: (async function* () {
      let received = false;
      for await (const chunk of connection.readable) {
        received = true;
        yield chunk;
      }
      if (!received) {
        throw new ProxyConnectionFailedError(
          label,
          "connect request",
          "it closed the connection before answering: a wrong secret, a DC it does not serve, " +
            "or not an MTProxy",
        );
      }
    })(),
    write: (bytes) => connection.write(bytes),
    close: () => connection.close(),
  };
}
