/**
 * The transports users name (`--transport`, a server object's `"transport"`): reading and writing
 * the names, apart from transport.ts and its ciphers so that checking a name before `serve`
 * listens loads none of them.
 *
 * @module
 */

import type { TransportKind } from "./framing.ts";

/** How a client frames its connection. */
export interface TransportOptions {
  kind: TransportKind;
  /** Wrap the framing in obfuscated2 (not with `full`). */
  obfuscated?: boolean;
  /** The DC id written into the obfuscation header. */
  dcId?: number;
  /**
   * An MTProxy's 16-byte secret (obfuscated only): the obfuscation keys become SHA-256(key ‖
   * secret), and `dcId` is the signed id the proxy routes by (negative for media, +10000 for
   * test DCs).
   */
  secret?: Uint8Array;
}

/** The transport names users write (`--transport`, `server.transport`), default first. */
export const TRANSPORT_NAMES = [
  "obfuscated-intermediate",
  "obfuscated-abridged",
  "obfuscated-padded",
  "intermediate",
  "abridged",
  "padded",
  "full",
] as const;

/**
 * Reads a transport name such as `abridged` or `obfuscated-padded`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransport, transportName } from "./transport_names.ts";
 * assert.deepEqual(parseTransport("obfuscated-abridged"), { kind: "abridged", obfuscated: true });
 * assert.equal(transportName({ kind: "full" }), "full");
 * ```
 */
export function parseTransport(name: string): TransportOptions {
  if (!(TRANSPORT_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`transport must be one of ${TRANSPORT_NAMES.join(", ")}; got "${name}"`);
  }
  const obfuscated = name.startsWith("obfuscated-");
  const kind = name.replace("obfuscated-", "") as TransportKind;
  return obfuscated ? { kind, obfuscated } : { kind };
}

/** The name {@link parseTransport} reads back. */
export function transportName(options: TransportOptions): string {
  return options.obfuscated ? `obfuscated-${options.kind}` : options.kind;
}
